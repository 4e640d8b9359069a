package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// fsImmutable is FS_IMMUTABLE_FL of linux/fs.h: no entry of the directory
// can be created or removed, even by root.
const fsImmutable = 0x10

// readOnly makes dir unwritable for this process: by mode bits, or for root,
// which ignores them, by the immutable attribute.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsImmutable))
	}
	if err != nil {
		t.Skipf("cannot make %s read-only for root (immutable attribute: %v)", dir, err)
	}
	t.Cleanup(func() {
		f, err := os.Open(dir)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags&^fsImmutable)); err != nil {
			t.Errorf("clear the immutable attribute of %s: %v", dir, err)
		}
	})
}

// auth must find out that it could not record a record before creating it:
// exit 2 naming the state dir and the fix, and nothing created in DNSPod.
func TestUnwritableStateDir(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) string // returns the state dir to use
		wantErr string
	}{
		{name: "read-only directory", prepare: func(t *testing.T, dir string) string {
			readOnly(t, dir)
			return dir
		}, wantErr: "is not writable"},
		{name: "read-only directory of earlier runs", prepare: func(t *testing.T, dir string) string {
			for _, f := range []string{"dns01-pending.json", "dns01-pending.json.lock"} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			readOnly(t, dir)
			return dir
		}, wantErr: "is not writable"},
		{name: "pending file is a directory", prepare: func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "dns01-pending.json"), 0o700); err != nil {
				t.Fatal(err)
			}
			return dir
		}, wantErr: "dns01-pending.json is not a regular file"},
		{name: "parent is a regular file", prepare: func(t *testing.T, dir string) string {
			file := filepath.Join(dir, "file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(file, "state")
		}, wantErr: "not a directory"},
	}
	var o outputs
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.prepare(t, t.TempDir())
			env := with(hookEnv(t, sim), "CLBCERT_STATE_DIR="+dir)
			for _, args := range [][]string{{"auth"}, {"present", "_acme-challenge.example.test.", "v"}} {
				r := o.run(t, with(env, "CERTBOT_DOMAIN=example.test", "CERTBOT_VALIDATION=v", "CERTBOT_REMAINING_CHALLENGES=0"), args...)
				last := strings.TrimSpace(r.Stderr)
				if i := strings.LastIndexByte(last, '\n'); i >= 0 {
					last = last[i+1:]
				}
				if r.Code != 2 || !strings.Contains(last, tt.wantErr) || !strings.Contains(last, dir) || !strings.Contains(last, "CLBCERT_STATE_DIR") || r.Stdout != "" {
					t.Fatalf("%s: %+v\nwant exit 2 and a last line naming %s, %q and the fix", args[0], r, dir, tt.wantErr)
				}
			}
			if n := sim.Calls("CreateRecord"); n != 0 {
				t.Fatalf("CreateRecord called %d times", n)
			}
		})
	}
}
