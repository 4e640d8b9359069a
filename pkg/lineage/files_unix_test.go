//go:build unix

package lineage

import (
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO where privkey.pem should be must be refused, not read: reading it
// would block until something writes to it.
func TestLoadFIFO(t *testing.T) {
	dir := copyLineage(t, "good-ecdsa")
	key := filepath.Join(dir, "privkey.pem")
	if err := syscall.Unlink(key); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(key, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	_, err := Load(dir, now)
	checkError(t, err, key, ErrInvalid, "is not a regular file (p---------)")
}
