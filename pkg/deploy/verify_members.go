package deploy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	// deploy's state record is called binding already.
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/lineage"
)

// verifyMembers checks a binding at addr the way a client of each member meets it: one TLS
// handshake per member that offers only that member's key algorithm, each of which must
// return that member's leaf (fingerprints maps each member's certificate id to its leaf's
// SHA-256). The handshakes carry no client certificate, so on a MUTUAL binding with
// SSLVerifyClient OPTIONAL each must also complete: the clients without one are still let
// in. On MUTUAL with ON the server refuses them after presenting its certificate, which is
// then all there is to check. SM2 members are left alone: Go speaks no SM2.
//
// It retries until every member is right or ctx is done, as CLB applies a binding a moment
// after its task completes. errUnreachable means the first attempt could not connect.
func verifyMembers(ctx context.Context, addr, serverName string, b certbinding.Binding, fingerprints map[string]string) error {
	// A wildcard domain needs a concrete name in the ClientHello.
	serverName = strings.Replace(serverName, "*", "clbcert-check", 1)
	mustComplete := !b.Mutual() || b.SSLVerifyClient == certbinding.VerifyOptional
	checked := 0
	for _, m := range b.Members {
		if m.Algorithm == certbinding.SM2 {
			continue
		}
		suites := m.Algorithm.CipherSuites()
		want := fingerprints[m.CertID]
		switch {
		case suites == nil:
			return fmt.Errorf("certificate %s has key algorithm %q: no handshake offers only that", m.CertID, m.Algorithm)
		case want == "":
			return fmt.Errorf("certificate %s: no fingerprint to check its leaf against", m.CertID)
		}
		if err := handshakeMember(ctx, addr, serverName, suites, want, mustComplete); err != nil {
			if errors.Is(err, errUnreachable) && checked == 0 {
				return err
			}
			return fmt.Errorf("%s member %s: %w", m.Algorithm, m.CertID, err)
		}
		checked++
	}
	return nil
}

// handshakeMember repeats one handshake offering only suites until the leaf has fingerprint
// want (and, with mustComplete, the handshake completes) or ctx is done.
func handshakeMember(ctx context.Context, addr, serverName string, suites []uint16, want string, mustComplete bool) error {
	var last string
	reached := false
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var leaf string
		cfg := &tls.Config{
			ServerName: serverName, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites,
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
			return fmt.Errorf("%s (SNI %s) answers a client of this key algorithm with %s, not the certificate just bound", addr, serverName, last)
		case <-time.After(wait):
		}
	}
}
