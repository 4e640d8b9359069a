// Package clocktest is the settable clock of tests: it moves when a test
// advances it, or when the code under test sleeps on it, never by itself.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	still bool
	slept []time.Duration
}

// New is a clock at start whose Sleep moves it, as a real sleep would. A
// clock that the SDK's requests are signed by starts at time.Now(): the
// SDK stamps them with the real time and tcsim allows 5 minutes of skew.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Still is a clock at start whose Sleep only records the duration: for
// several goroutines sleeping at once, where a moving clock would add up
// sleeps a real one runs side by side.
func Still(start time.Time) *Clock { return &Clock{now: start, still: true} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep is a sleep of d that returns at once: ctx's error if ctx is done,
// else nil, with d recorded and, unless the clock is Still, the clock moved.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if !c.still {
		c.now = c.now.Add(d)
	}
	return nil
}

// Slept is every duration Sleep recorded, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}
