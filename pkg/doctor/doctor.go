// Package doctor audits load balancers and certbot lineages against what
// keeps HTTPS on CLB working, and says for each problem how to fix it:
// certificate dates, chains and keys, SNI and name coverage, what a TLS
// handshake really gets, the TLS versions allowed, health checks and the
// health of the backends. Safe fixes (health check settings, TLS versions)
// it can apply through package tune; the others it only advises.
//
// Each check is a small function over facts gathered once: the inventory,
// the load balancers' customized configurations and backend health, the
// local lineages and TLS handshakes with every reachable listener.
package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Options configures a Doctor. Zero values take the defaults given per
// field.
type Options struct {
	// Regions are the CLB regions to audit; at least one.
	Regions []string
	// CertbotDir is certbot's config dir, whose live/* lineages are
	// validated; "" leaves local lineages out.
	CertbotDir string
	// Rule judges served certificates' dates (package level); the zero
	// value is the lifetime rule.
	Rule level.Rule
	// ProbeTimeout bounds each TLS handshake, connecting included.
	// Default 5 s.
	ProbeTimeout time.Duration
	// Concurrency is how many handshakes run at once. Default 16.
	Concurrency int
	// Products are, per lineage name, the products clbcert-deploy
	// updates for it (by the SSL service's names); a lineage not listed
	// has clb alone.
	Products map[string][]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Doctor audits an account.
type Doctor struct {
	opts   Options
	inv    *inventory.Client
	certs  *ssl.Client
	prober prober
}

// New builds a Doctor. inv must collect fingerprints
// (inventory.Options.Fingerprints), or served certificates cannot be
// compared with the bound ones. certs finds where the lineages' older
// certificates are bound across products; nil leaves that check out.
func New(opts Options, inv *inventory.Client, certs *ssl.Client) (*Doctor, error) {
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = 5 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case opts.Rule.Check() != nil:
		return nil, opts.Rule.Check()
	case len(opts.Regions) == 0:
		return nil, fmt.Errorf("nothing to audit: %w", tencent.ErrNoRegion)
	case inv == nil:
		return nil, errors.New("doctor: no inventory client")
	}
	return &Doctor{opts: opts, inv: inv, certs: certs, prober: prober{timeout: opts.ProbeTimeout, dialer: &net.Dialer{}}}, nil
}

// Report is what Examine found. Its JSON (--json) is for scripts and
// monitoring: every list is present (empty rather than null).
type Report struct {
	// Status is OK, WARNING, CRITICAL or UNKNOWN, as monitoring plugins
	// say it, and ExitCode its exit status (see ExitCode).
	Status     string    `json:"status"`
	ExitCode   int       `json:"exitCode"`
	CheckedAt  time.Time `json:"checkedAt"`
	Regions    []string  `json:"regions"`
	CertbotDir string    `json:"certbotDir,omitempty"`
	// Checked counts what was looked at.
	Checked Checked `json:"checked"`
	// Findings are most severe first.
	Findings []Finding `json:"findings"`
	// Failures are the parts of the cloud that could not be read; the
	// checks that needed them were skipped there.
	Failures []inventory.Failure `json:"failures"`
	// Fix is what --fix did; nil without it.
	Fix *FixReport `json:"fix,omitempty"`

	// inv is what the findings are about, for Fix to plan on.
	inv *inventory.Inventory
}

// Checked counts what a report looked at, so that "no findings" can be told
// from "nothing there".
type Checked struct {
	LoadBalancers int `json:"loadBalancers"`
	Listeners     int `json:"listeners"`
	Certificates  int `json:"certificates"`
	Lineages      int `json:"lineages"`
	// Handshakes are the TLS handshakes that reached a listener.
	Handshakes int `json:"handshakes"`
}

func (f *facts) checked() Checked {
	c := Checked{LoadBalancers: len(f.inv.LoadBalancers), Certificates: len(f.inv.Certificates), Lineages: len(f.lineages)}
	for _, lb := range f.inv.LoadBalancers {
		c.Listeners += len(lb.Listeners)
	}
	for _, p := range f.probes {
		if p.Reached {
			c.Handshakes++
		}
	}
	return c
}

// Exit statuses, as monitoring plugins use them.
const (
	ExitOK       = 0 // nothing above info
	ExitWarning  = 1 // warnings, nothing critical
	ExitCritical = 2 // something critical
	ExitUnknown  = 3 // nothing critical found, but part of the cloud could not be read
)

// ExitCode is the exit status for findings and failures: a known critical
// problem outranks not having read everything, which outranks warnings.
func ExitCode(findings []Finding, failures []inventory.Failure) int {
	worst := Info
	for _, f := range findings {
		worst = max(worst, f.Severity)
	}
	switch {
	case worst == Critical:
		return ExitCritical
	case len(failures) > 0:
		return ExitUnknown
	case worst == Warning:
		return ExitWarning
	}
	return ExitOK
}

func statusName(code int) string {
	switch code {
	case ExitOK:
		return "OK"
	case ExitWarning:
		return "WARNING"
	case ExitCritical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// facts is everything the checks look at, gathered once.
type facts struct {
	now  time.Time
	rule level.Rule
	inv  *inventory.Inventory
	// certsListed is false when the SSL service could not list the
	// certificates: a certificate missing from inv.Certificates then says
	// nothing.
	certsListed bool
	// configs are the TLS versions of each load balancer with HTTPS
	// listeners whose customized configuration could be read.
	configs map[string]lbConfig
	// targets are the backends of each unit (unit.key); healthRead has
	// the load balancers whose backends could be read.
	targets    map[string][]inventory.TargetHealth
	healthRead map[string]bool
	lineages   []localLineage
	// probes are the handshakes by the binding's Key, legacy the TLS 1.1
	// probes of HTTPS listeners by the listener's Key, members those of
	// each member of a dual binding by memberKey.
	probes  map[string]probe
	legacy  map[string]probe
	members map[string]probe
	// stale are the resources of any product that hold an older
	// certificate of a lineage; roleMissing is why they could not be
	// looked for, if the SSL service's role is missing.
	stale       []stale
	roleMissing error
}

// checks are run in this order; sortFindings orders what they find.
func checks() []func(*facts) []Finding {
	return []func(*facts) []Finding{
		checkCertDates, checkLineages, checkNames, checkHandshakes,
		checkDualMembers, checkClientCAs,
		checkTLSProtocols, checkHealthChecks, checkBackends,
	}
}

// Examine gathers the facts and runs every check. Only a certbot dir that
// cannot be read is an error; what the cloud would not tell is in
// Report.Failures.
func (d *Doctor) Examine(ctx context.Context) (*Report, error) {
	f, failures, err := d.gather(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{CheckedAt: f.now, Regions: slices.Clone(d.opts.Regions), CertbotDir: d.opts.CertbotDir,
		Checked: f.checked(), Findings: run(f, d.checkProducts), Failures: failures, inv: f.inv}
	if rep.Failures == nil {
		rep.Failures = []inventory.Failure{}
	}
	rep.ExitCode = ExitCode(rep.Findings, rep.Failures)
	rep.Status = statusName(rep.ExitCode)
	return rep, nil
}

// run applies every check to f, and the extra ones.
func run(f *facts, extra ...func(*facts) []Finding) []Finding {
	out := []Finding{}
	for _, check := range append(checks(), extra...) {
		out = append(out, check(f)...)
	}
	sortFindings(out)
	return out
}

func (d *Doctor) gather(ctx context.Context) (*facts, []inventory.Failure, error) {
	f := &facts{now: d.opts.Now(), rule: d.opts.Rule,
		configs: map[string]lbConfig{}, targets: map[string][]inventory.TargetHealth{}, healthRead: map[string]bool{},
		probes: map[string]probe{}, legacy: map[string]probe{}, members: map[string]probe{}}
	if d.opts.CertbotDir != "" {
		var err error
		if f.lineages, err = loadLineages(d.opts.CertbotDir, f.now); err != nil {
			return nil, nil, err
		}
	}
	inv, err := d.inv.Collect(ctx, d.opts.Regions)
	var failures []inventory.Failure
	if err != nil {
		failures = append(failures, inventory.Failure{Error: err.Error()})
	} else {
		f.certsListed = true
	}
	failures = append(failures, inv.Failures...)
	f.inv = inv
	for _, region := range d.opts.Regions {
		failures = append(failures, d.readLoadBalancers(ctx, f, region)...)
	}
	failures = append(failures, d.gatherProducts(ctx, f)...)
	d.probeAll(ctx, f)
	return f, failures, nil
}

// readLoadBalancers reads, for the load balancers of region that Collect
// could read, their customized configurations (those with HTTPS
// listeners) and the health of their backends.
func (d *Doctor) readLoadBalancers(ctx context.Context, f *facts, region string) []inventory.Failure {
	var all, withHTTPS []string
	protocols := map[string]string{}
	for _, lb := range f.inv.LoadBalancers {
		if lb.Region != region {
			continue
		}
		all = append(all, lb.ID)
		for _, l := range lb.Listeners {
			protocols[lb.At(l, nil).Key()] = l.Protocol
			if l.Protocol == "HTTPS" && !slices.Contains(withHTTPS, lb.ID) {
				withHTTPS = append(withHTTPS, lb.ID)
			}
		}
	}
	var failures []inventory.Failure
	if configs, err := d.inv.CustomizedConfigs(ctx, region, withHTTPS); err != nil {
		failures = append(failures, inventory.Failure{Region: region, Error: err.Error()})
	} else {
		for _, id := range withHTTPS {
			var c lbConfig
			var bound *inventory.CustomizedConfig
			if cfg, ok := configs[id]; ok {
				c.configID, c.shared = cfg.ID, cfg.LoadBalancerIDs
				bound = &cfg
			}
			c.protocols, c.configured = inventory.EffectiveTLSProtocols(bound)
			f.configs[id] = c
		}
	}
	health, err := d.inv.TargetHealth(ctx, region, all)
	if err != nil {
		return append(failures, inventory.Failure{Region: region, Error: err.Error()})
	}
	for _, id := range all {
		f.healthRead[id] = true
	}
	for _, t := range health {
		loc := t.LocationID
		// A layer-4 listener has one list of targets, whatever CLB calls it.
		if !inventory.IsLayer7(protocols[t.Listener().Key()]) {
			loc = ""
		}
		key := clb.Address{Region: t.Region, LoadBalancerID: t.LoadBalancerID, ListenerID: t.ListenerID, LocationID: loc}.Key()
		f.targets[key] = append(f.targets[key], t)
	}
	return failures
}

// probeKind tells where a handshake's result goes.
type probeKind int

const (
	bindingProbe probeKind = iota // facts.probes
	legacyProbe                   // facts.legacy
	memberProbe                   // facts.members
)

// probeJob is one handshake probeAll makes.
type probeJob struct {
	key, addr, name string
	kind            probeKind
	minVer, maxVer  uint16
	// suites narrows the TLS 1.2 cipher suites offered; nil offers Go's.
	suites []uint16
}

// probeAll shakes hands with every binding that has an address (and with
// each member of a dual one), and offers at most TLS 1.1 to every
// reachable HTTPS listener, Concurrency at once.
func (d *Doctor) probeAll(ctx context.Context, f *facts) {
	var jobs []probeJob
	domains := map[string][]string{}
	for _, lb := range f.inv.LoadBalancers {
		for _, l := range lb.Listeners {
			domains[lb.At(l, nil).Key()] = ruleDomains(l)
		}
	}
	legacyPlanned := map[string]bool{}
	for _, b := range f.inv.Bindings() {
		if b.Addr == "" {
			continue
		}
		lk := b.Listener().Key()
		name := probeName(b.ServerName, domains[lk])
		jobs = append(jobs, probeJob{key: b.Key(), addr: b.Addr, name: name, minVer: tls.VersionTLS12, maxVer: tls.VersionTLS13})
		jobs = append(jobs, memberJobs(b, name, f.inv.Certificates)...)
		// One TLS 1.1 probe per HTTPS listener: the versions belong to the
		// load balancer, not to a domain.
		if b.Protocol == "HTTPS" && !legacyPlanned[lk] {
			legacyPlanned[lk] = true
			jobs = append(jobs, probeJob{key: lk, addr: b.Addr, name: name, kind: legacyProbe, minVer: tls.VersionTLS10, maxVer: tls.VersionTLS11})
		}
	}
	results := make([]probe, len(jobs))
	sem := make(chan struct{}, d.opts.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = d.prober.handshake(ctx, j.addr, j.name, j.minVer, j.maxVer, j.suites)
		})
	}
	wg.Wait()
	for i, j := range jobs {
		switch j.kind {
		case legacyProbe:
			f.legacy[j.key] = results[i]
		case memberProbe:
			f.members[j.key] = results[i]
		default:
			f.probes[j.key] = results[i]
		}
	}
}
