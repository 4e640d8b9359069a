package deploy

import (
	"context"
	"errors"
	"fmt"

	// deploy's state record is called binding already.
	certbinding "github.com/clbcert/clbcert/pkg/binding"
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
		if err := handshake(ctx, addr, serverName, suites, want, mustComplete); err != nil {
			if errors.Is(err, errUnreachable) && checked == 0 {
				return err
			}
			return fmt.Errorf("%s member %s: %w", m.Algorithm, m.CertID, err)
		}
		checked++
	}
	return nil
}
