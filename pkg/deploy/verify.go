package deploy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// verifyLB checks the updated and unchanged targets of one load balancer
// twice: CLB must describe each one's certificate on it — one
// DescribeListeners for all of them — and where a listener is reachable
// from here a TLS handshake with the target's server name must return that
// certificate's leaf. The handshakes run at once: they cost no API budget.
func (d *Deployer) verifyLB(ctx context.Context, changes []change) {
	var check []change
	for _, c := range changes {
		if c.t.Status == StatusUpdated || c.t.Status == StatusUnchanged {
			check = append(check, c)
		}
	}
	if len(check) == 0 {
		return
	}
	first := check[0].t
	ls, err := d.inv.Listeners(ctx, first.Region, first.LoadBalancerID)
	if ctx.Err() != nil {
		// Interrupted: the re-run checks them.
		return
	}
	if err != nil {
		d.log.Warn("could not describe listeners to verify", "lb", first.LoadBalancerID, "error", err)
	}
	var wg sync.WaitGroup
	for _, c := range check {
		t := c.t
		if err != nil {
			t.Status, t.Error = StatusFailed, fmt.Sprintf("could not check what CLB serves on it: %v", err)
			continue
		}
		if got := servedID(ls, t.Target); got != c.certID {
			t.Status, t.Error = StatusFailed, fmt.Sprintf("CLB describes certificate %q on it, not %s", got, c.certID)
			continue
		}
		t.Verified = "describe"
		if t.Addr == "" || c.fingerprint == "" {
			continue
		}
		wg.Go(func() {
			switch err := d.handshake(ctx, t.Addr, t.ServerName, c.fingerprint); {
			case err == nil:
				t.Verified = "tls"
			case errors.Is(err, errUnreachable):
				t.Verified = "describe (listener not reachable from here)"
			case ctx.Err() != nil:
				// Interrupted: CLB's description stands.
			default:
				t.Status, t.Error = StatusFailed, err.Error()
			}
		})
	}
	wg.Wait()
}

func servedID(ls []inventory.Listener, t Target) string {
	for _, l := range ls {
		if l.ID != t.ListenerID {
			continue
		}
		if c := l.CertificateFor(t.Domain); c != nil {
			return c.ID
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
				got := lineage.Fingerprint(state.PeerCertificates[0].Raw)
				if got == wantFP {
					return nil
				}
				last = "sha256 " + got[:16] + "…"
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (SNI %s) still serves %s after %s, not the certificate just bound", addr, serverName, last, d.opts.VerifyTimeout)
		case <-time.After(wait):
		}
	}
}
