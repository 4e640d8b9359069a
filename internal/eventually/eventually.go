// Package eventually waits, in tests, for something another goroutine or
// process brings about: a state the code under test reaches on its own
// time. It replaces hand-written poll loops, so that every such wait has a
// bound, a polling pace and a failure that says what never happened.
//
// It is for conditions the test can observe (a counter, a file, an answer
// on a socket). To wait for a time to pass in the code under test, give
// that code a fake clock instead; to check that something does not happen,
// find the event after which it could no longer happen, and wait for that.
package eventually

import (
	"errors"
	"testing"
	"time"
)

// interval is the pause between two checks: short against the waits in the
// tests (a task of 100 ms and more, a health check round), long enough not
// to starve the code under test on a busy two-core machine.
const interval = 5 * time.Millisecond

// Succeeds calls check until it returns nil. If that has not happened
// within the given time, it fails t with check's last error.
func Succeeds(t testing.TB, within time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", within, err)
			return
		}
		time.Sleep(interval)
	}
}

// True calls cond until it returns true. If that has not happened within
// the given time, it fails t saying that what did not happen.
func True(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	Succeeds(t, within, func() error {
		if cond() {
			return nil
		}
		return errors.New(what)
	})
}
