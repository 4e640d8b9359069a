// Package inventory is a read-only view of an account's load balancers and
// the certificates they serve: in some CLB regions, every load balancer with
// its listeners and forwarding rules (certificate, scheduler, session
// persistence, health check), and each referenced certificate as the SSL
// service describes it. Deploy discovers its targets with it, and the
// operator commands (status, listeners, doctor) show and audit it; none of
// them describes a load balancer any other way.
//
// It never changes anything. One load balancer (or region) that cannot be
// read is a Failure beside the others, not an error for all of them.
package inventory

import (
	"context"
	"slices"
	"sync"

	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Inventory is what Collect found.
type Inventory struct {
	Regions       []string       `json:"regions"`
	LoadBalancers []LoadBalancer `json:"loadBalancers"`
	// Certificates are the certificates the listeners and rules reference,
	// by id: every member of a binding, and the client CA of a MUTUAL one.
	// An id the SSL service does not know (deleted, or another account's)
	// is absent.
	Certificates map[string]Certificate `json:"certificates"`
	// Failures are what could not be read: a region's list of load
	// balancers, one load balancer's listeners, one certificate's details.
	Failures []Failure `json:"failures,omitempty"`
}

// Certificate is a certificate in the SSL service, as pkg/ssl describes it.
type Certificate = ssl.Certificate

// Failure is a part of the account that could not be read.
type Failure struct {
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId,omitempty"`
	CertificateID  string `json:"certificateId,omitempty"`
	Error          string `json:"error"`
	// Code is the API's error code when the failure was its answer, e.g.
	// InvalidParameter.RegionNotFound for a region CLB does not have.
	Code string `json:"code,omitempty"`
}

// Where names the part that failed, e.g. "ap-guangzhou lb-abc",
// "certificate Abc123" or, with nothing set but Error, "the SSL service".
func (f Failure) Where() string {
	switch {
	case f.CertificateID != "":
		return "certificate " + f.CertificateID
	case f.LoadBalancerID != "":
		return f.Region + " " + f.LoadBalancerID
	case f.Region == "":
		return "the SSL service"
	}
	return f.Region + " (every load balancer)"
}

// Options tunes a Client. Zero values take the defaults given per field.
type Options struct {
	// Concurrency is how many load balancers of one region are described at
	// once (each region has its own rate budget).
	// Default 64: the per-action rate limit, not this, sets the pace.
	Concurrency int
	// Fingerprints makes Collect describe every referenced certificate in
	// detail (DescribeCertificateDetail, one call per certificate) to learn
	// its fingerprint. Deployment does without; status needs it.
	Fingerprints bool
}

// Client reads load balancers and certificates.
type Client struct {
	opts Options
	clb  *clb.Client
	ssl  *ssl.Client
}

// New builds a Client with API clients of its own. Share cfg.Limiter with
// everything else in the process that calls the same account.
func New(cfg tencent.Config, opts Options) (*Client, error) {
	s, err := ssl.New(cfg, ssl.Options{})
	if err != nil {
		return nil, err
	}
	return Of(clb.New(cfg, clb.Options{}), s, opts), nil
}

// Of builds a Client that reads through the given API clients, for a
// workflow that changes things through them too.
func Of(c *clb.Client, s *ssl.Client, opts Options) *Client {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	return &Client{opts: opts, clb: c, ssl: s}
}

// Collect reads every load balancer of the regions with its listeners, and
// the certificates they reference. Load balancers are described several at
// once. The error is non-nil only if the certificates could not be listed;
// the load balancers found are returned even then.
func (c *Client) Collect(ctx context.Context, regions []string) (*Inventory, error) {
	inv := &Inventory{Regions: slices.Clone(regions), Certificates: map[string]Certificate{}}
	var lbs []LoadBalancer
	for _, r := range regions {
		found, err := c.clb.LoadBalancers(ctx, r)
		if err != nil {
			inv.Failures = append(inv.Failures, Failure{Region: r, Error: err.Error(), Code: tencent.CodeOf(err)})
			continue
		}
		lbs = append(lbs, found...)
	}
	errs := make([]error, len(lbs))
	c.each(len(lbs), func(i int) string { return lbs[i].Region }, func(i int) {
		lbs[i].Listeners, errs[i] = c.Listeners(ctx, lbs[i].Region, lbs[i].ID)
	})
	for i, err := range errs {
		if err != nil {
			inv.Failures = append(inv.Failures, Failure{Region: lbs[i].Region, LoadBalancerID: lbs[i].ID, Error: err.Error()})
			continue
		}
		inv.LoadBalancers = append(inv.LoadBalancers, lbs[i])
	}
	slices.SortFunc(inv.LoadBalancers, func(a, b LoadBalancer) int {
		return a.Address().Compare(b.Address())
	})

	certs, err := c.ssl.Certificates(ctx, inv.certIDs())
	if err != nil {
		return inv, err
	}
	inv.Certificates = certs
	if c.opts.Fingerprints {
		inv.Failures = append(inv.Failures, c.addFingerprints(ctx, certs)...)
	}
	return inv, nil
}

// each runs fn(0) … fn(n-1), Concurrency at a time per region(i): each
// CLB region's calls spend the rate budget of its own access region, so one
// region's queue must not hold back another's (docs/BENCHMARKS.md).
func (c *Client) each(n int, region func(i int) string, fn func(i int)) {
	sems := map[string]chan struct{}{}
	for i := range n {
		if r := region(i); sems[r] == nil {
			sems[r] = make(chan struct{}, c.opts.Concurrency)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		sem := sems[region(i)]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// certIDs lists, sorted, the certificates the listeners and rules
// reference: members and client CAs.
func (inv *Inventory) certIDs() []string {
	seen := map[string]bool{}
	add := func(ref *CertRef) {
		for _, id := range ref.IDs() {
			seen[id] = true
		}
		if ref != nil && ref.CAID != "" {
			seen[ref.CAID] = true
		}
	}
	for _, lb := range inv.LoadBalancers {
		for _, l := range lb.Listeners {
			add(l.Certificate)
			for _, r := range l.Rules {
				add(r.Certificate)
			}
		}
	}
	var out []string
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (c *Client) addFingerprints(ctx context.Context, certs map[string]Certificate) []Failure {
	ids := make([]string, 0, len(certs))
	for id := range certs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	type result struct {
		sha256, sha1 string
		err          error
	}
	results := make([]result, len(ids))
	// The SSL service is one global host: one budget.
	c.each(len(ids), func(int) string { return "" }, func(i int) {
		r := &results[i]
		r.sha256, r.sha1, r.err = c.ssl.Fingerprint(ctx, ids[i])
	})
	var failures []Failure
	for i, id := range ids {
		r := results[i]
		if r.err != nil {
			failures = append(failures, Failure{CertificateID: id, Error: r.err.Error()})
			continue
		}
		cert := certs[id]
		cert.Fingerprint, cert.FingerprintSHA1 = r.sha256, r.sha1
		certs[id] = cert
	}
	return failures
}
