package deploy

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// verifyLB checks the updated and unchanged targets of one load balancer
// twice: CLB must describe each one's whole binding on it (every member,
// mode, CA and verification) — one DescribeListeners for all of them — and
// where a listener is reachable from here TLS handshakes with the target's
// server name must return the right leaves: one handshake for a single
// certificate; for a dual or mutual binding one per member, offering only
// that member's key algorithm (verifyMembers). The handshakes run at once:
// they cost no API budget.
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
		if got := served(ls, t.Address); !certbinding.Equal(got, c.want) {
			t.Status, t.Error = StatusFailed, fmt.Sprintf("CLB describes %s on it, not %s", describe(got), describe(c.want))
			continue
		}
		t.Verified = "describe"
		if t.Addr == "" {
			continue
		}
		wg.Go(func() {
			switch err := d.handshakes(ctx, t, c); {
			case err == nil:
				t.Verified = "tls"
			case errors.Is(err, errUnreachable):
				t.Verified = "describe (listener not reachable from here)"
			case errors.Is(err, errNoFingerprint), errors.Is(err, errSM2Only):
				t.Verified = "describe (" + err.Error() + ")"
			case ctx.Err() != nil:
				// Interrupted: CLB's description stands.
			default:
				t.Status, t.Error = StatusFailed, err.Error()
			}
		})
	}
	wg.Wait()
}

// errNoFingerprint: a member's leaf is not known, so no handshake can tell
// whether it is served.
var errNoFingerprint = errors.New("no fingerprint to check the handshake against")

// errSM2Only: the binding's one certificate is SM2, which Go cannot handshake with.
var errSM2Only = errors.New("an SM2 certificate only, which no handshake from here can check")

// handshakes checks what a client meets at t: the one certificate of a
// plain binding, or each member of a dual or mutual one.
func (d *Deployer) handshakes(ctx context.Context, t *TargetResult, c change) error {
	fps := map[string]string{}
	for _, m := range c.want.Members {
		if m.Algorithm == certbinding.SM2 {
			continue
		}
		if fps[m.CertID] = c.fingerprints.of(ctx, m.CertID); fps[m.CertID] == "" {
			return fmt.Errorf("%w of %s", errNoFingerprint, m.CertID)
		}
	}
	if len(fps) == 0 {
		return errSM2Only
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.VerifyTimeout)
	defer cancel()
	if len(c.want.Members) == 1 && !c.want.Mutual() {
		return handshake(ctx, t.Addr, t.ServerName, nil, fps[c.want.Members[0].CertID], true)
	}
	return verifyMembers(ctx, t.Addr, t.ServerName, c.want, fps)
}

// served is the binding CLB describes at t, without key algorithms.
func served(ls []inventory.Listener, t clb.Address) certbinding.Binding {
	for _, l := range ls {
		if l.ID == t.ListenerID {
			return l.CertificateFor(t.Domain).Binding(func(string) certbinding.Algorithm { return "" })
		}
	}
	return certbinding.Binding{}
}

// describe is a binding for a message: its members joined by "+", and its
// mutual-TLS settings.
func describe(b certbinding.Binding) string {
	s := members(b)
	if b.Mutual() {
		s += fmt.Sprintf(" (MUTUAL, CA %s, verify %s)", b.CertCaID, cmp.Or(b.SSLVerifyClient, certbinding.VerifyOn))
	}
	return s
}

// members are a binding's certificates joined by "+" ("-" for none), in
// the order CLB reports them.
func members(b certbinding.Binding) string {
	var ids []string
	for _, m := range b.Members {
		ids = append(ids, m.CertID)
	}
	return dash(strings.Join(ids, "+"))
}

var errUnreachable = errors.New("unreachable")

// handshake connects to addr with SNI serverName until the leaf it gets has fingerprint want
// (and, with mustComplete, the handshake completes) or ctx is done. suites, if not nil, are
// the only (TLS 1.2) cipher suites offered: how a client offers one key algorithm only.
// errUnreachable means the first attempt could not connect; a listener that was reached
// but fails the handshake fails the check.
func handshake(ctx context.Context, addr, serverName string, suites []uint16, want string, mustComplete bool) error {
	// A wildcard domain needs a concrete name in the ClientHello.
	serverName = strings.Replace(serverName, "*", "clbcert-check", 1)
	var last string
	reached := false
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var leaf string
		cfg := &tls.Config{
			ServerName: serverName,
			// Trust is not the question, which certificate is served is; the leaf is recorded
			// before a mutual-TLS server can refuse the handshake for want of a client
			// certificate.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) > 0 {
					leaf = lineage.Fingerprint(raw[0])
				}
				return nil
			},
		}
		if suites != nil {
			cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, tls.VersionTLS12, suites
		}
		dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: cfg}
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if conn != nil {
			conn.Close()
		}
		var netErr *net.OpError
		if err != nil && !reached && leaf == "" && errors.As(err, &netErr) && netErr.Op == "dial" {
			// Private VIPs are often unreachable from the host that renews: the describe
			// check stands alone then.
			return errUnreachable
		}
		reached = true
		switch {
		case leaf == "":
			last = fmt.Sprintf("no certificate (%v)", err)
		case leaf != want:
			last = "sha256 " + leaf[:16] + "…"
		case err != nil && mustComplete:
			last = fmt.Sprintf("the right certificate, but the handshake without a client certificate failed (%v)", err)
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (SNI %s) answers with %s, not the certificate just bound", addr, serverName, last)
		case <-time.After(wait):
		}
	}
}
