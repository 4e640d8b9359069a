// Package installtest holds what the tests of install.sh (scripts/install)
// and of the release (scripts/release) both check: the programs under
// hooks/, the tree an install puts under a destdir, and trees listed and
// compared line by line.
package installtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Root is the source tree: the nearest directory above the test's working
// directory that holds go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// Commands are the programs of an install or a release: every command
// under the source tree's hooks/.
func Commands(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(Root(t), "hooks"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if !slices.Contains(names, "clbcert-deploy") {
		t.Fatalf("hooks/ holds %q, not clbcert-deploy and the other commands", names)
	}
	return names
}

// Node is what a tree walk sees of one path. Mode holds the type bits
// (fs.ModeDir, fs.ModeSymlink) and the permissions; Sum and ModTime are
// set by Snapshot only.
type Node struct {
	Mode    fs.FileMode
	Sum     string
	ModTime time.Time
}

// String is the node's kind (d, f or l) and permissions, as "d 0755".
func (n Node) String() string {
	kind := "l"
	switch {
	case n.Mode.IsDir():
		kind = "d"
	case n.Mode.IsRegular():
		kind = "f"
	}
	return fmt.Sprintf("%s %04o", kind, n.Mode.Perm())
}

// Tree maps slash-separated paths relative to a root to their nodes.
type Tree map[string]Node

// File adds the file p with the permissions mode, and its parent
// directories, mode 0755, up to the root.
func (tr Tree) File(p string, mode fs.FileMode) {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		tr[d] = Node{Mode: fs.ModeDir | 0o755}
	}
	tr[p] = Node{Mode: mode}
}

// Listing is the tree as sorted "path kind mode" lines.
func (tr Tree) Listing() []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(tr)) {
		out = append(out, p+" "+tr[p].String())
	}
	return out
}

// Installed is what install.sh --prefix /usr/local puts into an empty
// destdir for the programs names, without --renewal-hook or
// --certbot-timer.
func Installed(names []string) Tree {
	want := Tree{}
	for _, b := range names {
		want.File("usr/local/bin/"+b, 0o755)
		want.File("usr/local/share/man/man1/"+b+".1", 0o644)
		want.File("usr/local/share/bash-completion/completions/"+b, 0o644)
		want.File("usr/local/share/zsh/site-functions/_"+b, 0o644)
	}
	want.File("usr/local/share/clbcert/install-manifest", 0o644)
	want.File("etc/clbcert/config.toml", 0o600)
	want.File("etc/systemd/system/clbcert-watch.service", 0o644)
	return want
}

// Snapshot walks root (without root itself): every path's type,
// permissions and time stamp, and each regular file's SHA-256.
func Snapshot(t testing.TB, root string) Tree {
	t.Helper()
	tree := Tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		n := Node{Mode: info.Mode().Type() | info.Mode().Perm(), ModTime: info.ModTime()}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			n.Sum = hex.EncodeToString(h[:])
		}
		tree[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// DiffLines names the lines of want missing from got, then those of got
// not in want; it is empty when both hold the same lines.
func DiffLines(got, want []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "  missing: %s\n", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "  extra:   %s\n", l)
		}
	}
	return b.String()
}
