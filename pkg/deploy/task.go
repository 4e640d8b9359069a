package deploy

import (
	"context"
	"log/slog"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// TaskAwaiter waits for CLB's asynchronous tasks exactly as Deploy does
// (first poll after Options.TaskPoll, growing pauses, bounded by
// Options.TaskTimeout), for the other packages that change load balancers
// (tune).
type TaskAwaiter struct{ d *Deployer }

// NewTaskAwaiter builds a TaskAwaiter; of opts only TaskPoll and
// TaskTimeout matter. Share cfg.Limiter with the calls that start tasks.
func NewTaskAwaiter(cfg tencent.Config, opts Options) (*TaskAwaiter, error) {
	c, err := newCloud(cfg)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	return &TaskAwaiter{d: &Deployer{opts: opts, cloud: c, log: slog.New(slog.DiscardHandler)}}, nil
}

// Await polls task (a change's RequestId) in region until it ends. The
// error says whether it failed (with CLB's message) or is still running.
func (a *TaskAwaiter) Await(ctx context.Context, region, task string) error {
	return a.d.await(ctx, region, task)
}
