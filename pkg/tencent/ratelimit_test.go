package tencent

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/clbcert/clbcert/internal/clocktest"
)

// epoch is where the tests' clocks start: nothing here signs a request.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func fakeLimiter(overrides map[string]Rate, clock *clocktest.Clock) *Limiter {
	l := NewLimiter(overrides)
	l.now, l.sleep = clock.Now, clock.Sleep
	return l
}

func TestDefaultRate(t *testing.T) {
	tests := []struct {
		product, action string
		want            float64
	}{
		{"clb", "ModifyListener", 20},
		{"clb", "DescribeTaskStatus", 20},
		{"ssl", "UploadCertificate", 10},
		{"ssl", "DescribeCertificates", 10},
		{"dnspod", "CreateRecord", 500},
		{"dnspod", "DeleteRecord", 500},
		{"dnspod", "ModifyRecord", 500},
		{"dnspod", "DescribeRecordList", 100},
		{"dnspod", "DescribeRecord", 200},
		{"dnspod", "DescribeDomainList", 20},
		{"cvm", "DescribeInstances", 20},
	}
	for _, tt := range tests {
		if got := DefaultRate(tt.product, tt.action); got != (Rate{PerSecond: tt.want}) {
			t.Errorf("DefaultRate(%s, %s) = %+v, want %v/s", tt.product, tt.action, got, tt.want)
		}
	}
}

func TestLimiterSpacesCalls(t *testing.T) {
	type call struct {
		at              time.Duration // since the start
		product, action string
		wait            time.Duration
	}
	ms := time.Millisecond
	one := func(perSecond float64) Rate { return Rate{PerSecond: perSecond, Burst: 1} }
	tests := []struct {
		name      string
		overrides map[string]Rate
		calls     []call
	}{
		{name: "CLB by default: 20/s with a quarter second's burst", calls: []call{
			{0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 0},
			{0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 50 * ms}, {0, "clb", "ModifyListener", 100 * ms}}},
		{name: "SSL by default: 10/s with a burst of 2", calls: []call{
			{0, "ssl", "UploadCertificate", 0}, {0, "ssl", "UploadCertificate", 0}, {0, "ssl", "UploadCertificate", 100 * ms}}},
		{name: "actions have budgets of their own", overrides: map[string]Rate{"clb": one(20)}, calls: []call{
			{0, "clb", "ModifyListener", 0}, {0, "clb", "DescribeTaskStatus", 0}, {0, "clb", "ModifyListener", 50 * ms},
			{0, "clb", "ModifyDomainAttributes", 0}, {0, "ssl", "ModifyListener", 0}}},
		{name: "a caller that keeps the pace never waits", overrides: map[string]Rate{"clb": one(20)}, calls: []call{
			{0, "clb", "DescribeListeners", 0}, {50 * ms, "clb", "DescribeListeners", 0}, {120 * ms, "clb", "DescribeListeners", 0}}},
		{name: "a caller ahead of the pace waits for its slot", overrides: map[string]Rate{"clb": one(20)}, calls: []call{
			{0, "clb", "DescribeListeners", 0}, {10 * ms, "clb", "DescribeListeners", 40 * ms}, {20 * ms, "clb", "DescribeListeners", 80 * ms}}},
		{name: "an action's override wins over its product's", overrides: map[string]Rate{"clb": one(5), "clb:DescribeTaskStatus": one(40)}, calls: []call{
			{0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 200 * ms},
			{0, "clb", "DescribeTaskStatus", 0}, {0, "clb", "DescribeTaskStatus", 25 * ms}}},
		{name: "under one a second", overrides: map[string]Rate{"ssl": {PerSecond: 0.5}}, calls: []call{
			{0, "ssl", "DeleteCertificate", 0}, {0, "ssl", "DeleteCertificate", 2 * time.Second}}},
		{name: "a rate of 0 is no limit", overrides: map[string]Rate{"ssl": {}}, calls: []call{
			{0, "ssl", "UploadCertificate", 0}, {0, "ssl", "UploadCertificate", 0}, {0, "ssl", "UploadCertificate", 0}}},
		{name: "a burst goes at once, and a quiet spell refills it no further", overrides: map[string]Rate{"clb": {PerSecond: 10, Burst: 3}}, calls: []call{
			{0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 0}, {0, "clb", "ModifyListener", 100 * ms},
			{time.Second, "clb", "ModifyListener", 0}, {time.Second, "clb", "ModifyListener", 0}, {time.Second, "clb", "ModifyListener", 0},
			{time.Second, "clb", "ModifyListener", 100 * ms}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := clocktest.Still(epoch)
			start := clock.Now()
			l := fakeLimiter(tt.overrides, clock)
			for i, c := range tt.calls {
				clock.Advance(start.Add(c.at).Sub(clock.Now()))
				before := len(clock.Slept())
				if err := l.Wait(context.Background(), c.product+".tencentcloudapi.com", c.product, c.action); err != nil {
					t.Fatal(err)
				}
				var got time.Duration
				if s := clock.Slept(); len(s) > before {
					got = s[before]
				}
				if got != c.wait {
					t.Fatalf("call %d (%s:%s at %v) waited %v, want %v", i, c.product, c.action, c.at, got, c.wait)
				}
			}
		})
	}
}

// However many goroutines ask at once, each gets a slot of its own: no two
// calls of an action share one, and none is skipped.
func TestLimiterConcurrentCallers(t *testing.T) {
	const n, burst = 100, 5 // CLB's default burst
	clock := clocktest.Still(epoch)
	l := fakeLimiter(nil, clock)
	var wg sync.WaitGroup
	for range n {
		for _, action := range []string{"ModifyListener", "DescribeTaskStatus"} {
			wg.Go(func() {
				if err := l.Wait(context.Background(), "clb.tencentcloudapi.com", "clb", action); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	got := clock.Slept()
	slices.Sort(got)
	var want []time.Duration
	for i := 1; i <= n-burst; i++ {
		want = append(want, time.Duration(i)*50*time.Millisecond, time.Duration(i)*50*time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("waits %v,\nwant two of each of 50ms … %v (the first %d calls per action go at once)", got, want[len(want)-1], burst)
	}
}

func TestLimiterWaitEndsWithContext(t *testing.T) {
	t.Run("a waiting call returns when its context ends", func(t *testing.T) {
		l := NewLimiter(map[string]Rate{"clb": {PerSecond: 1.0 / 3600}})
		if err := l.Wait(context.Background(), "clb.tencentcloudapi.com", "clb", "ModifyListener"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- l.Wait(ctx, "clb.tencentcloudapi.com", "clb", "ModifyListener") }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("an ended context takes no slot", func(t *testing.T) {
		clock := clocktest.Still(epoch)
		l := fakeLimiter(map[string]Rate{"clb": {PerSecond: 20, Burst: 1}}, clock)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.Wait(context.Background(), "clb.tencentcloudapi.com", "clb", "ModifyListener"); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(ctx, "clb.tencentcloudapi.com", "clb", "ModifyListener"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if err := l.Wait(context.Background(), "clb.tencentcloudapi.com", "clb", "ModifyListener"); err != nil {
			t.Fatal(err)
		}
		if got := clock.Slept(); !slices.Equal(got, []time.Duration{50 * time.Millisecond}) {
			t.Fatalf("waits %v, want [50ms]: the cancelled call must not have taken a slot", got)
		}
	})
}

// Do waits for the limiter before every attempt, retries included, and the
// time spent queued there does not use up MaxElapsed.
func TestDoWaitsForTheLimiter(t *testing.T) {
	clock := clocktest.New(epoch)
	var waits []time.Duration
	c := testCaller(&waits)
	c.now = clock.Now
	c.sleep = clock.Sleep
	c.Limiter = fakeLimiter(map[string]Rate{"dnspod": {PerSecond: 1}}, clock)
	c.Policy = RetryPolicy{MaxAttempts: 5, MaxElapsed: time.Second, Base: 250 * time.Millisecond, Cap: time.Second}
	calls := 0
	_, err := Do(context.Background(), c, "CreateRecord", func(context.Context) (int, error) {
		calls++
		if calls < 3 {
			return 0, tcerr.NewTencentCloudSDKError("RequestLimitExceeded", "", "")
		}
		return 1, nil
	})
	if err != nil {
		t.Fatalf("err = %v: queueing for the limiter counted against MaxElapsed", err)
	}
	// Attempt 1 at 0 s; backoff 250 ms; attempt 2 waits for its slot at 1 s;
	// backoff 500 ms; attempt 3 waits for its slot at 2 s.
	want := []time.Duration{250 * time.Millisecond, 750 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}
	if got := clock.Slept(); calls != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d calls, sleeps %v; want 3 calls and %v", calls, got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Do(ctx, c, "CreateRecord", func(context.Context) (int, error) {
		t.Fatal("called with an ended context")
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// The service counts each action's calls per access region, the host a call
// reaches: regional hosts have a budget each, the plain host one of its own.
func TestLimiterBudgetPerAccessRegion(t *testing.T) {
	clock := clocktest.Still(epoch)
	l := fakeLimiter(map[string]Rate{"clb": {PerSecond: 20, Burst: 1}}, clock)
	calls := []struct {
		host string
		wait time.Duration
	}{
		{"clb.ap-guangzhou.tencentcloudapi.com", 0},
		{"clb.ap-shanghai.tencentcloudapi.com", 0},
		{"clb.tencentcloudapi.com", 0},
		{"clb.ap-guangzhou.tencentcloudapi.com", 50 * time.Millisecond},
		{"clb.ap-shanghai.tencentcloudapi.com", 50 * time.Millisecond},
	}
	for i, c := range calls {
		before := len(clock.Slept())
		if err := l.Wait(context.Background(), c.host, "clb", "ModifyListener"); err != nil {
			t.Fatal(err)
		}
		var got time.Duration
		if s := clock.Slept(); len(s) > before {
			got = s[before]
		}
		if got != c.wait {
			t.Fatalf("call %d through %s waited %v, want %v", i, c.host, got, c.wait)
		}
	}
}
