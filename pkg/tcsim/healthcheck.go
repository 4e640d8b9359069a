package tcsim

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxCheckBody is how much of a GET check's answer is read before the connection closes.
const maxCheckBody = 8 << 10

// healthChecker probes the targets of every listener and rule whose health check is on, and
// keeps their state in the model: Unknown → Alive after HealthNum consecutive successes,
// Unknown → Dead after UnHealthNum consecutive failures, and between Alive and Dead the
// same way, as CLB's documentation describes. It re-reads the model every unit, so targets
// and settings changed through the API are checked from the next round; a target's
// counters live on its model entry, found again by listener, rule and address, so they
// carry over between rounds as long as it stays registered.
//
// Time runs in units: an IntervalTime or TimeOut of n seconds lasts n units
// (Options.HealthCheckUnit), so tests can check every few milliseconds. Checks use the
// real clock, not Options.Now: they are real probes on real sockets.
type healthChecker struct {
	c      *cloud
	unit   time.Duration
	log    *slog.Logger
	dialer *net.Dialer
	client *http.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// checkTarget is one target to probe, copied out of the model.
type checkTarget struct {
	lbID, listenerID, locationID string // locationID "" for a layer-4 listener
	addr                         string
	health                       healthCheck
	host                         string // HTTP and HTTPS checks' Host header
}

func (t checkTarget) key() string {
	return t.lbID + "/" + t.listenerID + "/" + t.locationID + " " + t.addr
}

func startHealthChecker(c *cloud, unit time.Duration, log *slog.Logger) *healthChecker {
	ctx, cancel := context.WithCancel(context.Background())
	hc := &healthChecker{
		c: c, unit: unit, log: log, cancel: cancel,
		dialer: &net.Dialer{},
		// A check is a fresh connection each time, as CLB's are, and judges the answer it
		// gets: redirects are not followed. Proxy stays nil for loopback targets. An HTTPS
		// check takes any certificate the backend shows: backends commonly serve
		// self-signed ones behind CLB (UNCERTAIN: CLB does not document verifying them).
		client: &http.Client{
			Transport: &http.Transport{
				DisableKeepAlives: true,
				TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	hc.wg.Add(1)
	go hc.run(ctx)
	return hc
}

// stop ends the checks and waits for probes under way, which their context cuts short.
func (hc *healthChecker) stop() {
	hc.cancel()
	hc.wg.Wait()
}

// run starts each target's probe when it is due, one at a time per target: the next is due
// IntervalTime after the previous one started and never starts before it has finished, so
// every result is applied before the next probe of the target begins.
func (hc *healthChecker) run(ctx context.Context) {
	defer hc.wg.Done()
	ticker := time.NewTicker(hc.unit)
	defer ticker.Stop()
	due := map[string]time.Time{}
	busy := map[string]bool{}
	finished := make(chan string)
	for {
		now := time.Now()
		seen := map[string]bool{}
		for _, t := range hc.c.targetsToProbe() {
			key := t.key()
			seen[key] = true
			if busy[key] || now.Before(due[key]) {
				continue
			}
			busy[key] = true
			due[key] = now.Add(time.Duration(t.health.Interval) * hc.unit)
			hc.wg.Add(1)
			go func() {
				defer hc.wg.Done()
				ok := hc.probe(ctx, t)
				if ctx.Err() != nil {
					return // stopping: a cut-short probe says nothing about the target
				}
				hc.c.recordCheck(t, ok)
				select {
				case finished <- key:
				case <-ctx.Done():
				}
			}()
		}
		for key := range due {
			if !seen[key] && !busy[key] {
				delete(due, key)
			}
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return
			case key := <-finished:
				delete(busy, key)
			case <-ticker.C:
				waiting = false
			}
		}
	}
}

// probe is one check: a TCP connect, or an HTTP request whose status class must be in
// HTTPCode, within TimeOut; for an HTTPS check the same request over TLS. The backends
// tcsim runs speak plain HTTP, so an HTTPS check finds them dead, as CLB's would: it is
// for targets that serve HTTPS themselves.
func (hc *healthChecker) probe(ctx context.Context, t checkTarget) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(t.health.TimeOut)*hc.unit)
	defer cancel()
	if !asksForPath(t.health.CheckType) {
		conn, err := hc.dialer.DialContext(ctx, "tcp", t.addr)
		if err != nil {
			return false
		}
		_ = conn.Close()
		return true
	}
	scheme := "http://"
	if t.health.CheckType == checkHTTPS {
		scheme = "https://"
	}
	req, err := http.NewRequestWithContext(ctx, t.health.Method, scheme+t.addr+t.health.Path, nil)
	if err != nil {
		hc.log.Debug("tcsim health check: bad request", "target", t.addr, "err", err)
		return false
	}
	req.Host = t.host
	req.Header.Set("User-Agent", "tcsim-health-check")
	resp, err := hc.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxCheckBody))
	_ = resp.Body.Close()
	return statusIn(resp.StatusCode, t.health.HTTPCode)
}

// statusIn reports whether code's class is in CLB's HttpCode bitmask (1 = 1xx ... 16 = 5xx).
func statusIn(code, mask int) bool {
	class := code / 100
	return class >= 1 && class <= 5 && mask&(1<<(class-1)) != 0
}

// targetsToProbe lists the targets to probe now. It also keeps the states in step with the
// switches: targets of a check that is off are Close, and those of a check just switched on
// start over as Unknown. QUIC listeners are not checked: tcsim does not speak QUIC.
func (c *cloud) targetsToProbe() []checkTarget {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(c.now())
	var out []checkTarget
	add := func(lbID, listenerID, locationID, domain string, b *balancing) {
		for _, t := range b.Targets {
			switch {
			case !b.Health.On:
				t.Health, t.ok, t.fail = healthClose, 0, 0
				continue
			case t.Health == healthClose || t.Health == "":
				t.Health, t.ok, t.fail = healthUnknown, 0, 0
			}
			host := b.Health.Domain
			if host == "" {
				host = domain
			}
			out = append(out, checkTarget{
				lbID: lbID, listenerID: listenerID, locationID: locationID,
				addr: targetAddr(t), health: b.Health, host: host,
			})
		}
	}
	for _, lb := range c.lbs {
		for _, l := range lb.Listeners {
			switch {
			case l.Protocol == protoQUIC:
			case isLayer7(l.Protocol):
				for _, r := range l.Rules {
					add(lb.ID, l.ID, r.LocationID, r.Domain, &r.balancing)
				}
			default:
				add(lb.ID, l.ID, "", "", &l.balancing)
			}
		}
	}
	return out
}

// recordCheck counts a probe's result on the target it probed, if the target is still
// registered there with the check on.
func (c *cloud) recordCheck(ct checkTarget, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.balancingLocked(ct.lbID, ct.listenerID, ct.locationID)
	if b == nil || !b.Health.On {
		return
	}
	for _, t := range b.Targets {
		if targetAddr(t) != ct.addr {
			continue
		}
		if ok {
			t.ok, t.fail = t.ok+1, 0
			if t.Health != healthAlive && t.ok >= b.Health.HealthNum {
				t.Health = healthAlive
			}
		} else {
			t.ok, t.fail = 0, t.fail+1
			if t.Health != healthDead && t.fail >= b.Health.UnHealthNum {
				t.Health = healthDead
			}
		}
		return
	}
}

// balancingLocked is the balancing of a layer-4 listener (locationID "") or of a rule; nil
// if it is gone.
func (c *cloud) balancingLocked(lbID, listenerID, locationID string) *balancing {
	_, l := c.findLocked(lbID, listenerID)
	if l == nil {
		return nil
	}
	if locationID == "" {
		if isLayer7(l.Protocol) {
			return nil
		}
		return &l.balancing
	}
	if r := ruleByLocation(l, locationID); r != nil {
		return &r.balancing
	}
	return nil
}
