package tune

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Options tunes a Tuner. Zero values take the defaults given per field.
type Options struct {
	// Concurrency is how many load balancers are changed at once; the
	// changes of one always run one after another (CLB refuses a second
	// task on a busy load balancer). Default 16.
	Concurrency int
	// TaskTimeout and TaskPoll bound and pace the wait for each CLB task,
	// as clb.Options documents them (defaults 2 min and 500 ms).
	TaskTimeout time.Duration
	TaskPoll    time.Duration
	// Logger gets a line per change started; nil discards them.
	Logger *slog.Logger
}

// Tuner plans and applies settings.
type Tuner struct {
	opts Options
	inv  *inventory.Client
	clb  *clb.Client
	log  *slog.Logger
}

// New builds a Tuner. Share cfg.Limiter with everything else in the process
// that calls the same account.
func New(cfg tencent.Config, opts Options) (*Tuner, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Limiter == nil {
		// Reading, changing and polling spend the same per-action budgets.
		cfg.Limiter = tencent.NewLimiter(nil)
	}
	c := clb.New(cfg, clb.Options{TaskTimeout: opts.TaskTimeout, TaskPoll: opts.TaskPoll, Logger: opts.Logger})
	certs, err := ssl.New(cfg, ssl.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	inv := inventory.Of(c, certs, inventory.Options{Concurrency: opts.Concurrency})
	return &Tuner{opts: opts, inv: inv, clb: c, log: opts.Logger}, nil
}

// Collect reads the regions' load balancers, for Plan.
func (t *Tuner) Collect(ctx context.Context, regions []string) (*inventory.Inventory, error) {
	return t.inv.Collect(ctx, regions)
}

// ErrNoSelection is Plan's answer to a Selection that names nothing.
var ErrNoSelection = errors.New("nothing selected: name targets (lb-id, lb-id/lbl-id, lb-id/lbl-id/domain or lb-id/lbl-id/loc-id) or select all")

// ErrNoSettings is Plan's answer to Settings that set nothing.
var ErrNoSettings = errors.New("nothing to set")

// ErrUnknownTarget wraps Plan's answer to a target that is not in the
// inventory.
var ErrUnknownTarget = errors.New("unknown target")

// Plan compares the selected rules, listeners and load balancers of inv with
// want. It validates want first (a *FieldError), refuses a Selection that
// names nothing or a target inv does not have, and reads the selected load
// balancers' customized configurations when want sets TLS protocols. A
// selected load balancer inv could not read is a Plan.Failure.
func (t *Tuner) Plan(ctx context.Context, inv *inventory.Inventory, sel Selection, want Settings) (*Plan, error) {
	if err := want.Validate(); err != nil {
		return nil, err
	}
	if want.Empty() {
		return nil, ErrNoSettings
	}
	if !sel.All && len(sel.Targets) == 0 {
		return nil, ErrNoSelection
	}
	places, lbs, failures, err := selectPlaces(inv, sel)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Settings: want, Failures: failures}
	byLB := map[string][]Change{}
	// With only TLS protocols asked, a load balancer's setting, no rule or
	// listener is judged: none counts as already as wanted.
	perPlace := want
	perPlace.TLSProtocols = nil
	for _, p := range places {
		if perPlace.Empty() {
			break
		}
		ch, skipped, refused := p.plan(want)
		for _, s := range skipped {
			plan.Skipped = append(plan.Skipped, Skipped{Target: p.address().String(), Reason: s})
		}
		switch {
		case refused != "":
			plan.Refused = append(plan.Refused, Refused{Target: p.address().String(), Reason: refused})
		case ch == nil:
			plan.Unchanged++
		default:
			byLB[p.lb.ID] = append(byLB[p.lb.ID], *ch)
		}
	}
	tls := map[string]*Change{}
	if want.TLSProtocols != nil {
		tls, err = t.planTLS(ctx, plan, lbs, places, want.TLSProtocols)
		if err != nil {
			return nil, err
		}
	}
	for _, lb := range lbs {
		plan.Changes = append(plan.Changes, byLB[lb.ID]...)
		if ch := tls[lb.ID]; ch != nil {
			plan.Changes = append(plan.Changes, *ch)
		}
	}
	return plan, nil
}

// planTLS plans the TLS change of each selected load balancer with a
// selected HTTP or HTTPS listener, reading their configurations per region.
func (t *Tuner) planTLS(ctx context.Context, plan *Plan, lbs []inventory.LoadBalancer, places []place, protocols []string) (map[string]*Change, error) {
	layer7 := map[string]bool{}
	selected := map[string]bool{}
	for _, p := range places {
		selected[p.lb.ID] = true
		if inventory.IsLayer7(p.listener.Protocol) {
			layer7[p.lb.ID] = true
		}
	}
	byRegion := map[string][]string{}
	var regions []string
	for _, lb := range lbs {
		if !layer7[lb.ID] {
			if selected[lb.ID] {
				plan.Skipped = append(plan.Skipped, Skipped{Target: lb.ID, Reason: "TLS protocols: CLB sets them for HTTP/HTTPS listeners only, and none of this load balancer's is selected"})
			}
			continue
		}
		if _, ok := byRegion[lb.Region]; !ok {
			regions = append(regions, lb.Region)
		}
		byRegion[lb.Region] = append(byRegion[lb.Region], lb.ID)
	}
	configs := map[string]inventory.CustomizedConfig{}
	for _, r := range regions {
		found, err := t.inv.CustomizedConfigs(ctx, r, byRegion[r])
		if err != nil {
			return nil, fmt.Errorf("plan TLS protocols: %w", err)
		}
		for id, cfg := range found {
			configs[id] = cfg
		}
	}
	out := map[string]*Change{}
	// updated are the shared configurations whose every load balancer is
	// selected: the first of them updates it for all.
	updated := map[string]bool{}
	for _, lb := range lbs {
		if !layer7[lb.ID] {
			continue
		}
		var cfg *inventory.CustomizedConfig
		if c, ok := configs[lb.ID]; ok {
			if updated[c.ID] {
				continue
			}
			cfg = &c
		}
		ch := planTLS(lb, cfg, protocols, layer7)
		switch {
		case ch == nil:
			plan.Unchanged++
		case ch.Config.Action == ConfigUpdate && len(ch.Config.SharedWith) > 0:
			updated[cfg.ID] = true
			fallthrough
		default:
			out[lb.ID] = ch
		}
	}
	return out, nil
}

// selectPlaces resolves sel against inv: the rules and layer-4 listeners it
// selects, in inventory order; the load balancers they belong to; and the
// failures of selected load balancers inv could not read.
func selectPlaces(inv *inventory.Inventory, sel Selection) ([]place, []inventory.LoadBalancer, []inventory.Failure, error) {
	var failures []inventory.Failure
	// failed notes the failure that hides lbID: its own, or, for a load
	// balancer not in the inventory at all, a region's that could not be
	// listed (which region it is in cannot be told then).
	failed := func(lbID string) bool {
		known := slices.ContainsFunc(inv.LoadBalancers, func(lb inventory.LoadBalancer) bool { return lb.ID == lbID })
		hit := false
		for _, f := range inv.Failures {
			own := f.LoadBalancerID == lbID
			region := !known && f.LoadBalancerID == "" && f.CertificateID == "" && f.Region != ""
			if !own && !region {
				continue
			}
			hit = true
			if !slices.Contains(failures, f) {
				failures = append(failures, f)
			}
		}
		return hit
	}
	if sel.All {
		for _, f := range inv.Failures {
			if f.CertificateID == "" {
				failures = append(failures, f)
			}
		}
	}
	var matchers []func(lb inventory.LoadBalancer, l inventory.Listener, r *inventory.Rule) bool
	for _, tg := range sel.Targets {
		if failed(tg.LoadBalancerID) {
			continue
		}
		if err := checkTarget(inv, tg); err != nil {
			return nil, nil, nil, err
		}
		matchers = append(matchers, func(lb inventory.LoadBalancer, l inventory.Listener, r *inventory.Rule) bool {
			return matches(tg, lb, l, r)
		})
	}
	var places []place
	var lbs []inventory.LoadBalancer
	for _, lb := range inv.LoadBalancers {
		n := len(places)
		for _, l := range lb.Listeners {
			switch {
			case inventory.IsLayer7(l.Protocol):
				for i := range l.Rules {
					r := &l.Rules[i]
					if sel.All || slices.ContainsFunc(matchers, func(m func(inventory.LoadBalancer, inventory.Listener, *inventory.Rule) bool) bool {
						return m(lb, l, r)
					}) {
						places = append(places, place{lb: lb, listener: l, rule: r})
					}
				}
			case l.Protocol == "TCP" || l.Protocol == "TCP_SSL" || l.Protocol == "QUIC":
				if sel.All || slices.ContainsFunc(matchers, func(m func(inventory.LoadBalancer, inventory.Listener, *inventory.Rule) bool) bool {
					return m(lb, l, nil)
				}) {
					places = append(places, place{lb: lb, listener: l})
				}
			}
		}
		if len(places) > n {
			lbs = append(lbs, lb)
		}
	}
	return places, lbs, failures, nil
}

// matches reports whether the target tg selects listener l of lb, or its
// rule r (nil for a layer-4 listener).
func matches(tg clb.Address, lb inventory.LoadBalancer, l inventory.Listener, r *inventory.Rule) bool {
	switch {
	case tg.LoadBalancerID != lb.ID:
		return false
	case tg.ListenerID == "":
		return true
	case tg.ListenerID != l.ID:
		return false
	case tg.LocationID != "":
		return r != nil && r.LocationID == tg.LocationID
	case tg.Domain != "":
		return r != nil && r.Domain == tg.Domain
	}
	return true
}

// checkTarget refuses a target inv does not have, saying what it has.
func checkTarget(inv *inventory.Inventory, tg clb.Address) error {
	i := slices.IndexFunc(inv.LoadBalancers, func(lb inventory.LoadBalancer) bool { return lb.ID == tg.LoadBalancerID })
	if i < 0 {
		return fmt.Errorf("%w %s: no load balancer %s in %s: check the id and the regions", ErrUnknownTarget, tg, tg.LoadBalancerID, strings.Join(inv.Regions, ", "))
	}
	lb := inv.LoadBalancers[i]
	if tg.ListenerID == "" {
		return nil
	}
	j := slices.IndexFunc(lb.Listeners, func(l inventory.Listener) bool { return l.ID == tg.ListenerID })
	if j < 0 {
		return fmt.Errorf("%w %s: load balancer %s has no listener %s: `clbcert listeners` shows its listeners", ErrUnknownTarget, tg, lb.ID, tg.ListenerID)
	}
	l := lb.Listeners[j]
	switch {
	case l.Protocol == "UDP":
		return fmt.Errorf("%w %s: %s is a UDP listener, which clbcert tune does not change: select TCP, TCP_SSL, QUIC, HTTP or HTTPS listeners", ErrUnknownTarget, tg, l.ID)
	case tg.Domain == "" && tg.LocationID == "":
		return nil
	case !inventory.IsLayer7(l.Protocol):
		return fmt.Errorf("%w %s: %s is a %s listener, which has no domains or rules: select it as %s/%s", ErrUnknownTarget, tg, l.ID, l.Protocol, lb.ID, l.ID)
	}
	if !slices.ContainsFunc(l.Rules, func(r inventory.Rule) bool {
		return tg.LocationID != "" && r.LocationID == tg.LocationID || tg.Domain != "" && r.Domain == tg.Domain
	}) {
		return fmt.Errorf("%w %s: listener %s has no rule for %s%s: `clbcert listeners` shows its rules", ErrUnknownTarget, tg, l.ID, tg.Domain, tg.LocationID)
	}
	return nil
}
