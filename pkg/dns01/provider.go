// Package dns01 answers ACME DNS-01 challenges with TXT records in DNSPod:
// it finds the zone that holds a challenge name (following a CNAME on
// _acme-challenge), creates and removes exactly its own TXT values, and
// waits until every authoritative nameserver serves them.
package dns01

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// Options tunes a Provider. Zero values take the defaults given per field.
type Options struct {
	// TTL of the TXT records. Default 600, the minimum of DNSPod's free plan
	// (anything lower is refused there with LimitExceeded.RecordTtlLimit).
	// Authoritative checks make the TTL irrelevant to how fast a record is
	// seen, so there is nothing to gain from going lower.
	TTL uint64
	// PropagationTimeout bounds the wait for every record to be served by
	// every nameserver of its zone. Default 180 s.
	PropagationTimeout time.Duration
	// DNSServer (host:port), if set, is the only server asked — for CNAMEs and
	// for propagation — instead of each zone's authoritative nameservers.
	DNSServer string
	// Resolvers (host:port) are asked only for a zone's NS records and the
	// nameservers' addresses, never for a challenge name: a resolver that
	// cached an early NXDOMAIN would hide the record for the zone's negative
	// TTL (180 s on DNSPod's free plan). Required unless DNSServer is set.
	Resolvers []string
	// NameserverPort is where authoritative nameservers are asked. Default 53.
	NameserverPort int
	// DNSTimeout bounds one DNS query. Default 2 s.
	DNSTimeout time.Duration
	// PollInterval is the first pause between propagation checks; it grows by
	// half each round up to PollMax, so a record that appears within a second
	// is noticed within ~100 ms and a slow zone is not hammered. Defaults
	// 100 ms and 1 s.
	PollInterval, PollMax time.Duration
	// ListingGrace is how long a record looked up by name and value (its id
	// unknown) may take to show in DescribeRecordList; DNSPod documents up to
	// 30 s for new records. Default 30 s.
	ListingGrace time.Duration
	// Logger gets progress lines; nil discards them.
	Logger *slog.Logger

	// zonePageSize is DescribeDomainList's page; tests shrink it to exercise paging.
	zonePageSize uint64
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.TTL == 0 {
		o.TTL = 600
	}
	if o.NameserverPort == 0 {
		o.NameserverPort = 53
	}
	if o.zonePageSize == 0 {
		o.zonePageSize = 3000
	}
	def(&o.PropagationTimeout, 180*time.Second)
	def(&o.DNSTimeout, 2*time.Second)
	def(&o.PollInterval, 100*time.Millisecond)
	def(&o.PollMax, time.Second)
	def(&o.ListingGrace, 30*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Provider presents and cleans up TXT records in the DNSPod zones of one
// Tencent Cloud account.
type Provider struct {
	opts Options
	api  *dnspodAPI
	dns  *dnsClient
	log  *slog.Logger

	zoneList []zone // fetched once per process: a hook run is short
}

// The errors a user mends with a setting; the binaries name it.
var (
	// ErrTTLRefused is DNSPod refusing a TTL below the zone plan's minimum.
	ErrTTLRefused = errors.New("the zone's plan has a higher minimum TTL")
	// ErrNotPropagated is a TXT record some nameserver did not serve in
	// time.
	ErrNotPropagated = errors.New("TXT records not visible")
	// ErrNoNameservers is a zone whose authoritative nameservers cannot be
	// found, for want of a resolver or an answer.
	ErrNoNameservers = errors.New("cannot find the zone's nameservers")
)

// New builds a Provider from a Tencent Cloud configuration.
func New(cfg tencent.Config, opts Options) (*Provider, error) {
	opts = opts.withDefaults()
	if opts.DNSServer == "" && len(opts.Resolvers) == 0 {
		return nil, fmt.Errorf("%w: no DNS resolver to find them with: list a nameserver in /etc/resolv.conf", ErrNoNameservers)
	}
	api, err := newDNSPodAPI(cfg, opts.zonePageSize)
	if err != nil {
		return nil, err
	}
	return &Provider{
		opts: opts,
		api:  api,
		dns: &dnsClient{
			resolvers: opts.Resolvers,
			override:  opts.DNSServer,
			port:      strconv.Itoa(opts.NameserverPort),
			timeout:   opts.DNSTimeout,
			cache:     map[string][]server{},
		},
		log: opts.Logger,
	}, nil
}

// Record identifies one TXT value this tool created.
type Record struct {
	// Name is the challenge name asked for (_acme-challenge.<domain>).
	Name string `json:"name"`
	// Target is where the TXT lives: Name, or the end of its CNAME chain.
	Target string `json:"target"`
	Zone   string `json:"zone"`
	ID     uint64 `json:"id"`
	Value  string `json:"value"`
}

// String is the record's identity as the auth hook prints it, for certbot to
// hand back to the cleanup hook. It holds no value: certbot passes that too.
func (r Record) String() string {
	s := fmt.Sprintf("zone=%s id=%d name=%s", r.Zone, r.ID, r.Name)
	if r.Target != r.Name {
		s += " target=" + r.Target
	}
	return s
}

// ParseRecord reads what String wrote.
func ParseRecord(s string) (Record, error) {
	var r Record
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "zone":
			r.Zone = v
		case "id":
			id, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return Record{}, fmt.Errorf("record identity %q: bad id", s)
			}
			r.ID = id
		case "name":
			r.Name = v
		case "target":
			r.Target = v
		}
	}
	if r.Zone == "" || r.ID == 0 || r.Name == "" {
		return Record{}, fmt.Errorf("record identity %q is not one clbcert-dns printed (want zone=… id=… name=…)", s)
	}
	if r.Target == "" {
		r.Target = r.Name
	}
	return r, nil
}

// Present publishes value as a TXT record at fqdn (or at the end of fqdn's
// CNAME chain), adding to any values already there.
func (p *Provider) Present(ctx context.Context, fqdn, value string) (Record, error) {
	rec, err := p.Locate(ctx, fqdn, value)
	if err != nil {
		return Record{}, err
	}
	id, err := p.api.createTXT(ctx, rec.Zone, relative(rec.Target, rec.Zone), value, p.opts.TTL)
	switch {
	case tencent.IsCode(err, "LimitExceeded.RecordTtlLimit"):
		return Record{}, ttlError(err, p.opts.TTL, rec.Zone)
	case tencent.IsCode(err, "InvalidParameter.DomainRecordExist"):
		// Our own earlier attempt got through before its answer was lost: the
		// value is this challenge's, so the record is ours.
		id, err = p.adopt(ctx, rec)
	}
	if err != nil {
		return Record{}, fmt.Errorf("create TXT %s in DNSPod zone %s: %w", rec.Target, rec.Zone, err)
	}
	rec.ID = id
	p.log.Info("created TXT record", "name", rec.Target, "zone", rec.Zone, "id", id)
	return rec, nil
}

func (p *Provider) adopt(ctx context.Context, rec Record) (uint64, error) {
	ids, err := p.findByValue(ctx, rec, p.opts.ListingGrace)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, errors.New("DNSPod says an identical record exists but does not list it")
	}
	return ids[0], nil
}

// CleanUp deletes the record rec.ID if it still exists; if the id is gone
// or unknown (0), it deletes the TXT records at rec.Target whose value is
// rec.Value — and never any other. rec.ID must be one this tool recorded
// itself: an id from outside goes through DeleteByValue.
func (p *Provider) CleanUp(ctx context.Context, rec Record) error {
	grace := p.opts.ListingGrace
	if rec.ID != 0 {
		err := p.api.deleteRecord(ctx, rec.Zone, rec.ID)
		if err == nil {
			p.log.Info("deleted TXT record", "name", rec.Target, "zone", rec.Zone, "id", rec.ID)
			return nil
		}
		if !tencent.IsCode(err, "InvalidParameter.RecordIdInvalid") {
			return fmt.Errorf("delete TXT record %d (%s) from DNSPod zone %s: %w", rec.ID, rec.Target, rec.Zone, err)
		}
		p.log.Info("record id is gone; looking the value up by name", "id", rec.ID, "name", rec.Target)
		// A record that had an id is old enough to be listed already.
		grace = 0
	}
	_, err := p.deleteByValue(ctx, rec, grace)
	return err
}

// DeleteByValue deletes the TXT records at rec.Target whose value is
// rec.Value, ignoring rec.ID, and returns their ids.
func (p *Provider) DeleteByValue(ctx context.Context, rec Record) ([]uint64, error) {
	return p.deleteByValue(ctx, rec, p.opts.ListingGrace)
}

func (p *Provider) deleteByValue(ctx context.Context, rec Record, grace time.Duration) ([]uint64, error) {
	ids, err := p.findByValue(ctx, rec, grace)
	if err != nil {
		return nil, fmt.Errorf("find TXT %s = %q in DNSPod zone %s: %w", rec.Target, rec.Value, rec.Zone, err)
	}
	for _, id := range ids {
		if err := p.api.deleteRecord(ctx, rec.Zone, id); err != nil && !tencent.IsCode(err, "InvalidParameter.RecordIdInvalid") {
			return nil, fmt.Errorf("delete TXT record %d (%s) from DNSPod zone %s: %w", id, rec.Target, rec.Zone, err)
		}
		p.log.Info("deleted TXT record", "name", rec.Target, "zone", rec.Zone, "id", id)
	}
	return ids, nil
}

// Locate fills in where a challenge name's record lives (its CNAME target and
// zone) without creating anything: for cleanups whose record id is unknown.
func (p *Provider) Locate(ctx context.Context, fqdn, value string) (Record, error) {
	fqdn = normalize(fqdn)
	target, z, err := p.locate(ctx, fqdn)
	if err != nil {
		return Record{}, err
	}
	return Record{Name: fqdn, Target: target, Zone: z.Name, Value: value}, nil
}

// findByValue lists the TXT records at rec.Target with rec.Value, waiting up
// to grace for a new record to appear in the listing.
func (p *Provider) findByValue(ctx context.Context, rec Record, grace time.Duration) ([]uint64, error) {
	deadline := time.Now().Add(grace)
	wait := time.Second
	for {
		recs, err := p.api.listTXT(ctx, rec.Zone, relative(rec.Target, rec.Zone))
		if err != nil {
			return nil, err
		}
		var ids []uint64
		for _, r := range recs {
			if r.Value == rec.Value {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) > 0 || time.Now().Add(wait).After(deadline) {
			return ids, nil
		}
		p.log.Info("record not listed yet (DNSPod lists new records up to 30 s late); retrying", "name", rec.Target, "wait", wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 8*time.Second)
	}
}
