package dns01

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// check is one record on one server; done once the server serves it.
type check struct {
	rec    Record
	server server
	done   bool
	err    error
}

// Wait returns once every record is served by every authoritative nameserver
// of its zone (or by the --dns-server), polling them all directly and in
// parallel with a growing interval — one wait for all the names of a
// certificate, not one per name. It fails after PropagationTimeout, naming
// what was still missing where.
func (p *Provider) Wait(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.opts.PropagationTimeout)
	defer cancel()

	var checks []*check
	for _, rec := range recs {
		servers, err := p.dns.zoneServers(ctx, rec.Zone)
		if err != nil {
			return err
		}
		for _, s := range servers {
			checks = append(checks, &check{rec: rec, server: s})
		}
	}
	p.log.Info("waiting for TXT records on the authoritative nameservers", "records", len(recs), "checks", len(checks), "timeout", p.opts.PropagationTimeout)

	interval := p.opts.PollInterval
	for {
		if p.round(ctx, checks) {
			p.log.Info("TXT records visible everywhere", "records", len(recs), "took", time.Since(start).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				// Stopped (SIGTERM, Ctrl-C), not timed out: a longer
				// --propagation-timeout would not have helped.
				return fmt.Errorf("stopped after %s while waiting for TXT records: %w", time.Since(start).Round(100*time.Millisecond), err)
			}
			return p.timeoutError(checks, time.Since(start))
		case <-time.After(interval):
		}
		interval = min(interval*3/2, p.opts.PollMax)
	}
}

// round queries every pending check once, concurrently, and reports
// whether all are done.
func (p *Provider) round(ctx context.Context, checks []*check) bool {
	var wg sync.WaitGroup
	for _, c := range checks {
		if c.done {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.done, c.err = p.dns.hasTXT(ctx, c.server, c.rec.Target, c.rec.Value)
		}()
	}
	wg.Wait()
	for _, c := range checks {
		if !c.done {
			return false
		}
	}
	return true
}

func (p *Provider) timeoutError(checks []*check, took time.Duration) error {
	var missing []string
	var first *check
	for _, c := range checks {
		if c.done {
			continue
		}
		if first == nil {
			first = c
		}
		missing = append(missing, c.rec.Target+" on "+c.server.String())
	}
	detail := ""
	if first.err != nil {
		detail = fmt.Sprintf(" (last error: %v)", first.err)
	}
	return fmt.Errorf("%w after %s: %s%s: check that the zone is delegated to these nameservers",
		ErrNotPropagated, took.Round(100*time.Millisecond), strings.Join(missing, ", "), detail)
}
