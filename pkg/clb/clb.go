// Package clb is clbcert's one way to Tencent Cloud's load balancer API: it
// alone imports the CLB SDK module. Every call goes to the region's own API
// host, through tencent.Do with the process's shared rate limiter, and every
// change is an asynchronous CLB task that Await follows to its end.
package clb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// Options tunes how CLB's asynchronous tasks are followed.
type Options struct {
	// TaskTimeout bounds the wait for one task, and the wait for a load
	// balancer busy with another task. Default 2 min.
	TaskTimeout time.Duration
	// TaskPoll is how long after starting a task its status is first asked
	// for; later pauses grow by half up to 2 s. Default 500 ms: a task is
	// never done sooner, and every early poll spends DescribeTaskStatus
	// budget that the other load balancers' tasks need.
	TaskPoll time.Duration
	// Logger receives a line when a busy load balancer is waited for; nil
	// discards it.
	Logger *slog.Logger
}

// withDefaults gives every unset option its default; a negative duration counts as unset.
func (o Options) withDefaults() Options {
	o.TaskTimeout = cmp.Or(max(o.TaskTimeout, 0), 2*time.Minute)
	o.TaskPoll = cmp.Or(max(o.TaskPoll, 0), 500*time.Millisecond)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	return o
}

// Client calls CLB in any region; safe for concurrent use.
type Client struct {
	cfg  tencent.Config
	opts Options

	mu      sync.Mutex
	regions map[string]tencent.API[*clbsdk.Client]
}

// New returns a Client. Share cfg.Limiter with everything else in the
// process that calls the same account.
func New(cfg tencent.Config, opts Options) *Client {
	return &Client{cfg: cfg, opts: opts.withDefaults(), regions: map[string]tencent.API[*clbsdk.Client]{}}
}

// in returns region's client, built on first use.
func (c *Client) in(region string) (tencent.API[*clbsdk.Client], error) {
	if region == "" {
		return tencent.API[*clbsdk.Client]{}, fmt.Errorf("create CLB client: %w", tencent.ErrNoRegion)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if api, ok := c.regions[region]; ok {
		return api, nil
	}
	api, err := tencent.NewAPI(c.cfg, "clb", region, clbsdk.NewClient)
	if err != nil {
		return api, fmt.Errorf("create CLB client for %s: %w", region, err)
	}
	c.regions[region] = api
	return api, nil
}

// call runs one CLB action in region through tencent.Call.
func call[Req any, Resp any](ctx context.Context, c *Client, region, action string, req Req, send func(*clbsdk.Client, context.Context, Req) (Resp, error)) (Resp, error) {
	api, err := c.in(region)
	if err != nil {
		var zero Resp
		return zero, err
	}
	return tencent.Call(ctx, api, action, req, send)
}

// ErrInterrupted marks a wait stopped by the caller (SIGINT, SIGTERM): a
// task already submitted finishes on its own.
var ErrInterrupted = errors.New("interrupted")

func interrupted(ctx context.Context) error {
	return fmt.Errorf("%w (%w)", ErrInterrupted, context.Cause(ctx))
}

// WhenIdle runs start, a change to load balancer lb, and while CLB answers
// that lb is busy with another task (ResourceInOperating, still so after
// the API retries) runs it again after the pauses of Await, for up to
// TaskTimeout. The other task is often a killed run's, which CLB finishes on
// its own: waiting it out is what makes "running again finishes the job"
// hold however slow CLB's tasks are (TestRerunWaitsOutAnOrphanedTask).
func (c *Client) WhenIdle(ctx context.Context, lb string, start func(context.Context) (string, error)) (string, error) {
	wctx, cancel := context.WithTimeout(ctx, c.opts.TaskTimeout)
	defer cancel()
	for wait := c.opts.TaskPoll; ; wait = next(wait) {
		task, err := start(ctx)
		if tencent.KindOf(err) != tencent.KindBusy {
			return task, err
		}
		c.opts.Logger.Info("load balancer busy with another task; waiting", "lb", lb, "wait", wait)
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return "", interrupted(ctx)
			}
			return "", fmt.Errorf("load balancer %s stayed busy with another CLB task for %s (a killed run's, or another tool's): wait for it to end, then run again", lb, c.opts.TaskTimeout)
		case <-time.After(wait):
		}
	}
}

func next(wait time.Duration) time.Duration { return min(wait*3/2, 2*time.Second) }

// Await polls task (a change's RequestId) in region until it ends, within
// TaskTimeout. Stopped by ctx, it says the task runs on (ErrInterrupted),
// not that it timed out.
func (c *Client) Await(ctx context.Context, region, task string) error {
	tctx, cancel := context.WithTimeout(ctx, c.opts.TaskTimeout)
	defer cancel()
	// stopped is why the wait ended with tctx, which a status call (held by
	// the rate limiter, say) can meet as well as the pause between calls.
	stopped := func() error {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while CLB task %s runs: it finishes on its own", interrupted(ctx), task)
		}
		return fmt.Errorf("CLB task %s still running after %s: check the load balancer in the CLB console, then run again", task, c.opts.TaskTimeout)
	}
	for wait := c.opts.TaskPoll; ; wait = next(wait) {
		select {
		case <-tctx.Done():
			return stopped()
		case <-time.After(wait):
		}
		status, msg, err := c.taskStatus(tctx, region, task)
		if err != nil {
			if tctx.Err() != nil {
				return stopped()
			}
			return fmt.Errorf("task %s: %w", task, err)
		}
		switch status {
		case taskSucceeded:
			return nil
		case taskFailed:
			return fmt.Errorf("CLB task %s failed: %s", task, msg)
		}
	}
}

// DescribeTaskStatus's Status values.
const (
	taskSucceeded = 0
	taskFailed    = 1
)

func (c *Client) taskStatus(ctx context.Context, region, task string) (int64, string, error) {
	req := clbsdk.NewDescribeTaskStatusRequest()
	req.TaskId = &task
	resp, err := call(ctx, c, region, "DescribeTaskStatus", req, (*clbsdk.Client).DescribeTaskStatusWithContext)
	if err != nil {
		return 0, "", err
	}
	return tencent.Deref(resp.Response.Status), tencent.Deref(resp.Response.Message), nil
}
