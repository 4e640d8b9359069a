package tencent

import (
	"context"
	"sync"
	"time"
)

// Rate is a request budget for one action.
type Rate struct {
	// PerSecond is the sustained rate; 0 or less means no limit.
	PerSecond float64
	// Burst is how many calls may go out at once after a quiet spell; 0
	// means a quarter of a second's worth, at least 1. Keep it well under
	// the service's own burst (one second's worth, as tcsim models it):
	// the service's bucket refills at the same rate as ours, so what we
	// send in a burst arrives in one and leaves its bucket with only the
	// difference to absorb network jitter — 3/4 s of it by default, where
	// a burst as large as the service's would leave none.
	Burst int
}

// DefaultRate is Tencent Cloud's documented limit for an action (see
// docs/tencentcloud-api.md): CLB 20/s per action; SSL 10/s; DNSPod 500/s
// for record changes, 100/s for DescribeRecordList, 200/s for
// DescribeRecord, 20/s for the rest; 20/s for anything else.
func DefaultRate(product, action string) Rate {
	switch product {
	case "ssl":
		return Rate{PerSecond: 10}
	case "dnspod":
		switch action {
		case "CreateRecord", "DeleteRecord", "ModifyRecord":
			return Rate{PerSecond: 500}
		case "DescribeRecordList":
			return Rate{PerSecond: 100}
		case "DescribeRecord":
			return Rate{PerSecond: 200}
		}
	}
	return Rate{PerSecond: 20}
}

// Limiter spaces API calls so that they stay under Tencent Cloud's
// per-action rate limits, however many goroutines make them. The service
// counts each limit per action and access region — the region of the API
// server a request reaches, which is its host: clb.ap-guangzhou.… and
// clb.ap-shanghai.… have a budget each, while every call through the plain
// clb.tencentcloudapi.com shares one whatever its Region parameter
// (docs/tencentcloud-api.md §0). The limiter keeps one bucket per action and
// host the same way. Calls wait in the order they asked (no starvation), and
// a call that is throttled anyway is still retried by Do.
//
// A Limiter is safe for concurrent use; share one between everything in a
// process that calls the same account.
type Limiter struct {
	overrides map[string]Rate
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is a token bucket kept as the GCRA keeps it: one timestamp instead
// of a token count, which makes "when may the next call go" a subtraction
// and lets a waiter reserve its slot and sleep without holding the lock.
type bucket struct {
	unlimited bool
	interval  time.Duration // 1 / rate
	tolerance time.Duration // (burst − 1) × interval
	// next is when the following call may go with a burst of 1 (GCRA's
	// theoretical arrival time); a larger burst lets it go tolerance earlier.
	next time.Time
}

// NewLimiter returns a Limiter at DefaultRate, except where overrides says
// otherwise: a key "product" (e.g. "clb") sets every action of the product,
// "product:Action" (e.g. "clb:DescribeTaskStatus") one action, and the
// action's entry wins. Nil overrides means the defaults throughout.
func NewLimiter(overrides map[string]Rate) *Limiter {
	copied := make(map[string]Rate, len(overrides))
	for k, r := range overrides {
		copied[k] = r
	}
	return &Limiter{overrides: copied, now: time.Now, sleep: Sleep, buckets: map[string]*bucket{}}
}

// rate is the budget the limiter applies to product's action.
func (l *Limiter) rate(product, action string) Rate {
	if r, ok := l.overrides[product+":"+action]; ok {
		return r
	}
	if r, ok := l.overrides[product]; ok {
		return r
	}
	return DefaultRate(product, action)
}

// Wait blocks until a call to product's action through host may be sent,
// or ctx ends. A
// wait that ctx ends keeps its slot: the limiter only grows more cautious,
// and an ended context usually ends the run anyway.
func (l *Limiter) Wait(ctx context.Context, host, product, action string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d := l.reserve(host, product, action); d > 0 {
		return l.sleep(ctx, d)
	}
	return nil
}

// reserve takes the next free slot of the action's bucket at host and
// returns how long until it comes.
func (l *Limiter) reserve(host, product, action string) time.Duration {
	key := host + " " + product + ":" + action
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = newBucket(l.rate(product, action))
		l.buckets[key] = b
	}
	if b.unlimited {
		return 0
	}
	now := l.now()
	at := b.next.Add(-b.tolerance)
	if at.Before(now) {
		at = now
	}
	if b.next.Before(now) {
		b.next = now
	}
	b.next = b.next.Add(b.interval)
	return at.Sub(now)
}

func newBucket(r Rate) *bucket {
	if r.PerSecond <= 0 {
		return &bucket{unlimited: true}
	}
	burst := r.Burst
	if burst <= 0 {
		burst = max(1, int(r.PerSecond/4))
	}
	interval := time.Duration(float64(time.Second) / r.PerSecond)
	return &bucket{interval: interval, tolerance: time.Duration(burst-1) * interval}
}
