package doctor_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/doctor"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

const region = "ap-guangzhou"

// examine runs doctor against sim in region.
func examine(t *testing.T, sim *tcsim.Sim, opts doctor.Options) *doctor.Report {
	t.Helper()
	d := newDoctor(t, sim, opts)
	rep, err := d.Examine(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// config reaches sim, retrying a failed call after milliseconds rather
// than the production backoff of seconds.
func config(t *testing.T, sim *tcsim.Sim) tencent.Config {
	cfg := simtest.Config(t, sim)
	cfg.Retry = tencent.RetryPolicy{Base: 5 * time.Millisecond, Cap: 20 * time.Millisecond}
	return cfg
}

func newDoctor(t *testing.T, sim *tcsim.Sim, opts doctor.Options) *doctor.Doctor {
	t.Helper()
	inv, err := inventory.New(config(t, sim), inventory.Options{Fingerprints: true})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Regions == nil {
		opts.Regions = []string{region}
	}
	d, err := doctor.New(opts, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// want is a finding a test expects: its check and severity, a substring
// of its place, and substrings of its problem.
type want struct {
	check    string
	severity doctor.Severity
	where    string
	problem  []string
}

func (w want) String() string {
	return fmt.Sprintf("%s %s at %q %q", w.severity, w.check, w.where, w.problem)
}

func (w want) matches(f doctor.Finding) bool {
	if f.Check != w.check || f.Severity != w.severity || !strings.Contains(f.Where.String(), w.where) {
		return false
	}
	for _, p := range w.problem {
		if !strings.Contains(f.Problem, p) {
			return false
		}
	}
	return true
}

// expectFindings fails unless the findings are exactly wants, in any order.
func expectFindings(t *testing.T, got []doctor.Finding, wants ...want) {
	t.Helper()
	left := slices.Clone(got)
	for _, w := range wants {
		i := slices.IndexFunc(left, w.matches)
		if i < 0 {
			t.Errorf("missing finding %s", w)
			continue
		}
		left = slices.Delete(left, i, i+1)
	}
	for _, f := range left {
		t.Errorf("unexpected finding: %s %s at %s: %s (fix: %s)", f.Severity, f.Check, f.Where, f.Problem, f.Fix)
	}
}

// waitHealth waits until the targets of a rule (or layer-4 listener, loc
// "") are in state, as DescribeTargetHealth would report them.
func waitHealth(t *testing.T, sim *tcsim.Sim, lb, lbl, loc string, state map[string]string) {
	t.Helper()
	eventually.Succeeds(t, 15*time.Second, func() error {
		got := sim.TargetHealth(lb, lbl, loc)
		ok := len(got) > 0
		for addr, s := range state {
			ok = ok && got[addr] == s
		}
		if !ok {
			return fmt.Errorf("targets of %s/%s/%s are %v, want %v", lb, lbl, loc, got, state)
		}
		return nil
	})
}
