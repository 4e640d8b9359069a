package deploy

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// verify checks every updated target twice: CLB must describe the new
// certificate on it, and where the listener is reachable from here a TLS
// handshake with the target's server name must return the new leaf.
func (d *Deployer) verify(ctx context.Context, rep *Report) {
	type lbKey struct{ region, lb string }
	described := map[lbKey][]listener{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range rep.Targets {
		t := &rep.Targets[i]
		if t.Status != StatusUpdated && t.Status != StatusUnchanged {
			continue
		}
		k := lbKey{t.Region, t.LoadBalancerID}
		mu.Lock()
		_, done := described[k]
		if !done {
			described[k] = nil
		}
		mu.Unlock()
		if done {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ls, err := d.cloud.listeners(ctx, k.region, k.lb)
			if err != nil {
				d.log.Warn("could not describe listeners to verify", "lb", k.lb, "error", err)
			}
			mu.Lock()
			described[k] = ls
			mu.Unlock()
		}()
	}
	wg.Wait()

	for i := range rep.Targets {
		t := &rep.Targets[i]
		if t.Status != StatusUpdated && t.Status != StatusUnchanged {
			continue
		}
		if got := servedID(described[lbKey{t.Region, t.LoadBalancerID}], t.Target); got != rep.CertID {
			t.Status, t.Error = StatusFailed, fmt.Sprintf("CLB describes certificate %q on it, not %s", got, rep.CertID)
			continue
		}
		t.Verified = "describe"
	}
	for i := range rep.Targets {
		t := &rep.Targets[i]
		if t.Verified != "describe" || t.Addr == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := d.handshake(ctx, t.Addr, t.ServerName, rep.Fingerprint); {
			case err == nil:
				t.Verified = "tls"
			case errors.Is(err, errUnreachable):
				t.Verified = "describe (listener not reachable from here)"
			default:
				t.Status, t.Error = StatusFailed, err.Error()
			}
		}()
	}
	wg.Wait()
}

func servedID(ls []listener, t Target) string {
	for _, l := range ls {
		if l.ID != t.ListenerID {
			continue
		}
		if t.Domain == "" {
			return l.Cert.ID
		}
		for _, d := range l.Domains {
			if d.Name == t.Domain {
				return d.Cert.ID
			}
		}
	}
	return ""
}

var errUnreachable = errors.New("unreachable")

// handshake connects to addr with SNI serverName until the leaf it gets has
// the wanted fingerprint or VerifyTimeout passes. Trust is not checked: the
// question is which certificate is served, not whether this host trusts it.
func (d *Deployer) handshake(ctx context.Context, addr, serverName, wantFP string) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.VerifyTimeout)
	defer cancel()
	// A wildcard domain needs a concrete name in the ClientHello.
	serverName = strings.Replace(serverName, "*", "clbcert-check", 1)
	var last string
	reached := false
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: &tls.Config{ServerName: serverName, InsecureSkipVerify: true}}
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil && !reached {
			// Private VIPs are often unreachable from the host that renews:
			// the describe check stands alone then.
			return errUnreachable
		}
		if err == nil {
			reached = true
			state := conn.(*tls.Conn).ConnectionState()
			conn.Close()
			if len(state.PeerCertificates) > 0 {
				sum := sha256.Sum256(state.PeerCertificates[0].Raw)
				if hex.EncodeToString(sum[:]) == wantFP {
					return nil
				}
				last = "sha256 " + hex.EncodeToString(sum[:])[:16] + "…"
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (SNI %s) still serves %s after %s, not the new certificate", addr, serverName, last, d.opts.VerifyTimeout)
		case <-time.After(wait):
		}
	}
}
