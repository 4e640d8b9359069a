package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/fsnotify/fsnotify"

	"github.com/clbcert/clbcert/pkg/lineage"
)

// attach watches live/ and every lineage in it, then checks them all. While
// live/ does not exist it watches the nearest ancestor that does instead,
// and handle calls attach again on any event there: that follows
// `mkdir -p /etc/letsencrypt/live` one level at a time without polling.
func (w *Watcher) attach() error {
	for {
		dir, err := nearestDir(w.live)
		if err != nil {
			return err
		}
		if dir == w.live {
			break
		}
		if dir == w.parent {
			return nil
		}
		w.unwatchParent()
		if err := w.fsw.Add(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return watchError(dir, err)
		}
		w.parent = dir
		w.metrics.setWatching(w.live, false)
		w.log.Warn("waiting for certbot's live directory to be created", "dir", w.live, "watching", dir)
		// Loop: the next directory down may have been created before the
		// watch was in place, and its event is then lost.
	}
	w.unwatchParent()
	if err := w.fsw.Add(w.live); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return w.attach()
		}
		return watchError(w.live, err)
	}
	w.attached = true
	w.metrics.setWatching(w.live, true)
	w.log.Info("watching certbot's live directory", "dir", w.live)
	return w.rescan()
}

func (w *Watcher) unwatchParent() {
	if w.parent != "" {
		// The watch is gone already if the directory was removed.
		_ = w.fsw.Remove(w.parent)
		w.parent = ""
	}
}

// detach forgets live/ and its lineages after live/ itself went away.
func (w *Watcher) detach() {
	w.attached = false
	w.metrics.setWatching(w.live, false)
	_ = w.fsw.Remove(w.live)
	for name := range w.lineages {
		w.drop(name)
	}
}

// nearestDir is path, or its nearest ancestor that exists.
func nearestDir(path string) (string, error) {
	for {
		fi, err := os.Stat(path)
		switch {
		case err == nil && fi.IsDir():
			return path, nil
		case err == nil:
			return "", fmt.Errorf("%s is not a directory: %w", path, lineage.ErrNoCertbotDir)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return "", watchError(path, err)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return "", fmt.Errorf("no directory on the way to %s exists", path)
		}
		path = parent
	}
}

// rescan brings the set of watched lineages in line with live/ and checks
// every one at once: at start, after live/ reappeared, after lost events.
func (w *Watcher) rescan() error {
	entries, err := os.ReadDir(w.live)
	if errors.Is(err, fs.ErrNotExist) {
		w.detach()
		return w.attach()
	}
	if err != nil {
		return watchError(w.live, err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		ok, err := w.add(e.Name())
		if err != nil {
			return err
		}
		present[e.Name()] = ok
	}
	for name := range w.lineages {
		if !present[name] {
			w.log.Info("lineage left live/", "lineage", name)
			w.drop(name)
		}
	}
	w.reconcile()
	return nil
}

// reconcile checks every lineage now, cancelling pending quiet periods and
// retry waits.
func (w *Watcher) reconcile() {
	for _, name := range slices.Sorted(maps.Keys(w.lineages)) {
		t := w.lineages[name]
		if t.stopTimer != nil {
			t.stopTimer()
			t.stopTimer = nil
		}
		t.gen++
		w.check(name, t)
	}
}

// add starts tracking live/NAME if it is a directory, reporting whether it is.
func (w *Watcher) add(name string) (bool, error) {
	if _, ok := w.lineages[name]; ok {
		return true, nil
	}
	dir := filepath.Join(w.live, name)
	// Stat, not Lstat: a lineage directory may be a symlink; live/README,
	// which certbot writes there, is not a directory.
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false, nil
	}
	if err := w.fsw.Add(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, watchError(dir, err)
	}
	w.lineages[name] = &tracked{}
	if d, ok := w.deployed[name]; ok {
		w.metrics.setSuccess(name, d.At)
	}
	return true, nil
}

// drop stops tracking a lineage; a deployment of it in flight still
// finishes and is recorded.
func (w *Watcher) drop(name string) {
	t, ok := w.lineages[name]
	if !ok {
		return
	}
	if t.stopTimer != nil {
		t.stopTimer()
	}
	_ = w.fsw.Remove(filepath.Join(w.live, name))
	delete(w.lineages, name)
	w.metrics.forget(name)
}

// handle reacts to one inotify event.
func (w *Watcher) handle(ev fsnotify.Event) error {
	if !w.attached {
		return w.attach()
	}
	if ev.Op == fsnotify.Chmod {
		// certbot changes no modes while swapping; a chmod by a person
		// changes no certificate.
		return nil
	}
	w.log.Debug("inotify", "event", ev.String())
	dir := filepath.Dir(ev.Name)
	switch {
	case ev.Name == w.live:
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.log.Warn("certbot's live directory went away; waiting for it to come back", "dir", w.live)
			w.detach()
			return w.attach()
		}
	case dir == w.live:
		name := filepath.Base(ev.Name)
		switch {
		case ev.Has(fsnotify.Create):
			ok, err := w.add(name)
			if err != nil || !ok {
				return err
			}
			// The lineage's own events before its watch was added are lost;
			// the quiet period starts now instead.
			w.log.Info("new lineage in live/", "lineage", name)
			w.after(name, w.lineages[name], w.opts.Quiet)
		case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
			if _, ok := w.lineages[name]; ok {
				w.log.Info("lineage left live/", "lineage", name)
				w.drop(name)
			}
		}
	case filepath.Dir(dir) == w.live:
		name := filepath.Base(dir)
		if t := w.lineages[name]; t != nil {
			w.after(name, t, w.opts.Quiet)
		}
	}
	return nil
}

// onError handles an error from inotify. Lost events are made up for by
// looking at everything again; the rest are logged.
func (w *Watcher) onError(err error) error {
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Error("inotify", "err", err)
		return nil
	}
	w.log.Warn("inotify dropped events (queue overflow): checking every lineage again; if this repeats, raise fs.inotify.max_queued_events, e.g. sysctl -w fs.inotify.max_queued_events=65536")
	if !w.attached {
		return w.attach()
	}
	return w.rescan()
}

// previousLinks lists the previous_*.pem backup links certbot keeps while
// it swaps a lineage's links.
func previousLinks(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "previous_") && strings.HasSuffix(e.Name(), ".pem") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// watchError says what to do about a failure to watch path; an inotify
// limit gets the sysctl that raises it.
func watchError(path string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("cannot watch %s: the inotify watch limit fs.inotify.max_user_watches is reached: raise it, e.g. sysctl -w fs.inotify.max_user_watches=524288, and keep it in /etc/sysctl.d/: %w", path, err)
	case errors.Is(err, syscall.EMFILE):
		return fmt.Errorf("cannot watch %s: too many inotify instances (fs.inotify.max_user_instances) or open files: raise it, e.g. sysctl -w fs.inotify.max_user_instances=512, and keep it in /etc/sysctl.d/: %w", path, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot watch %s: permission denied: run clbcert-watch as root or as the user that owns certbot's files: %w", path, err)
	}
	return fmt.Errorf("cannot watch %s: %w", path, err)
}
