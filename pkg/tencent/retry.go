package tencent

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how long a call may take in the worst case: at most
// MaxAttempts tries with capped exponential backoff and jitter in between,
// and no new attempt once MaxElapsed has passed.
type RetryPolicy struct {
	// MaxAttempts including the first; default 5.
	MaxAttempts int
	// MaxElapsed stops retrying once this much time has gone by since the
	// first attempt, so an API that accepts connections but never answers
	// costs a bounded time, not MaxAttempts request timeouts. Default 30 s.
	MaxElapsed time.Duration
	// Base is the first backoff; it doubles per attempt. Default 250 ms.
	Base time.Duration
	// Cap is the longest single backoff. Default 4 s.
	Cap time.Duration
}

// DefaultRetry gives a call about 7 s of backoff over 5 attempts: enough to
// ride out a burst of throttling or a brief outage, short enough that a hook
// run by certbot fails while someone can still read why.
var DefaultRetry = RetryPolicy{MaxAttempts: 5, MaxElapsed: 30 * time.Second, Base: 250 * time.Millisecond, Cap: 4 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultRetry.MaxElapsed
	}
	if p.Base <= 0 {
		p.Base = DefaultRetry.Base
	}
	if p.Cap <= 0 {
		p.Cap = DefaultRetry.Cap
	}
	return p
}

// backoff is the wait before attempt n+1 (n counts from 1): "equal jitter",
// half fixed and half random, so that concurrent callers spread out while
// each still waits long enough for a rate limit window to pass.
func (p RetryPolicy) backoff(n int, jitter func(time.Duration) time.Duration) time.Duration {
	d := p.Base << (n - 1)
	if d > p.Cap || d <= 0 {
		d = p.Cap
	}
	return d/2 + jitter(d/2)
}

func randJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

// Sleep returns after d, or with ctx's error when ctx ends first: the wall
// clock's wait of the API clients' polling and retries.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Caller runs API calls of one product under the rate limiter and the retry
// policy, and turns their failures into *Error.
type Caller struct {
	Product string
	// Host is the API host the calls go to; the rate limiter keeps a budget
	// per action and Host, as the service does per action and access region.
	Host string
	// Via is the endpoint every request is connected to instead of Host's
	// own address, "" for none; errors name it beside Host.
	Via string
	// Site is checked before each call: the international site lacks some
	// actions, and saying so beats the service's bare InvalidAction.
	Site    Site
	Source  string
	KeyHint string
	Policy  RetryPolicy
	Logger  *slog.Logger
	// Limiter is waited on before every attempt; nil sends at once.
	Limiter *Limiter

	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	jitterFn func(time.Duration) time.Duration
}

// Do calls fn until it succeeds, fails with an error that retrying cannot
// fix, or the policy's attempts are used up. Each attempt first waits for the
// action's rate limit. Network errors are retried too: every action clbcert
// calls is either read-only or safe to repeat (a repeated create is answered
// with "already exists", which the caller handles).
//
// Time spent waiting for the rate limit does not count against MaxElapsed:
// that bound is for an API that does not answer, and a call queued behind
// its own process's other calls has not yet asked.
func Do[T any](ctx context.Context, c *Caller, action string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	first := c.now()
	var queued time.Duration
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !c.Site.Has(c.Product, action) {
		return zero, &SiteError{Product: c.Product, Action: action, Site: c.Site}
	}
	for attempt := 1; ; attempt++ {
		if c.Limiter != nil {
			asked := c.now()
			if err := c.Limiter.Wait(ctx, c.Host, c.Product, action); err != nil {
				return zero, fmt.Errorf("%s:%s: %w", c.Product, action, err)
			}
			queued += c.now().Sub(asked)
		}
		start := c.now()
		resp, err := fn(ctx)
		if err == nil {
			log.Debug("api call", "product", c.Product, "action", action, "attempt", attempt, "took", c.now().Sub(start).Round(time.Millisecond), "queued", queued.Round(time.Millisecond))
			return resp, nil
		}
		if ctx.Err() != nil {
			return zero, fmt.Errorf("%s:%s: %w", c.Product, action, ctx.Err())
		}
		code, msg, reqID := sdkError(err)
		kind := Classify(code)
		log.Debug("api call failed", "product", c.Product, "action", action, "attempt", attempt, "code", code, "request_id", reqID, "took", c.now().Sub(start).Round(time.Millisecond))
		wait := c.Policy.backoff(attempt, c.jitterFn)
		if !kind.Retryable() || attempt >= c.Policy.MaxAttempts || c.now().Sub(first)-queued+wait > c.Policy.MaxElapsed {
			return zero, &Error{Product: c.Product, Action: action, Host: c.Host, Via: c.Via, Kind: kind, Code: code, Message: msg,
				RequestID: reqID, Attempts: attempt, Elapsed: c.now().Sub(first), Source: c.Source, KeyHint: c.KeyHint}
		}
		log.Info("retrying API call", "product", c.Product, "action", action, "code", code, "attempt", attempt, "wait", wait.Round(time.Millisecond))
		if err := c.sleep(ctx, wait); err != nil {
			return zero, fmt.Errorf("%s:%s: %w", c.Product, action, err)
		}
	}
}
