package tune

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/plural"
)

// Statuses of a Result.
const (
	StatusChanged = "changed" // done, and describing it again shows the new values
	StatusFailed  = "failed"  // not done, or not confirmed: Error says which and what to do
)

// Result is what happened to one Change.
type Result struct {
	Change
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Report is what Apply did.
type Report struct {
	Results []Result `json:"results"`
	// Failures are the plan's unreadable load balancers: nothing was done
	// to them.
	Failures []inventory.Failure `json:"failures,omitempty"`
}

// Err is nil if every change was made and confirmed and every selected load
// balancer could be read.
func (r *Report) Err() error {
	var failed []Result
	for _, res := range r.Results {
		if res.Status == StatusFailed {
			failed = append(failed, res)
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("%d of %s failed, first %s: %s", len(failed), plural.Of(len(r.Results), "change"), failed[0].Where(), failed[0].Error)
	case len(r.Failures) > 0:
		return fmt.Errorf("%s could not be read and left unchanged, first %s: %s", plural.Of(len(r.Failures), "selected load balancer"), r.Failures[0].Where(), r.Failures[0].Error)
	}
	return nil
}

// Apply makes the plan's changes: the changes of one load balancer one
// after another, each CLB task awaited before the next starts; different
// load balancers in parallel, Concurrency at a time (load balancers sharing
// a configuration that is updated count as one). Then each load balancer is
// described again and every changed value compared with the wanted one.
// A plan with refusals (Plan.Err) is not applied at all. The error is for
// that; a failed change is in the report (Report.Err).
func (t *Tuner) Apply(ctx context.Context, plan *Plan) (*Report, error) {
	if err := plan.Err(); err != nil {
		return nil, err
	}
	rep := &Report{Failures: plan.Failures, Results: make([]Result, len(plan.Changes))}
	for i, c := range plan.Changes {
		rep.Results[i] = Result{Change: c}
	}
	sem := make(chan struct{}, t.opts.Concurrency)
	var wg sync.WaitGroup
	for _, group := range groups(plan.Changes) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results := make([]*Result, 0, len(group))
			for _, i := range group {
				results = append(results, &rep.Results[i])
			}
			t.applyGroup(ctx, results)
		})
	}
	wg.Wait()
	return rep, nil
}

// groups splits the changes, by index and in plan order, into sets that
// touch disjoint load balancers: usually one per load balancer, but an
// update of a configuration several share keeps them all busy, so their
// changes go together.
func groups(changes []Change) [][]int {
	group := map[string]int{} // region/lb → group
	var out [][]int
	for i, c := range changes {
		g := -1
		for _, lb := range c.touches() {
			if h, ok := group[clb.Address{Region: c.Region, LoadBalancerID: lb}.Key()]; ok {
				if g >= 0 && h != g {
					// Merge h into g.
					out[g] = append(out[g], out[h]...)
					slices.Sort(out[g])
					for k, v := range group {
						if v == h {
							group[k] = g
						}
					}
					out[h] = nil
					continue
				}
				g = h
			}
		}
		if g < 0 {
			g = len(out)
			out = append(out, nil)
		}
		out[g] = append(out[g], i)
		for _, lb := range c.touches() {
			group[clb.Address{Region: c.Region, LoadBalancerID: lb}.Key()] = g
		}
	}
	return slices.DeleteFunc(out, func(g []int) bool { return len(g) == 0 })
}

// applyGroup makes the changes one after another, then confirms them per
// load balancer.
func (t *Tuner) applyGroup(ctx context.Context, results []*Result) {
	for _, r := range results {
		if err := t.applyOne(ctx, r.Change); err != nil {
			r.Status, r.Error = StatusFailed, err.Error()
			continue
		}
		r.Status = StatusChanged
	}
	byLB := map[string][]*Result{}
	var lbs []string
	for _, r := range results {
		if _, ok := byLB[r.LoadBalancerID]; !ok {
			lbs = append(lbs, r.LoadBalancerID)
		}
		byLB[r.LoadBalancerID] = append(byLB[r.LoadBalancerID], r)
	}
	for _, lb := range lbs {
		t.confirm(ctx, byLB[lb])
	}
}

func (t *Tuner) applyOne(ctx context.Context, c Change) error {
	t.log.Info("changing", "target", c.Where(), "fields", len(c.Fields))
	var task string
	var err error
	switch c.Kind {
	case KindRule, KindListener:
		task, err = t.clb.SetBalancing(ctx, c.Address, c.want.input())
	case KindTLS:
		return t.applyTLS(ctx, c)
	}
	if err != nil {
		return err
	}
	return t.clb.Await(ctx, c.Region, task)
}

// applyTLS gives the load balancer its new configuration content. A new
// configuration (ConfigAdd, ConfigSplit) reuses an unbound one of the same
// name, left by a run that stopped between creating and binding it, so a
// re-run makes no duplicate and keeps what that run copied.
func (t *Tuner) applyTLS(ctx context.Context, c Change) error {
	cc := c.Config
	run := func(op clb.ConfigChange) (string, error) {
		id, task, err := t.clb.SetCustomizedConfig(ctx, c.Region, op)
		if err != nil {
			return "", err
		}
		if err := t.clb.Await(ctx, c.Region, task); err != nil {
			return "", fmt.Errorf("%s customized configuration %s: %w", op.Operation, id, err)
		}
		return id, nil
	}
	if cc.Action == ConfigUpdate {
		_, err := run(clb.ConfigChange{Operation: clb.OpUpdate, ID: cc.ID, Content: cc.After})
		return err
	}
	existing, err := t.inv.CustomizedConfigNamed(ctx, c.Region, cc.Name)
	if err != nil {
		return err
	}
	var id string
	switch {
	case existing == nil:
		if id, err = run(clb.ConfigChange{Operation: clb.OpAdd, Name: cc.Name, Content: cc.After}); err != nil {
			return err
		}
	case len(existing.LoadBalancerIDs) > 0:
		return fmt.Errorf("a customized configuration named %s (%s) already exists and is bound to %s: rename or unbind it in the CLB console, then run again",
			cc.Name, existing.ID, strings.Join(existing.LoadBalancerIDs, ", "))
	default:
		id = existing.ID
		content := cc.After
		if cc.Action == ConfigAdd {
			// Made for this load balancer by a split that stopped before
			// binding it: its other directives are the ones to keep.
			content = withSSLProtocols(existing.Content, strings.Fields(c.Fields[0].After))
		}
		if existing.Content != content {
			if _, err := run(clb.ConfigChange{Operation: clb.OpUpdate, ID: id, Content: content}); err != nil {
				return err
			}
		}
	}
	if cc.Action == ConfigSplit {
		// CLB binds one configuration per load balancer: the shared one has
		// to come off this load balancer (only) before the new one goes on.
		if _, err := run(clb.ConfigChange{Operation: clb.OpUnbind, ID: cc.ID, LoadBalancerIDs: []string{c.LoadBalancerID}}); err != nil {
			return fmt.Errorf("%w: %s should still have %s and its TLS protocols; %s holds the new content, not yet bound: run again to finish", err, c.LoadBalancerID, cc.ID, id)
		}
	}
	if _, err := run(clb.ConfigChange{Operation: clb.OpBind, ID: id, LoadBalancerIDs: []string{c.LoadBalancerID}}); err != nil {
		return bindFailed(c, id, err, run)
	}
	return nil
}

// bindFailed says where a failed BIND of configuration id left the load
// balancer. After a split's UNBIND it has no configuration at all: CLB's
// default TLS protocols (TLS 1.0 included) and none of the shared
// configuration's other directives. Rather than leave it so until someone
// runs tune again, the shared configuration is bound back. Either way a
// re-run finishes the job and reuses id.
func bindFailed(c Change, id string, err error, run func(clb.ConfigChange) (string, error)) error {
	cc := c.Config
	if cc.Action != ConfigSplit {
		return fmt.Errorf("%w: %s keeps its TLS protocols; %s holds the new content, not yet bound: run again to bind it", err, c.LoadBalancerID, id)
	}
	if _, rerr := run(clb.ConfigChange{Operation: clb.OpBind, ID: cc.ID, LoadBalancerIDs: []string{c.LoadBalancerID}}); rerr != nil {
		return fmt.Errorf("%w; binding %s back failed too (%v): %s may be left without a customized configuration (CLB's default TLS protocols, none of %s's directives): run again soon, which binds %s, holding the new content, to it",
			err, cc.ID, rerr, c.LoadBalancerID, cc.ID, id)
	}
	return fmt.Errorf("%w: %s was bound back to %s, as before, and %s holds the new content, not yet bound: run again to finish", err, c.LoadBalancerID, cc.ID, id)
}

// confirm describes the load balancer again and fails each change whose
// values CLB does not show.
func (t *Tuner) confirm(ctx context.Context, results []*Result) {
	c0 := results[0].Change
	var listeners []inventory.Listener
	var lerr error
	if slices.ContainsFunc(results, func(r *Result) bool { return r.Kind != KindTLS && r.Status == StatusChanged }) {
		listeners, lerr = t.inv.Listeners(ctx, c0.Region, c0.LoadBalancerID)
	}
	for _, r := range results {
		if r.Status != StatusChanged {
			continue
		}
		var err error
		switch {
		case r.Kind == KindTLS:
			err = t.confirmTLS(ctx, r.Change)
		case lerr != nil:
			err = lerr
		default:
			err = confirmBalancing(listeners, r.Change)
		}
		if err != nil {
			r.Status, r.Error = StatusFailed, "not confirmed: "+err.Error()
		}
	}
}

func confirmBalancing(listeners []inventory.Listener, c Change) error {
	i := slices.IndexFunc(listeners, func(l inventory.Listener) bool { return l.ID == c.ListenerID })
	if i < 0 {
		return fmt.Errorf("listener %s is gone: check the load balancer in the CLB console", c.ListenerID)
	}
	p := place{listener: listeners[i]}
	if c.Kind == KindRule {
		j := slices.IndexFunc(p.listener.Rules, func(r inventory.Rule) bool { return r.LocationID == c.LocationID })
		if j < 0 {
			return fmt.Errorf("rule %s is gone: check the listener in the CLB console", c.LocationID)
		}
		p.rule = &p.listener.Rules[j]
	}
	now := p.current()
	if left := diffBalancing(now, c.want); len(left) > 0 {
		f := left[0]
		return fmt.Errorf("CLB shows %s %s, not %s: run again, or set it in the CLB console", f.Name, f.Before, f.After)
	}
	return nil
}

func (t *Tuner) confirmTLS(ctx context.Context, c Change) error {
	ids := append([]string{c.LoadBalancerID}, c.Config.SharedWith...)
	configs, err := t.inv.CustomizedConfigs(ctx, c.Region, ids)
	if err != nil {
		return err
	}
	got, ok := configs[c.LoadBalancerID]
	if !ok {
		return fmt.Errorf("%s has no customized configuration: run again", c.LoadBalancerID)
	}
	want := c.Fields[0].After
	if ps, _ := got.TLSProtocols(); strings.Join(canonicalProtocols(ps), " ") != want {
		return fmt.Errorf("configuration %s allows %q, not %q: run again", got.ID, strings.Join(ps, " "), want)
	}
	for _, other := range c.Config.SharedWith {
		if configs[other].ID != c.Config.ID {
			return fmt.Errorf("%s no longer has configuration %s: bind it again in the CLB console", other, c.Config.ID)
		}
	}
	return nil
}
