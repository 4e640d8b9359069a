package tcsim

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per action and access region with a burst equal to the
// per-second rate, which is how Tencent Cloud's frequency limits behave from the outside. It uses its own
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

// allow takes one token from the bucket of key (action's budget in one access region) if
// there is one.
func (l *rateLimiter) allow(action, key string) bool {
	rate := l.rates[action]
	if rate == 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &tokenBucket{tokens: float64(rate), last: now}
		l.buckets[key] = b
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
