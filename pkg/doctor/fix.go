package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tune"
)

// change is a fix in tune's terms, for one target; zero fields leave a
// setting as it is.
type change struct {
	// Target is the load balancer for TLS protocols, the layer-4 listener
	// or the rule for a health check.
	Target       clb.Address
	HealthOn     bool
	HealthPath   string // advised only, never applied by --fix
	HTTPCodes    int64  // advised only, never applied by --fix
	Interval     int64
	Timeout      int64
	HealthyNum   int64
	UnhealthyNum int64
	TLSProtocols []string
}

// merge adds o's settings to c's.
func (c *change) merge(o change) {
	c.HealthOn = c.HealthOn || o.HealthOn
	for _, f := range []struct{ dst, src *int64 }{{&c.Interval, &o.Interval}, {&c.Timeout, &o.Timeout}, {&c.HealthyNum, &o.HealthyNum}, {&c.UnhealthyNum, &o.UnhealthyNum}} {
		if *f.src != 0 {
			*f.dst = *f.src
		}
	}
	if o.TLSProtocols != nil {
		c.TLSProtocols = o.TLSProtocols
	}
}

// settings is the safe part of the change as tune.Settings: the advised
// HealthPath and HTTPCodes never reach --fix.
func (c change) settings() tune.Settings {
	var s tune.Settings
	ptr := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	if c.HealthOn {
		on := true
		s.HealthCheck.On = &on
	}
	s.HealthCheck.Interval = ptr(c.Interval)
	s.HealthCheck.Timeout = ptr(c.Timeout)
	s.HealthCheck.HealthyThreshold = ptr(c.HealthyNum)
	s.HealthCheck.UnhealthyThreshold = ptr(c.UnhealthyNum)
	s.TLSProtocols = c.TLSProtocols
	return s
}

// tuneCommand is the clbcert tune command line that makes change c.
func tuneCommand(c change) string {
	args := []string{"clbcert", "tune"}
	if c.Target.Region != "" {
		args = append(args, "--region", c.Target.Region)
	}
	if c.HealthOn {
		args = append(args, "--"+tune.FieldHealthCheck, "on")
	}
	if c.HealthPath != "" {
		args = append(args, "--"+tune.FieldHealthCheckPath, c.HealthPath)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{tune.FieldHealthCheckInterval, c.Interval}, {tune.FieldHealthCheckTimeout, c.Timeout}, {tune.FieldHealthyThreshold, c.HealthyNum}, {tune.FieldUnhealthyThreshold, c.UnhealthyNum}} {
		if f.v != 0 {
			args = append(args, "--"+f.name, fmt.Sprint(f.v))
		}
	}
	if c.HTTPCodes != 0 {
		args = append(args, "--"+tune.FieldHTTPCodes, statusClasses(c.HTTPCodes))
	}
	if c.TLSProtocols != nil {
		args = append(args, "--"+tune.FieldTLSProtocols, strings.Join(c.TLSProtocols, ","))
	}
	return strings.Join(append(args, c.Target.String()), " ")
}

// statusClasses writes CLB's HttpCode bit mask as tune takes it: "2xx,3xx".
func statusClasses(mask int64) string {
	var out []string
	for i := range 5 {
		if mask&(1<<i) != 0 {
			out = append(out, fmt.Sprintf("%dxx", i+1))
		}
	}
	return strings.Join(out, ",")
}

// safeChanges merges the safe fixes of findings per target, in target
// order.
func safeChanges(findings []Finding) []change {
	byTarget := map[string]*change{}
	var targets []string
	for _, fd := range findings {
		if !fd.Safe || fd.change == nil {
			continue
		}
		key := fd.change.Target.String()
		c := byTarget[key]
		if c == nil {
			c = &change{Target: fd.change.Target}
			byTarget[key] = c
			targets = append(targets, key)
		}
		c.merge(*fd.change)
	}
	slices.Sort(targets)
	out := make([]change, 0, len(targets))
	for _, t := range targets {
		out = append(out, *byTarget[t])
	}
	return out
}

// FixReport is what --fix did.
type FixReport struct {
	DryRun bool `json:"dryRun"`
	// Planned are the findings whose safe fix was planned, as they were
	// before it.
	Planned []Finding `json:"planned"`
	// Plan is tune's plan for them; nil when no finding had a safe fix.
	Plan *tune.Plan `json:"plan,omitempty"`
	// Applied is what tune did; nil on a dry run or with nothing to change.
	Applied *tune.Report `json:"applied,omitempty"`
}

// Fix plans the safe fixes of rep's findings with tuner and, unless dryRun,
// applies them and examines everything again. It returns the report to
// show: on a dry run or with nothing to fix rep itself, else the new
// examination, where the fixed findings are gone and the others remain;
// either way with Fix set. The error is for a plan tune refuses or a
// failure to examine again; a change that failed is in Fix.Applied.
func (d *Doctor) Fix(ctx context.Context, rep *Report, tuner *tune.Tuner, dryRun bool) (*Report, error) {
	fr := &FixReport{DryRun: dryRun, Planned: []Finding{}}
	for _, fd := range rep.Findings {
		if fd.Safe {
			fr.Planned = append(fr.Planned, fd)
		}
	}
	changes := safeChanges(rep.Findings)
	if len(changes) == 0 {
		rep.Fix = fr
		return rep, nil
	}
	plan, err := planChanges(ctx, tuner, rep.inv, changes)
	if err != nil {
		return nil, err
	}
	fr.Plan = plan
	if dryRun || plan.Empty() {
		rep.Fix = fr
		return rep, plan.Err()
	}
	if fr.Applied, err = tuner.Apply(ctx, plan); err != nil {
		return nil, err
	}
	after, err := d.Examine(ctx)
	if err != nil {
		return nil, fmt.Errorf("examine again after the fixes: %w", err)
	}
	after.Fix = fr
	return after, nil
}

// planChanges makes one tune plan of changes: targets that need the same
// settings are planned together, and the plans merged into one, so that
// the diff is shown once and Apply orders the changes of each load
// balancer.
func planChanges(ctx context.Context, tuner *tune.Tuner, inv *inventory.Inventory, changes []change) (*tune.Plan, error) {
	type group struct {
		settings tune.Settings
		targets  []clb.Address
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, c := range changes {
		s := c.settings()
		key, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		g := byKey[string(key)]
		if g == nil {
			g = &group{settings: s}
			byKey[string(key)] = g
			groups = append(groups, g)
		}
		g.targets = append(g.targets, c.Target)
	}
	merged := &tune.Plan{}
	for _, g := range groups {
		p, err := tuner.Plan(ctx, inv, tune.Selection{Targets: g.targets}, g.settings)
		if err != nil {
			return nil, fmt.Errorf("plan the safe fixes: %w", err)
		}
		merged.Changes = append(merged.Changes, p.Changes...)
		merged.Skipped = append(merged.Skipped, p.Skipped...)
		merged.Refused = append(merged.Refused, p.Refused...)
		for _, f := range p.Failures {
			if !slices.Contains(merged.Failures, f) {
				merged.Failures = append(merged.Failures, f)
			}
		}
	}
	// Tune counts every place a target selects; doctor's targets are the
	// places, so those already as wanted are the targets without a change
	// (a fix made since the examination).
	for _, c := range changes {
		if !slices.ContainsFunc(merged.Changes, func(ch tune.Change) bool { return ch.String() == c.Target.String() }) {
			merged.Unchanged++
		}
	}
	slices.SortStableFunc(merged.Changes, func(a, b tune.Change) int {
		return a.LoadBalancer().Compare(b.LoadBalancer())
	})
	return merged, nil
}
