// Package deploy puts a certbot lineage onto Tencent Cloud: it uploads the
// certificate to the SSL service once, binds it to every CLB listener and SNI
// domain that should serve it, waits for CLB's asynchronous tasks, checks
// what is really served, prunes superseded uploads and reports. It also
// rolls a lineage's targets back to the certificates they had before
// (Rollback) and prunes on its own (Prune), with the same binding, waiting
// and checking. What it reads of load balancers comes from pkg/inventory.
package deploy

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Options tunes a Deployer. Zero values take the defaults given per field.
type Options struct {
	// Regions are the CLB regions to discover targets in (or find pinned ones).
	Regions []string
	// Products are the products whose resources follow the lineage, by the
	// SSL service's names: "clb" takes CLB's own path (Targets, Regions);
	// the resources of every other product (cdn, teo, waf, cos, ...) that
	// hold an older certificate of the lineage's names move to the new
	// upload through the SSL service. Default: clb alone.
	Products []string
	// Targets pins the targets; empty means discovery: every TLS listener and
	// SNI domain whose current certificate's names the new one covers.
	Targets []clb.Address
	// Keep is how many superseded uploads of the lineage stay in the SSL
	// service after a deployment (or a prune); the rest are deleted if no
	// load balancer uses them and no recorded rollback needs them. Default
	// 2: enough to roll back twice; KeepNone keeps none.
	Keep int
	// DryRun computes and reports the plan with read-only calls only. It
	// fails where the deployment would fail before its first change.
	DryRun bool
	// Force replaces a target's certificate even when it expires later than
	// the new one and has the same key algorithm. Without it such a target
	// keeps its certificate (StatusKept): two lineages for the same names
	// (certbot's NAME and NAME-0001) would otherwise take turns replacing
	// each other's newer certificate with an older one.
	Force bool
	// UploadAnyway uploads the certificate when no target serves a
	// certificate it covers. Without it that deployment is refused with
	// ErrNoTarget before anything changes: an upload nothing uses is what a
	// typo in the regions or a missing [[deploy]] entry would leave.
	UploadAnyway bool
	// Concurrency is how many load balancers of one region are worked on at
	// once (each region has its own rate budget, see bindAll); changes
	// to one load balancer always run one at a time (CLB refuses a second
	// task on a busy one). Default 64. CLB takes 20 changes a second per
	// action and each change holds its load balancer for at least TaskPoll
	// plus two calls, so it takes some 25 load balancers in flight to keep
	// the limit busy with tasks that end before the first poll; 64 keep it
	// busy with tasks of up to ~3 s. The only cost of more is calls waiting
	// in the client's rate limiter instead of being sent too early; with
	// the old default of 8, deploying to 1,000 targets took twice as long
	// (docs/BENCHMARKS.md).
	Concurrency int
	// TaskTimeout bounds the wait for one CLB task. Default 2 min.
	TaskTimeout time.Duration
	// TaskPoll is how long after starting a CLB task its status is first
	// asked, and the first pause between later asks, which grows by half up
	// to 2 s. Default 500 ms. CLB documents no task duration; asking before a
	// task can have ended spends DescribeTaskStatus budget (20/s, shared by
	// every load balancer in flight) on "still running", and in a large
	// deployment that budget, not the tasks, sets the pace. A task that ends
	// sooner costs its load balancer the difference, which the other load
	// balancers in flight hide.
	TaskPoll time.Duration
	// VerifyTimeout bounds each TLS check of a target (connect and handshake,
	// retried until the new certificate is served). Default 10 s.
	VerifyTimeout time.Duration
	// Now is the clock for the state records; nil means time.Now.
	Now func() time.Time
	// Logger gets progress lines; nil discards them.
	Logger *slog.Logger
}

// KeepNone is Options.Keep for keeping no superseded upload: 0 means the
// default, as for every other option.
const KeepNone = -1

// withDefaults gives every unset option its default; a negative Concurrency
// or duration counts as unset.
func (o Options) withDefaults() Options {
	if len(o.Products) == 0 {
		o.Products = []string{productCLB}
	}
	o.Concurrency = cmp.Or(max(o.Concurrency, 0), 64)
	o.TaskTimeout = cmp.Or(max(o.TaskTimeout, 0), 2*time.Minute)
	o.TaskPoll = cmp.Or(max(o.TaskPoll, 0), 500*time.Millisecond)
	o.VerifyTimeout = cmp.Or(max(o.VerifyTimeout, 0), 10*time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	return o
}

// Deployer deploys, rolls back and prunes lineages with one set of options.
type Deployer struct {
	opts  Options
	keep  int // Options.Keep resolved
	inv   *inventory.Client
	clb   *clb.Client
	ssl   *ssl.Client
	store *store.Store
	log   *slog.Logger
}

// New builds a Deployer. st keeps, per lineage, the uploads made and the
// certificate each target had before, for rollback.
func New(cfg tencent.Config, st *store.Store, opts Options) (*Deployer, error) {
	opts = opts.withDefaults()
	if len(opts.Regions) == 0 && slices.Contains(opts.Products, productCLB) {
		return nil, fmt.Errorf("deploy: %w", tencent.ErrNoRegion)
	}
	if cfg.Limiter == nil {
		// Discovery and changes spend the same account's per-action budgets.
		cfg.Limiter = tencent.NewLimiter(nil)
	}
	tasks := clb.New(cfg, clb.Options{TaskTimeout: opts.TaskTimeout, TaskPoll: opts.TaskPoll, Logger: opts.Logger})
	certs, err := ssl.New(cfg, ssl.Options{Poll: opts.TaskPoll, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	keep := opts.Keep
	switch {
	case keep == 0:
		keep = 2
	case keep < 0:
		keep = 0
	}
	inv := inventory.Of(tasks, certs, inventory.Options{Concurrency: opts.Concurrency})
	return &Deployer{opts: opts, keep: keep, inv: inv, clb: tasks, ssl: certs, store: st, log: opts.Logger}, nil
}

// Deploy plans and applies lin. The report says per target what happened;
// the error is non-nil if anything failed or was refused.
//
// Before any change (and in a dry run alike) it refuses, with an error
// wrapping ErrRefused: a state dir it cannot write; a region CLB does not
// have; pinned targets that do not fit; no target at all (ErrNoTarget,
// unless Options.UploadAnyway).
func (d *Deployer) Deploy(ctx context.Context, lin *lineage.Lineage) (*Report, error) {
	if err := d.checkState(ctx, lin.Name); err != nil {
		return nil, err
	}
	unlock, err := d.store.Lock(ctx, stateName(lin.Name))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("another deploy of %s is running: %w", lin.Name, err)
		}
		return nil, fmt.Errorf("%w: %v: make the state dir writable, or choose another one", ErrRefused, err)
	}
	defer unlock()
	if err := d.removeStaleTemp(ctx, lin.Name); err != nil {
		return nil, err
	}
	plan, err := d.Plan(ctx, lin)
	if err != nil {
		return nil, beforeChanges(ctx, err)
	}
	if err := d.refuse(plan); err != nil {
		return nil, err
	}
	d.log.Info("plan", "lineage", lin.Name, "targets", len(plan.Targets), "regions", d.opts.Regions)
	if d.opts.DryRun {
		return d.dryRun(ctx, plan)
	}
	rep, err := d.apply(ctx, plan)
	switch {
	case err != nil && rep == nil:
		return nil, beforeChanges(ctx, err)
	case err != nil:
		// Listeners may have changed: the report says which.
		return rep, err
	}
	return rep, rep.Err()
}

// beforeChanges is err of a run that stopped before it changed a load
// balancer, or, if the run was interrupted, says that.
func beforeChanges(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w before any listener was changed; running again finishes the job: run clbcert-deploy again", interrupted(ctx))
}
