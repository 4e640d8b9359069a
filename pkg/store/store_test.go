package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentUpdatesAreSerialised(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	type counter struct{ N int }
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := UpdateJSON(context.Background(), s, "count.json", func(c *counter) error {
				n := c.N
				time.Sleep(time.Millisecond) // widen the window a lost update would need
				c.N = n + 1
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var got counter
	if err := UpdateJSON(context.Background(), s, "count.json", func(c *counter) error { got = *c; return nil }); err != nil {
		t.Fatal(err)
	}
	if got.N != 40 {
		t.Fatalf("N = %d after 40 concurrent increments", got.N)
	}
	if fi, err := os.Stat(s.Dir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

func TestFailedUpdateWritesNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Update(ctx, "f", func([]byte) ([]byte, error) { return []byte("one"), nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.Update(ctx, "f", func([]byte) ([]byte, error) { return []byte("two"), boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := s.Read("f"); string(b) != "one" {
		t.Fatalf("content = %q, want the old one", b)
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
}

// An update that changes nothing leaves the file as it is: no new inode,
// no time stamp moved.
func TestUnchangedUpdateWritesNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type doc struct{ Records []string }
	if err := UpdateJSON(ctx, s, "d.json", func(d *doc) error { d.Records = []string{"a"}; return nil }); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir(), "d.json")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := UpdateJSON(ctx, s, "d.json", func(*doc) error { return nil }); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(old) {
		t.Fatalf("an update that changed nothing rewrote the file: mtime %s, was %s", after.ModTime(), old)
	}
	if err := UpdateJSON(ctx, s, "d.json", func(d *doc) error { d.Records = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Read("d.json"); strings.Contains(string(b), `"a"`) {
		t.Fatalf("a real change was not written: %s", b)
	}
}

func TestBadNamesAndCorruptState(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := s.Read(name); err == nil {
			t.Errorf("Read(%q) accepted", name)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "c.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = UpdateJSON(context.Background(), s, "c.json", func(*struct{}) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is corrupt") || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") accepted")
	}
}

func TestLockWaitEndsWithContext(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	go s.Update(context.Background(), "x", func([]byte) ([]byte, error) {
		close(held)
		<-release
		return nil, nil
	})
	<-held
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Update(ctx, "x", func([]byte) ([]byte, error) { return nil, nil })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another clbcert process holds it") {
		t.Fatalf("err = %v", err)
	}
}

// CheckWritable proves a write would succeed without making one, and refuses
// a name that an update could never replace.
func TestCheckWritable(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.CheckWritable(ctx, "pending.json"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil || len(entries) != 1 || entries[0].Name() != "pending.json.lock" {
		t.Fatalf("after CheckWritable the dir holds %v (%v), want only the lock Update takes too", entries, err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), "dir.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(ctx, "dir.json"); !errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), "dir.json is not a regular file") {
		t.Fatalf("a directory in the file's place: %v", err)
	}
}
