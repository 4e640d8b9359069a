package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"
)

// probe is what one TLS handshake with a listener showed.
type probe struct {
	Addr       string
	ServerName string
	// Reached is false when no TCP connection could be made: the address
	// is not reachable from this host, which says nothing about the
	// listener.
	Reached bool
	// Err is why the connection or the handshake failed; nil if it
	// completed.
	Err error
	// Chain is what the listener presented, leaf first; with Err too when
	// it refused the handshake after presenting it.
	Chain   []*x509.Certificate
	Version uint16
}

// prober makes doctor's TLS handshakes. It never verifies the chain against
// this host's roots: doctor judges what is served by the bound
// certificate's fingerprint and by the chain linking, the same on a private
// network with a private CA.
type prober struct {
	timeout time.Duration
	dialer  *net.Dialer
}

// handshake connects to addr and completes a TLS handshake asking for
// serverName, offering TLS versions minVersion to maxVersion and, if not
// nil, only the TLS 1.2 cipher suites suites. The chain is kept even when
// the server refuses the handshake after presenting it (a mutual-TLS
// listener refusing a client without a certificate). A completed
// handshake proves the listener holds the key of the leaf it presents:
// TLS 1.2's ECDHE and TLS 1.3 make it sign with that key.
func (p prober) handshake(ctx context.Context, addr, serverName string, minVersion, maxVersion uint16, suites []uint16) probe {
	out := probe{Addr: addr, ServerName: serverName}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	conn, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		out.Err = err
		return out
	}
	defer conn.Close()
	out.Reached = true
	tc := tls.Client(conn, &tls.Config{
		ServerName: serverName,
		// The chain is judged below, by fingerprint and by its links.
		InsecureSkipVerify: true,
		// Set explicitly: Go's client offers nothing below TLS 1.2 unless
		// asked, and the legacy probe must offer TLS 1.0 and 1.1.
		MinVersion:   minVersion,
		MaxVersion:   maxVersion,
		CipherSuites: suites,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			out.Chain = nil
			for _, der := range raw {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return err
				}
				out.Chain = append(out.Chain, c)
			}
			return nil
		},
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		out.Err = err
		return out
	}
	st := tc.ConnectionState()
	out.Chain, out.Version = st.PeerCertificates, st.Version
	return out
}

// probeName is the server name to ask a listener for in place of domain: a
// wildcard rule domain stands for any one label, so a concrete name under
// it that no other rule of the listener names.
func probeName(domain string, others []string) string {
	parent, ok := strings.CutPrefix(domain, "*.")
	if !ok {
		return domain
	}
	for i := 0; ; i++ {
		name := "clbcert-doctor." + parent
		if i > 0 {
			name = fmt.Sprintf("clbcert-doctor-%d.%s", i, parent)
		}
		taken := false
		for _, o := range others {
			taken = taken || o == name
		}
		if !taken {
			return name
		}
	}
}

// chainLinks reports where a presented chain breaks: each certificate must
// be issued and signed by the next one, as TLS 1.2 requires and clients
// that build no paths of their own expect, and a leaf that a CA issued
// must come with its issuer: alone, it fails with "unable to verify the
// first certificate" in every client that does not fetch intermediates
// (TestHandshakeLeafOnlyChain). Only the root may be left out.
func chainLinks(chain []*x509.Certificate) error {
	if len(chain) == 1 && !bytes.Equal(chain[0].RawIssuer, chain[0].RawSubject) {
		return fmt.Errorf("only the leaf, without its issuer %q", chain[0].Issuer.String())
	}
	for i := 0; i+1 < len(chain); i++ {
		child, parent := chain[i], chain[i+1]
		if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
			return fmt.Errorf("certificate %d (%s) was issued by %q, but certificate %d is %q", i+1, subject(child), child.Issuer.String(), i+2, parent.Subject.String())
		}
		if err := child.CheckSignatureFrom(parent); err != nil {
			return fmt.Errorf("certificate %d (%s) is not signed by certificate %d (%s): %v", i+1, subject(child), i+2, subject(parent), err)
		}
	}
	return nil
}

func subject(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}

// versionName is how ssl_protocols and people spell a TLS version.
func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("TLS 0x%04x", v)
}
