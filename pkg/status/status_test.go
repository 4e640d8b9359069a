package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/status"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

const day = 24 * time.Hour

// world is a certbot dir and a sim account.
type world struct {
	dir  string
	sim  *tcsim.Sim
	now  time.Time
	rule level.Rule
}

// issue adds a lineage to the certbot dir that expires in left (plus an
// hour, so that whole days count as expected) and returns it loaded.
func (w *world) issue(t *testing.T, name string, left time.Duration, names ...string) *lineage.Lineage {
	t.Helper()
	return simtest.IssueLineage(t, w.dir, name, w.now.Add(-30*day), w.now.Add(left+time.Hour), names...)
}

var allTargets = []string{"lb-gz1/lbl-https1", "lb-gz1/lbl-sni1/example.test", "lb-sh1/lbl-tls1"}

func check(t *testing.T, w *world, regions ...string) *status.Report {
	t.Helper()
	var inv *inventory.Client
	if len(regions) > 0 {
		cfg := simtest.Config(t, w.sim)
		cfg.Retry = tencent.RetryPolicy{MaxAttempts: 2, Base: time.Millisecond, Cap: time.Millisecond}
		var err error
		if inv, err = inventory.New(cfg, inventory.Options{Fingerprints: true}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := status.New(status.Options{CertbotDir: w.dir, Regions: regions, Rule: w.rule, Now: func() time.Time { return w.now }}, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func targets(ps []status.Place) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Target)
	}
	slices.Sort(out)
	return out
}

// Each level from an account built to have it. The lineage (issued 30
// days ago) is served everywhere, so only its dates (and, for drift, the
// targets a deployment missed and how long ago the renewal was) decide.
func TestLevels(t *testing.T) {
	absolute := level.Rule{WarnDays: 30, CriticalDays: 7}
	tests := []struct {
		name       string
		left       time.Duration
		rule       level.Rule
		later      time.Duration // the check runs this long after the setup
		failingLBs []string
		setup      func(t *testing.T, w *world)
		want       status.Level
		wantServed []string
		wantDrift  []string
		wantReason string
	}{
		{name: "ok", left: 60 * day, want: status.OK, wantServed: allTargets},
		// 50 days, 30 gone: certbot renews at 33 1/3.
		{name: "ok by lifetime", left: 20 * day, want: status.OK, wantServed: allTargets},
		// 40 days, 30 gone: due at 26 2/3, overdue from 29 2/3.
		{name: "overdue", left: 10 * day, want: status.Warning, wantServed: allTargets, wantReason: "renewal overdue"},
		{name: "half the window gone", left: 5 * day, want: status.Critical, wantServed: allTargets, wantReason: "less than half"},
		{name: "warning by days", left: 20 * day, rule: absolute, want: status.Warning, wantServed: allTargets, wantReason: "20 days left (warning at 30)"},
		{name: "critical by days", left: 5 * day, rule: absolute, want: status.Critical, wantServed: allTargets, wantReason: "5 days left (critical at 7)"},
		{
			// A renewal deployed to one pinned target only: the two others
			// still serve the certificate it replaced.
			name: "drift", left: 80 * day, later: 2 * time.Hour, want: status.Critical,
			setup:      driftSetup,
			wantServed: []string{"lb-gz1/lbl-https1"},
			wantDrift:  []string{"lb-gz1/lbl-sni1/example.test", "lb-sh1/lbl-tls1"},
			wantReason: "an older certificate is still served on 2 targets",
		},
		{
			// The same an instant after the renewal: a deployment may be
			// on its way (the watcher's retry, certbot's next run).
			name: "drift in deploy grace", left: 80 * day, later: time.Minute, want: status.Warning,
			setup:      driftSetup,
			wantServed: []string{"lb-gz1/lbl-https1"},
			wantDrift:  []string{"lb-gz1/lbl-sni1/example.test", "lb-sh1/lbl-tls1"},
			wantReason: "an older certificate is still served on 2 targets",
		},
		{
			name: "unknown", left: 60 * day, failingLBs: []string{"lb-sh1"}, want: status.Unknown,
			wantServed: []string{"lb-gz1/lbl-https1", "lb-gz1/lbl-sni1/example.test"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second), rule: tt.rule}
			current := w.issue(t, "example.test", tt.left, "example.test", "*.example.test")
			opts := simtest.ThreeTargets(simtest.UploadedByHand("CurCrt01", current))
			opts.FailingLBs = tt.failingLBs
			w.sim = simtest.Start(t, opts)
			if tt.setup != nil {
				tt.setup(t, w)
			}
			w.now = w.now.Add(tt.later)
			rep := check(t, w, "ap-guangzhou", "ap-shanghai")
			if rep.Status != tt.want || rep.ExitCode != int(tt.want) || len(rep.Lineages) != 1 {
				t.Fatalf("status %s (exit %d), want %s: %+v", rep.Status, rep.ExitCode, tt.want, rep)
			}
			l := rep.Lineages[0]
			if got := targets(l.Served); !slices.Equal(got, tt.wantServed) {
				t.Errorf("served %v, want %v", got, tt.wantServed)
			}
			if got := targets(l.Drift); !slices.Equal(got, tt.wantDrift) {
				t.Errorf("drift %v, want %v", got, tt.wantDrift)
			}
			if tt.wantReason != "" && !slices.ContainsFunc(l.Reasons, func(r string) bool { return strings.Contains(r, tt.wantReason) }) {
				t.Errorf("reasons %q, want %q among them", l.Reasons, tt.wantReason)
			}
			// Drift's reason ends in the command that deploys this lineage.
			if deployIt := ": run clbcert-deploy --lineage " + l.Dir; len(tt.wantDrift) > 0 && !strings.HasSuffix(l.Reason, deployIt) {
				t.Errorf("reason %q, want it to end in %q", l.Reason, deployIt)
			}
			var failed []string
			for _, f := range rep.Failures {
				failed = append(failed, f.LoadBalancerID)
			}
			if !slices.Equal(failed, tt.failingLBs) {
				t.Errorf("failures = %+v, want %v", rep.Failures, tt.failingLBs)
			}
		})
	}
}

// driftSetup renews the lineage and deploys it to one pinned target
// only: the two others still serve the certificate it replaced.
func driftSetup(t *testing.T, w *world) {
	t.Helper()
	renewed := w.issue(t, "example.test", 90*day, "example.test", "*.example.test")
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pin, _ := deploy.ParseTarget("lb-gz1/lbl-https1")
	d, err := deploy.New(simtest.Config(t, w.sim), st, deploy.Options{Regions: []string{"ap-guangzhou", "ap-shanghai"}, Targets: []clb.Address{pin}, TaskPoll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Deploy(context.Background(), renewed); err != nil {
		t.Fatal(err)
	}
}

// Critical outranks unknown: a lineage known to be in trouble is reported
// as such even when part of the cloud could not be read.
func TestCriticalOutranksUnknown(t *testing.T) {
	w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	cur := w.issue(t, "example.test", 3*day, "example.test", "*.example.test")
	opts := simtest.ThreeTargets(simtest.UploadedByHand("CurCrt01", cur))
	opts.FailingLBs = []string{"lb-sh1"}
	w.sim = simtest.Start(t, opts)
	if rep := check(t, w, "ap-guangzhou", "ap-shanghai"); rep.Status != status.Critical || len(rep.Failures) != 1 {
		t.Fatalf("status %s, failures %+v", rep.Status, rep.Failures)
	}
}

// A lineage that fails validation is critical; certbot's README beside
// the lineages is not one. Without regions the cloud is not asked at all.
func TestLocalOnly(t *testing.T) {
	w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	w.issue(t, "example.test", 60*day, "example.test", "*.example.test")
	broken := filepath.Join(w.dir, "live", "broken.test")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"fullchain.pem", "privkey.pem"} {
		if err := os.WriteFile(filepath.Join(broken, f), []byte("not PEM\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(w.dir, "live", "README"), []byte("certbot's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := check(t, w)
	if rep.Status != status.Critical || len(rep.Lineages) != 2 {
		t.Fatalf("status %s, lineages %+v", rep.Status, rep.Lineages)
	}
	if b := rep.Lineages[0]; b.Name != "broken.test" || b.Status != status.Critical || !strings.Contains(b.Error, "fullchain.pem") {
		t.Errorf("broken.test = %+v", b)
	}
	if e := rep.Lineages[1]; e.Name != "example.test" || e.Status != status.OK || e.DaysLeft != 60 || !slices.Equal(e.Names, []string{"*.example.test", "example.test"}) {
		t.Errorf("example.test = %+v", e)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	out := table.String()
	for _, want := range []string{
		"CRITICAL: 2 lineages: 1 critical, 0 warning, 1 ok\n",
		"CRITICAL  broken.test: fails validation\n",
		"OK        example.test: 60 days left, expires " + w.now.Add(60*day).UTC().Format(time.DateOnly) + "\n",
		"  names   *.example.test, example.test\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, "  error") {
			t.Errorf("line longer than 80 columns: %q", line)
		}
	}

	var js bytes.Buffer
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Status   string
		ExitCode int
		Regions  []string
		Lineages []struct {
			Name            string
			Status          string
			Served          []any
			Lifetime        string
			LifetimeSeconds int64
			RenewalDue      time.Time
			Reason          string
		}
		Failures []any
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Status != "CRITICAL" || doc.ExitCode != 2 || doc.Regions == nil || doc.Failures == nil || len(doc.Lineages) != 2 || doc.Lineages[1].Served == nil {
		t.Errorf("JSON = %s", js.String())
	}
	if e := doc.Lineages[1]; e.Lifetime != "90 days" || e.LifetimeSeconds != int64((90*day+time.Hour)/time.Second) ||
		!e.RenewalDue.Equal(w.now.Add(-30*day).Add((90*day+time.Hour)/3*2)) || !strings.HasPrefix(e.Reason, "renewal due on") {
		t.Errorf("example.test in JSON: %+v", e)
	}
}

// renew_before_expiry in certbot's renewal/NAME.conf moves the renewal due,
// and with it the warning.
func TestRenewBeforeExpiry(t *testing.T) {
	w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	w.issue(t, "example.test", 60*day, "example.test")
	if l := check(t, w).Lineages[0]; l.Status != status.OK {
		t.Fatalf("by certbot's default: %s %q", l.Status, l.Reason)
	}
	if err := os.MkdirAll(filepath.Join(w.dir, "renewal"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Due 5 days ago: past the 3 days' grace.
	if err := os.WriteFile(filepath.Join(w.dir, "renewal", "example.test.conf"), []byte("renew_before_expiry = 65 days\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := check(t, w).Lineages[0]
	if l.Status != status.Warning || l.RenewBeforeExpiry != 65*86400 || !strings.Contains(l.Reason, "renewal overdue") {
		t.Errorf("renew_before_expiry = 65 days: %s, %d s, %q; want WARNING, overdue", l.Status, l.RenewBeforeExpiry, l.Reason)
	}
}

// Drift is decided by names and age: an older certificate for other names,
// or the current one of another lineage, is no drift.
func TestDriftNeedsCoveredNamesAndAge(t *testing.T) {
	w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	example := w.issue(t, "example.test", 60*day, "example.test", "*.example.test")
	www := w.issue(t, "www.example.test", 40*day, "www.example.test")
	older := simtest.Issue(t, t.TempDir(), "gone", w.now.Add(-60*day), w.now.Add(30*day), "api.example.test")
	newer := simtest.Issue(t, t.TempDir(), "newer", w.now.Add(-day), w.now.Add(89*day), "example.test")
	other := simtest.Issue(t, t.TempDir(), "other", w.now.Add(-60*day), w.now.Add(30*day), "other.test")
	load := func(dir string) *lineage.Lineage {
		l, err := lineage.Load(dir, w.now)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	w.sim = simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.UploadedByHand("ExCrt001", example), simtest.UploadedByHand("WwwCrt01", www), simtest.UploadedByHand("OldApi01", load(older)), simtest.UploadedByHand("Newer001", load(newer)), simtest.UploadedByHand("Other001", load(other))},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "ExCrt001"},
					{Domain: "www.example.test", CertID: "WwwCrt01"}, // another lineage's current: served, no drift
					{Domain: "api.example.test", CertID: "OldApi01"}, // older, covered by example.test: drift
					{Domain: "new.example.test", CertID: "Newer001"}, // covered but newer: no drift
					{Domain: "other.test", CertID: "Other001"},       // older, not covered: no drift
				}},
			}},
		}},
	})
	w.now = w.now.Add(2 * time.Hour) // past the deploy grace
	rep := check(t, w, "ap-guangzhou")
	byName := map[string]status.LineageState{}
	for _, l := range rep.Lineages {
		byName[l.Name] = l
	}
	if got := targets(byName["example.test"].Drift); !slices.Equal(got, []string{"lb-gz1/lbl-sni1/api.example.test"}) {
		t.Errorf("example.test drift %v", got)
	}
	if got := targets(byName["www.example.test"].Served); !slices.Equal(got, []string{"lb-gz1/lbl-sni1/www.example.test"}) || len(byName["www.example.test"].Drift) != 0 {
		t.Errorf("www.example.test = %+v", byName["www.example.test"])
	}
	if rep.Status != status.Critical || byName["www.example.test"].Status != status.OK {
		t.Errorf("status %s, www %s", rep.Status, byName["www.example.test"].Status)
	}
}

func TestBadThresholds(t *testing.T) {
	for _, o := range []status.Options{{Rule: level.Rule{WarnDays: 5, CriticalDays: 10}}, {Rule: level.Rule{WarnDays: -1}}} {
		if _, err := status.New(o, nil, nil); err == nil || !strings.Contains(err.Error(), "warning at least critical") {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
}

// One of each is written in the singular.
func TestReportSingular(t *testing.T) {
	rep := status.Report{Status: status.Unknown, Lineages: []status.LineageState{{Name: "example.test", Status: status.Critical, DaysLeft: 1}},
		Failures: []inventory.Failure{{Region: "ap-nowhere", Error: "no such region"}}}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"UNKNOWN: 1 lineage: 1 critical", "; 1 part of the cloud unreadable", "example.test: 1 day left"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// A dual binding serves an RSA and an ECDSA lineage at once, each as its member; an old
// member of one algorithm is that lineage's drift, not the other's.
func TestDualBindingServesEachLineageAsItsMember(t *testing.T) {
	w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	names := []string{"example.test", "*.example.test"}
	load := func(dir string) *lineage.Lineage {
		l, err := lineage.Load(dir, w.now)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	rsa := load(simtest.IssueKey(t, w.dir, "example.test", binding.RSA, w.now.Add(-30*day), w.now.Add(60*day), names...))
	ecc := load(simtest.IssueKey(t, w.dir, "example.test-ecdsa", binding.ECC, w.now.Add(-30*day), w.now.Add(60*day), names...))
	oldECC := load(simtest.IssueKey(t, t.TempDir(), "old", binding.ECC, w.now.Add(-80*day), w.now.Add(10*day), names...))
	w.sim = simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{simtest.UploadedByHand("RsaCrt01", rsa), simtest.UploadedByHand("EccCrt01", ecc), simtest.UploadedByHand("OldEcc01", oldECC)},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-gz1", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-dual1", Protocol: "HTTPS", CertID: "RsaCrt01", ExtCertIDs: []string{"EccCrt01"}, Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
					{Domain: "example.test", CertID: "RsaCrt01", ExtCertIDs: []string{"OldEcc01"}}}},
			}},
		}},
	})
	w.now = w.now.Add(2 * time.Hour)
	rep := check(t, w, "ap-guangzhou")
	byName := map[string]status.LineageState{}
	for _, l := range rep.Lineages {
		byName[l.Name] = l
	}
	served := func(name string) []string {
		var out []string
		for _, p := range byName[name].Served {
			out = append(out, p.Target+" "+p.Algorithm)
		}
		slices.Sort(out)
		return out
	}
	if got := served("example.test"); !slices.Equal(got, []string{"lb-gz1/lbl-dual1 RSA", "lb-gz1/lbl-sni1/example.test RSA"}) {
		t.Errorf("example.test served %v", got)
	}
	if got := served("example.test-ecdsa"); !slices.Equal(got, []string{"lb-gz1/lbl-dual1 ECC"}) {
		t.Errorf("example.test-ecdsa served %v", got)
	}
	if got := targets(byName["example.test-ecdsa"].Drift); !slices.Equal(got, []string{"lb-gz1/lbl-sni1/example.test"}) {
		t.Errorf("example.test-ecdsa drift %v, want the SNI domain's old ECC member", got)
	}
	if d := byName["example.test"].Drift; len(d) != 0 {
		t.Errorf("example.test drift %+v: the old member is ECC, not its own", d)
	}
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "lb-gz1/lbl-dual1 HTTPS as the ECC member of ") {
		t.Errorf("the report does not say which member:\n%s", out.String())
	}
}

// The metrics say UNKNOWN where the exit status does: with part of the
// cloud unreadable, a drifted target may be in that part, so a lineage
// whose dates are fine is not OK to Prometheus either (--prometheus);
// a CRITICAL one stays CRITICAL.
func TestMetricsUnknownWhereTheCloudWasNotRead(t *testing.T) {
	w := &world{dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	cur := w.issue(t, "example.test", 60*day, "example.test", "*.example.test")
	w.issue(t, "late.test", 3*day, "late.test")
	opts := simtest.ThreeTargets(simtest.UploadedByHand("CurCrt01", cur))
	opts.FailingLBs = []string{"lb-sh1"}
	w.sim = simtest.Start(t, opts)
	rep := check(t, w, "ap-guangzhou", "ap-shanghai")
	want := map[string]status.Level{"example.test": status.Unknown, "late.test": status.Critical}
	for _, m := range rep.Metrics() {
		if got := m.Verdict(w.rule, w.now).Level; got != want[m.Name] {
			t.Errorf("%s: level %s in the metrics, want %s (report %s, failures %+v)", m.Name, got, want[m.Name], rep.Status, rep.Failures)
		}
	}
}
