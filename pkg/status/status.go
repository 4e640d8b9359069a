// Package status answers, per certbot lineage, the operator's questions:
// what expires when, where the certificate is served, and where an older
// certificate for its names is still served instead (drift). The answer is
// a level for monitoring, as plugins give it: OK, WARNING, CRITICAL,
// UNKNOWN.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/plural"
)

// Level is a monitoring state; its value is the exit status monitoring
// plugins use for it.
type Level int

// The levels, by exit status.
const (
	OK       Level = 0
	Warning  Level = 1
	Critical Level = 2
	Unknown  Level = 3
)

func (l Level) String() string {
	switch l {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// MarshalJSON writes the level's name.
func (l Level) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// worse orders levels by how urgently someone must act: a known critical
// problem outranks not knowing everything, which outranks a warning.
func worse(a, b Level) Level {
	rank := map[Level]int{OK: 0, Warning: 1, Unknown: 2, Critical: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Options configures a check. Zero values take the defaults given per field.
type Options struct {
	// CertbotDir is certbot's config dir; its live/* are the lineages.
	CertbotDir string
	// Regions are the CLB regions to look for the certificates in; none
	// means local facts only.
	Regions []string
	// WarnDays: a lineage with this many days left or fewer is WARNING.
	// Default 30 (certbot renews at 30 days left, so a lineage there has
	// missed a renewal).
	WarnDays int
	// CriticalDays: this many days left or fewer is CRITICAL. Default 7.
	CriticalDays int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Checker checks lineages against the cloud.
type Checker struct {
	opts Options
	inv  *inventory.Client
}

// New builds a Checker. inv must collect fingerprints
// (inventory.Options.Fingerprints); it may be nil when opts.Regions is
// empty.
func New(opts Options, inv *inventory.Client) (*Checker, error) {
	if opts.WarnDays == 0 {
		opts.WarnDays = 30
	}
	if opts.CriticalDays == 0 {
		opts.CriticalDays = 7
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WarnDays < 0 || opts.CriticalDays < 0 || opts.CriticalDays > opts.WarnDays {
		return nil, fmt.Errorf("warning at %d days and critical at %d days left: give 0 or more, critical no more than warning", opts.WarnDays, opts.CriticalDays)
	}
	if len(opts.Regions) > 0 && inv == nil {
		return nil, errors.New("status: regions given without an inventory client")
	}
	return &Checker{opts: opts, inv: inv}, nil
}

// Report is the answer for every lineage.
type Report struct {
	Status       Level     `json:"status"`
	ExitCode     int       `json:"exitCode"`
	CheckedAt    time.Time `json:"checkedAt"`
	CertbotDir   string    `json:"certbotDir"`
	WarnDays     int       `json:"warnDays"`
	CriticalDays int       `json:"criticalDays"`
	// Regions are where served and drift were looked for; empty means
	// they were not.
	Regions  []string       `json:"regions"`
	Lineages []LineageState `json:"lineages"`
	// Failures are the parts of the cloud that could not be read: served
	// and drift may be incomplete, so the status is at least UNKNOWN.
	Failures []inventory.Failure `json:"failures"`
}

// LineageState is one lineage's answer.
type LineageState struct {
	Name   string `json:"name"`
	Dir    string `json:"dir"`
	Status Level  `json:"status"`
	// Reasons say why the status is not OK.
	Reasons []string `json:"reasons"`
	// Error is why the lineage failed validation; the fields below are
	// then empty.
	Error       string    `json:"error,omitempty"`
	Names       []string  `json:"names"`
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
	DaysLeft    int       `json:"daysLeft"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	// Served are the places that serve this certificate.
	Served []Place `json:"served"`
	// Drift are the places that serve an older certificate whose names
	// this one covers: a deployment missed them.
	Drift []Place `json:"drift"`
}

// Place is a listener or SNI domain and the certificate it serves.
type Place struct {
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId"`
	ListenerID     string `json:"listenerId"`
	Domain         string `json:"domain,omitempty"`
	Protocol       string `json:"protocol"`
	Port           int64  `json:"port"`
	// Target is "lb-id/lbl-id[/domain]", as the config file pins targets.
	Target       string    `json:"target"`
	CertID       string    `json:"certId"`
	CertNames    []string  `json:"certNames"`
	CertNotAfter time.Time `json:"certNotAfter"`
}

// Check reads every lineage and, with regions, the load balancers. Only a
// certbot dir without a readable live/ is an error; everything else is in
// the report.
func (c *Checker) Check(ctx context.Context) (*Report, error) {
	now := c.opts.Now()
	rep := &Report{CheckedAt: now, CertbotDir: c.opts.CertbotDir, WarnDays: c.opts.WarnDays, CriticalDays: c.opts.CriticalDays,
		Regions: slices.Clone(c.opts.Regions), Lineages: []LineageState{}, Failures: []inventory.Failure{}}
	if rep.Regions == nil {
		rep.Regions = []string{}
	}
	lins, err := c.load(now, rep)
	if err != nil {
		return nil, err
	}
	if len(c.opts.Regions) > 0 {
		inv, err := c.inv.Collect(ctx, c.opts.Regions)
		if err != nil {
			rep.Failures = append(rep.Failures, inventory.Failure{Error: err.Error()})
		}
		rep.Failures = append(rep.Failures, inv.Failures...)
		places(rep, lins, inv)
	}
	rep.Status = OK
	for _, l := range rep.Lineages {
		rep.Status = worse(rep.Status, l.Status)
	}
	if len(rep.Failures) > 0 {
		rep.Status = worse(rep.Status, Unknown)
	}
	rep.ExitCode = int(rep.Status)
	return rep, nil
}

// load reads live/* into rep.Lineages and returns the lineages that loaded,
// index for index (nil where one failed).
func (c *Checker) load(now time.Time, rep *Report) ([]*lineage.Lineage, error) {
	dirs, err := lineage.LiveDirs(c.opts.CertbotDir)
	if err != nil {
		return nil, err
	}
	var lins []*lineage.Lineage
	for _, dir := range dirs {
		st := LineageState{Name: filepath.Base(dir), Dir: dir, Reasons: []string{}, Names: []string{}, Served: []Place{}, Drift: []Place{}}
		lin, err := lineage.Load(dir, now)
		if err != nil {
			st.Status, st.Error = Critical, err.Error()
			st.Reasons = append(st.Reasons, "the lineage fails validation")
			rep.Lineages = append(rep.Lineages, st)
			lins = append(lins, nil)
			continue
		}
		st.Names, st.NotBefore, st.NotAfter, st.Fingerprint = lin.Names(), lin.Leaf.NotBefore.UTC(), lin.Leaf.NotAfter.UTC(), lin.Fingerprint
		st.DaysLeft = lineage.DaysLeft(lin.Leaf.NotAfter, now)
		switch {
		case st.DaysLeft <= c.opts.CriticalDays:
			st.Status = Critical
			st.Reasons = append(st.Reasons, fmt.Sprintf("%s left (critical at %d)", plural.Of(st.DaysLeft, "day"), c.opts.CriticalDays))
		case st.DaysLeft <= c.opts.WarnDays:
			st.Status = Warning
			st.Reasons = append(st.Reasons, fmt.Sprintf("%s left (warning at %d)", plural.Of(st.DaysLeft, "day"), c.opts.WarnDays))
		}
		rep.Lineages = append(rep.Lineages, st)
		lins = append(lins, lin)
	}
	return lins, nil
}

// places fills in where each lineage is served and where it drifted. A
// place serves a lineage when its certificate has the lineage's leaf (by
// fingerprint). It has drifted when its certificate is older (ends sooner),
// is no lineage's current leaf, and has only names the lineage covers: the
// places a deployment of the lineage would have changed, as discovery
// chooses them.
func places(rep *Report, lins []*lineage.Lineage, inv *inventory.Inventory) {
	for _, b := range inv.Bindings() {
		cert, ok := inv.Certificates[b.CertID()]
		if !ok {
			continue
		}
		p := Place{Region: b.Region, LoadBalancerID: b.LoadBalancerID, ListenerID: b.ListenerID, Domain: b.Domain, Protocol: b.Protocol, Port: b.Port,
			Target: b.String(), CertID: cert.ID, CertNames: cert.Names, CertNotAfter: cert.NotAfter}
		current, known := false, true
		for i, lin := range lins {
			if lin == nil {
				continue
			}
			same, ok := cert.SameLeaf(lin.Leaf.Raw)
			known = known && ok
			if same {
				rep.Lineages[i].Served = append(rep.Lineages[i].Served, p)
				current = true
			}
		}
		// Without its fingerprint (a Failure says why) a certificate might
		// be any lineage's: calling it drift could be a false alarm.
		if current || !known {
			continue
		}
		for i, lin := range lins {
			if lin == nil || len(cert.Names) == 0 || !cert.NotAfter.Before(lin.Leaf.NotAfter) || len(lineage.Uncovered(lin.Names(), cert.Names)) > 0 {
				continue
			}
			rep.Lineages[i].Drift = append(rep.Lineages[i].Drift, p)
		}
	}
	for i := range rep.Lineages {
		st := &rep.Lineages[i]
		if n := len(st.Drift); n > 0 {
			st.Status = Critical
			st.Reasons = append(st.Reasons, fmt.Sprintf("an older certificate is still served on %s", plural.Of(n, "target")))
		}
	}
}
