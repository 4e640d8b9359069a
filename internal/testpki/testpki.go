// Package testpki issues the throwaway certificates of tests: a CA of
// their own, and the leaves it signs.
package testpki

import (
	"crypto/ecdsa"
	"crypto/x509"

	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Issue signs tmpl, with a random serial, for a new P-256 key: by parent
// with parentKey, or by itself when parent is nil (a CA, or a self-signed
// leaf).
func Issue(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cert, key, err := tcsim.Issue("ECC", tmpl, parent, parentKey)
	if err != nil {
		return nil, nil, err
	}
	return cert, key.(*ecdsa.PrivateKey), nil
}
