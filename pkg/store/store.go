// Package store keeps clbcert's small state files (pending DNS records,
// what was deployed where) in one directory: every write is atomic and every
// read-modify-write holds an exclusive lock, so concurrent hook processes and
// a kill at any moment leave either the old or the new content, never a mix.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Store is a directory of named state files.
type Store struct {
	dir string
}

// ErrNoDir is Open's answer to no directory at all.
var ErrNoDir = errors.New("no state directory given")

// Open creates dir (mode 0700: state names domains and record ids) if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, ErrNoDir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory %s: %w: %w", dir, ErrNotWritable, err)
	}
	return &Store{dir: dir}, nil
}

// RemoveTemp deletes what a writer of name killed before its rename left
// behind. It holds name's lock, so no live writer's file is taken.
func (s *Store) RemoveTemp(ctx context.Context, name string) error {
	return s.locked(ctx, name, func(string) error {
		left, err := filepath.Glob(filepath.Join(s.dir, tempPattern(name)))
		if err != nil {
			return err
		}
		for _, f := range left {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove a killed run's temp file: %w", err)
			}
		}
		return nil
	})
}

// locked runs fn with the path of name while holding name's lock, the one
// every read-modify-write of name takes.
func (s *Store) locked(ctx context.Context, name string, fn func(p string) error) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	unlock, err := lock(ctx, p+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	return fn(p)
}

// tempPattern is what writeAtomic's temp files of name look like: hidden,
// so that a listing of the state files never shows them.
func tempPattern(name string) string {
	return "." + name + ".tmp*"
}

// Dir is the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("invalid state file name %q", name)
	}
	return filepath.Join(s.dir, name), nil
}

// Read returns the content of name, or nil if it does not exist yet.
func (s *Store) Read(name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// Update calls fn with the current content of name (nil if none) while
// holding name's lock, and atomically replaces the content with what fn
// returns. If fn fails, or returns the content unchanged, nothing is
// written: a hook that only looks for leftovers pays no synced write.
func (s *Store) Update(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) error {
	return s.locked(ctx, name, func(p string) error {
		old, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read state %s: %w", p, err)
		}
		data, err := fn(old)
		if err != nil || bytes.Equal(data, old) {
			return err
		}
		return writeAtomic(p, data)
	})
}

// ErrNotWritable is wrapped by CheckWritable's errors.
var ErrNotWritable = errors.New("not writable")

// CheckWritable makes sure that name could be updated now — its lock taken,
// a new version written beside it — without changing it: for a caller that
// must not change anything elsewhere that it then could not record here.
func (s *Store) CheckWritable(ctx context.Context, name string) error {
	err := s.locked(ctx, name, func(p string) error {
		if info, err := os.Stat(p); err == nil && !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (move it aside)", p)
		}
		tmp, err := os.CreateTemp(s.dir, tempPattern(name))
		if err != nil {
			return err
		}
		tmp.Close()
		return os.Remove(tmp.Name())
	})
	if err != nil {
		return fmt.Errorf("state directory %s is %w: %w", s.dir, ErrNotWritable, err)
	}
	return nil
}

// ReadJSON decodes the JSON document name into v; a missing file leaves v as is.
func ReadJSON(s *Store, name string, v any) error {
	b, err := s.Read(name)
	if err != nil || len(b) == 0 {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return corrupt(s, name, err)
	}
	return nil
}

func corrupt(s *Store, name string, err error) error {
	return fmt.Errorf("state file %s is corrupt (%v): move it aside and run again", filepath.Join(s.dir, name), err)
}

// UpdateJSON is Update for a JSON document decoded into T.
func UpdateJSON[T any](ctx context.Context, s *Store, name string, fn func(*T) error) error {
	return s.Update(ctx, name, func(old []byte) ([]byte, error) {
		var v T
		if len(old) > 0 {
			if err := json.Unmarshal(old, &v); err != nil {
				return nil, corrupt(s, name, err)
			}
		}
		if err := fn(&v); err != nil {
			return nil, err
		}
		return json.MarshalIndent(v, "", "  ")
	})
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPattern(filepath.Base(path)))
	if err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	// The rename is durable only once the directory entry is.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Lock holds name's lock until the returned function is called: for work
// longer than one Update, such as a whole deployment of a lineage. It is a
// different lock from the one Update takes on the same name.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	return lock(ctx, p+".run.lock")
}

// lock takes an exclusive flock on path, polling so that ctx can end the
// wait; the kernel drops the lock if the process dies, so a killed hook never
// leaves a stale lock behind.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock state %s: %w", path, err)
	}
	wait := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock state %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock state %s: another clbcert process holds it: %w", path, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
