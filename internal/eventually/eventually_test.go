package eventually_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
)

// recorder is a testing.TB whose Fatalf ends only the goroutine, as the
// real one does, and keeps the message.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder in its own goroutine and returns the failure
// message, "" if none.
func run(f func(t testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	msg := run(func(t testing.TB) {
		eventually.True(t, 10*time.Second, "the third call", func() bool { return calls.Add(1) == 3 })
	})
	if msg != "" || calls.Load() != 3 {
		t.Fatalf("failed with %q after %d calls, want success after 3", msg, calls.Load())
	}
}

func TestFailsWithTheLastError(t *testing.T) {
	tests := []struct {
		name string
		wait func(t testing.TB)
		want string
	}{
		{"Succeeds", func(t testing.TB) {
			n := 0
			eventually.Succeeds(t, 30*time.Millisecond, func() error { n++; return fmt.Errorf("attempt %d failed", n) })
		}, "failed"},
		{"True", func(t testing.TB) {
			eventually.True(t, 30*time.Millisecond, "the door opened", func() bool { return false })
		}, "not within 30ms: the door opened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := run(tt.wait); !strings.Contains(msg, tt.want) {
				t.Fatalf("failure %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// The first check comes at once: a condition that already holds costs no
// pause, and one that never holds is checked at least once.
func TestChecksAtLeastOnce(t *testing.T) {
	calls := 0
	msg := run(func(t testing.TB) {
		eventually.Succeeds(t, 0, func() error { calls++; return errors.New("no") })
	})
	if calls != 1 || msg == "" {
		t.Fatalf("%d calls, failure %q; want 1 call and a failure", calls, msg)
	}
}
