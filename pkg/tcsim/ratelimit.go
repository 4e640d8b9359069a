package tcsim

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per action with a burst equal to the per-second rate, which
// is how Tencent Cloud's per-action frequency limits behave from the outside. It uses its own
// clock (real time in the simulator) so that tests which freeze the simulated clock do not
// freeze the buckets too.
type rateLimiter struct {
	now   func() time.Time
	rates map[string]int

	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rates map[string]int, now func() time.Time) *rateLimiter {
	copied := make(map[string]int, len(rates))
	for action, rate := range rates {
		if rate > 0 {
			copied[action] = rate
		}
	}
	return &rateLimiter{now: now, rates: copied, buckets: map[string]*tokenBucket{}}
}

// rate is the configured limit of action; 0 means unlimited.
func (l *rateLimiter) rate(action string) int { return l.rates[action] }

// allow takes one token from the action's bucket if there is one.
func (l *rateLimiter) allow(action string) bool {
	rate := l.rates[action]
	if rate == 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[action]
	if !ok {
		b = &tokenBucket{tokens: float64(rate), last: now}
		l.buckets[action] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(float64(rate), b.tokens+elapsed*float64(rate))
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
