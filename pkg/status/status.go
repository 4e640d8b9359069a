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
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/ssl"
)

// Level is package level's Level, as the report says it.
type Level = level.Level

// The levels, by exit status.
const (
	OK       = level.OK
	Warning  = level.Warning
	Critical = level.Critical
	Unknown  = level.Unknown
)

// Options configures a check. Zero values take the defaults given per field.
type Options struct {
	// CertbotDir is certbot's config dir; its live/* are the lineages.
	CertbotDir string
	// Regions are the CLB regions to look for the certificates in; none
	// means local facts only.
	Regions []string
	// Rule judges each lineage's leaf and the places still serving an
	// older certificate; the zero value is the lifetime rule.
	Rule level.Rule
	// Products are, per lineage name, the products other than CLB whose
	// resources serve it (by the SSL service's names: cdn, teo, waf, ...);
	// a lineage without any is looked for on CLB only.
	Products map[string][]string
	// Uploads lists the ids of a lineage's uploads of the leaf with the
	// fingerprint that clbcert-deploy recorded: with the certificates CLB
	// serves, where the other products' resources are looked for. Nil
	// means none.
	Uploads func(lineageName, fingerprint string) ([]string, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Checker checks lineages against the cloud.
type Checker struct {
	opts  Options
	inv   *inventory.Client
	certs *ssl.Client
}

// New builds a Checker. inv must collect fingerprints
// (inventory.Options.Fingerprints); it may be nil when opts.Regions is
// empty. certs finds the other products' resources; it may be nil when
// opts.Products is empty.
func New(opts Options, inv *inventory.Client, certs *ssl.Client) (*Checker, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := opts.Rule.Check(); err != nil {
		return nil, err
	}
	if len(opts.Regions) > 0 && inv == nil {
		return nil, errors.New("status: regions given without an inventory client")
	}
	if len(opts.Products) > 0 && certs == nil {
		return nil, errors.New("status: products given without an SSL client")
	}
	return &Checker{opts: opts, inv: inv, certs: certs}, nil
}

// Report is the answer for every lineage. Its JSON (--json) is for scripts
// and monitoring: every list is present (empty rather than null), so
// consumers need no special cases.
type Report struct {
	Status     Level     `json:"status"`
	ExitCode   int       `json:"exitCode"`
	CheckedAt  time.Time `json:"checkedAt"`
	CertbotDir string    `json:"certbotDir"`
	// WarnDays and CriticalDays are the absolute days that judged expiry;
	// both 0 when the lifetime rule did.
	WarnDays     int `json:"warnDays"`
	CriticalDays int `json:"criticalDays"`
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
	// Lifetime is notAfter − notBefore, in words and in seconds.
	Lifetime        string `json:"lifetime,omitempty"`
	LifetimeSeconds int64  `json:"lifetimeSeconds,omitempty"`
	// RenewBeforeExpiry is renew_before_expiry of certbot's
	// renewal/NAME.conf, in seconds; 0 when certbot's default applies.
	RenewBeforeExpiry int64 `json:"renewBeforeExpirySeconds,omitempty"`
	// RenewalDue is when certbot renews the leaf (see package level).
	RenewalDue time.Time `json:"renewalDue"`
	// Written is when the leaf was written to disk, which dates the
	// renewal for the deploy grace.
	Written time.Time `json:"written"`
	// Reason says in words why the status is what it is, OK included.
	Reason string `json:"reason"`
	// Served are the places that serve this certificate.
	Served []Place `json:"served"`
	// Drift are the places that serve an older certificate whose names
	// this one covers: a deployment missed them.
	Drift []Place `json:"drift"`
}

// Place is a listener or SNI domain, or a resource of another product, and
// the certificate it serves.
type Place struct {
	// Product is the SSL service's name of another product (cdn, teo,
	// waf, ...); "" for CLB.
	Product string `json:"product,omitempty"`
	// Address is the listener or SNI domain; of another product's
	// resource, its region and domain.
	clb.Address
	Protocol string `json:"protocol"`
	Port     int64  `json:"port"`
	// Target is "lb-id/lbl-id[/domain]", as the config file pins targets;
	// for another product's resource, its type, region, instance and
	// domain ("cdn cdn.example.com").
	Target       string    `json:"target"`
	CertID       string    `json:"certId"`
	CertNames    []string  `json:"certNames"`
	CertNotAfter time.Time `json:"certNotAfter"`
	// Algorithm is the key algorithm of CertID, the member it is of a
	// binding that holds more than one certificate (an RSA and an ECC
	// one); Members are all of that binding's certificates.
	Algorithm string   `json:"algorithm,omitempty"`
	Members   []string `json:"members,omitempty"`
}

// MarshalJSON writes p as before Place embedded clb.Address: region,
// loadBalancerId and listenerId are there even when empty (another
// product's resource), because scripts read them so.
func (p Place) MarshalJSON() ([]byte, error) {
	type place Place
	return json.Marshal(struct {
		place
		Region         string `json:"region"`
		LoadBalancerID string `json:"loadBalancerId"`
		ListenerID     string `json:"listenerId"`
	}{place(p), p.Region, p.LoadBalancerID, p.ListenerID})
}

// Check reads every lineage and, with regions, the load balancers. Only a
// certbot dir without a readable live/ is an error; everything else is in
// the report.
func (c *Checker) Check(ctx context.Context) (*Report, error) {
	now := c.opts.Now()
	rep := &Report{CheckedAt: now, CertbotDir: c.opts.CertbotDir, WarnDays: c.opts.Rule.WarnDays, CriticalDays: c.opts.Rule.CriticalDays,
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
	c.otherPlaces(ctx, rep, lins)
	rep.Status = OK
	for i := range rep.Lineages {
		st := &rep.Lineages[i]
		if lins[i] != nil {
			c.judge(st, now)
		}
		rep.Status = level.Worse(rep.Status, st.Status)
	}
	if len(rep.Failures) > 0 {
		rep.Status = level.Worse(rep.Status, Unknown)
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
		renewBefore, err := lineage.RenewBefore(dir)
		if err != nil {
			// certbot refuses such a conf too: it renews nothing.
			st.Status = Critical
			st.Reasons = append(st.Reasons, err.Error())
		}
		st.RenewBeforeExpiry = int64(renewBefore / time.Second)
		if st.Written, err = lineage.Written(dir); err != nil {
			st.Written = st.NotBefore
		}
		st.Written = st.Written.UTC()
		rep.Lineages = append(rep.Lineages, st)
		lins = append(lins, lin)
	}
	return lins, nil
}

// places fills in where each lineage is served and where it drifted, member
// by member of each binding. A member serves a lineage when its
// certificate has the lineage's leaf (by fingerprint). It has drifted when
// its certificate is older (ends sooner), is no lineage's current leaf, has
// only names the lineage covers, and is the member a deployment of the
// lineage would change: the one of the lineage's key algorithm, or any
// where the binding has none of it.
func places(rep *Report, lins []*lineage.Lineage, inv *inventory.Inventory) {
	for _, b := range inv.Bindings() {
		ids := b.Certificate.IDs()
		algs := map[string]string{}
		for _, id := range ids {
			algs[id] = strings.ToUpper(inv.Certificates[id].Algorithm)
		}
		for _, id := range ids {
			cert, ok := inv.Certificates[id]
			if !ok {
				continue
			}
			p := Place{Address: b.Address, Protocol: b.Protocol, Port: b.Port,
				Target: b.String(), CertID: cert.ID, CertNames: cert.Names, CertNotAfter: cert.NotAfter}
			if len(ids) > 1 {
				p.Algorithm, p.Members = algs[id], ids
			}
			member(rep, lins, p, cert, algs)
		}
	}
}

// member files one member's place p under the lineages it serves or
// drifted from; algs are the key algorithms of its binding's members.
func member(rep *Report, lins []*lineage.Lineage, p Place, cert inventory.Certificate, algs map[string]string) {
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
		return
	}
	for i, lin := range lins {
		if lin == nil || len(cert.Names) == 0 || !cert.NotAfter.Before(lin.Leaf.NotAfter) || len(lineage.Uncovered(lin.Names(), cert.Names)) > 0 {
			continue
		}
		alg := string(lin.Algorithm())
		if algs[cert.ID] != alg && slices.Contains(slices.Collect(maps.Values(algs)), alg) {
			// The binding's member of the lineage's algorithm is another.
			continue
		}
		rep.Lineages[i].Drift = append(rep.Lineages[i].Drift, p)
	}
}

// otherPlaces adds where each lineage with other products is served on
// them: the resources that hold one of its certificates (those CLB serves
// with its leaf, and its recorded uploads). What cannot be read is a
// failure.
func (c *Checker) otherPlaces(ctx context.Context, rep *Report, lins []*lineage.Lineage) {
	for i, lin := range lins {
		st := &rep.Lineages[i]
		types := c.opts.Products[st.Name]
		if lin == nil || len(types) == 0 {
			continue
		}
		var ids []string
		add := func(id string) {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		for _, p := range st.Served {
			add(p.CertID)
		}
		if c.opts.Uploads != nil {
			ups, err := c.opts.Uploads(st.Name, lin.Fingerprint)
			if err != nil {
				rep.Failures = append(rep.Failures, inventory.Failure{Error: fmt.Sprintf("the uploads of %s recorded in the state dir: %v", st.Name, err)})
			}
			for _, id := range ups {
				add(id)
			}
		}
		// A list of a product this lineage does not go to is not its business; what was
		// read is served either way (Bindings answers nothing else with an error).
		found, err := c.certs.Bindings(ctx, ids)
		if err := ssl.UnreadOf(err, types); err != nil {
			rep.Failures = append(rep.Failures, inventory.Failure{Error: fmt.Sprintf("where %s is served on %s: %v", st.Name, strings.Join(types, ", "), err)})
		}
		for _, r := range found {
			if slices.Contains(types, r.Type) {
				st.Served = append(st.Served, Place{Product: r.Type, Address: clb.Address{Region: r.Region, Domain: r.Domain}, Target: r.String(), CertID: r.CertID,
					CertNames: st.Names, CertNotAfter: st.NotAfter})
			}
		}
	}
}

// judge sets a loaded lineage's level from its leaf's dates and its drift.
func (c *Checker) judge(st *LineageState, now time.Time) {
	cert := level.Cert{NotBefore: st.NotBefore, NotAfter: st.NotAfter, RenewBefore: time.Duration(st.RenewBeforeExpiry) * time.Second}
	v := c.opts.Rule.Judge(cert, len(st.Drift), st.Written, now)
	if len(st.Drift) > 0 {
		// The lag's reason comes last and names no command: this one deploys the lineage.
		v.Reason += ": run " + notify.FinishCommand(st.Dir)
	}
	st.Lifetime, st.LifetimeSeconds = level.Words(v.Lifetime), int64(v.Lifetime/time.Second)
	st.RenewalDue, st.Reason = v.RenewalDue.UTC(), v.Reason
	if v.Level != OK {
		st.Reasons = append(st.Reasons, v.Reason)
	}
	st.Status = level.Worse(st.Status, v.Level)
}
