package deploy

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
)

// failingTLS is a listener that accepts connections and closes them: reached, but every
// TLS handshake fails.
func failingTLS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// A listener that accepts the connection but fails every TLS handshake was reached: the
// check must fail there, not take it for a VIP this host cannot reach and let the
// describe check stand alone.
func TestHandshakeReachedButFailingIsNotUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := handshake(ctx, failingTLS(t), "www.example.test", nil, "0123456789abcdef0123", true)
	if err == nil || errors.Is(err, errUnreachable) {
		t.Fatalf("handshake = %v, want a failed check", err)
	}
}

// A binding of one SM2 certificate (a rollback may put one back) is left to CLB's
// description: no handshake from here can tell it, so none is tried.
func TestHandshakesLeaveAnSM2CertificateAlone(t *testing.T) {
	d := &Deployer{opts: Options{VerifyTimeout: 300 * time.Millisecond}}
	tr := &TargetResult{Planned: Planned{Addr: failingTLS(t), ServerName: "www.example.test"}}
	want := certbinding.Binding{Members: []certbinding.Member{{CertID: "Sm2Cert1", Algorithm: certbinding.SM2}}}
	if err := d.handshakes(context.Background(), tr, change{t: tr, want: want}); !errors.Is(err, errSM2Only) {
		t.Fatalf("handshakes = %v, want errSM2Only", err)
	}
}
