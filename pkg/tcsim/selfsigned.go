package tcsim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// SelfSigned makes a certificate "uploaded by hand" for a simulated account:
// a self-signed ECDSA certificate for names, valid for a year, so a demo's
// listeners have something to serve before the first real deployment.
func SelfSigned(id string, names ...string) (CertSpec, error) {
	return SelfSignedKey(id, algECC, names...)
}

// SelfSignedKey is SelfSigned with a key of algorithm alg as EncryptAlgorithm names it: ECC
// (P-256) or RSA (2048 bits), for the two members of a dual binding.
func SelfSignedKey(id, alg string, names ...string) (CertSpec, error) {
	if len(names) == 0 {
		return CertSpec{}, fmt.Errorf("tcsim: self-signed certificate %s needs at least one name", id)
	}
	usage := x509.KeyUsageDigitalSignature
	if alg == algRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	now := time.Now()
	cert, key, err := Issue(alg, &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0], Organization: []string{"tcsim placeholder"}},
		DNSNames:    names,
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(1, 0, 0),
		KeyUsage:    usage,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, nil, nil)
	if err != nil {
		return CertSpec{}, fmt.Errorf("tcsim: self-signed certificate %s: %w", id, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return CertSpec{}, err
	}
	return CertSpec{
		ID:      id,
		Alias:   "placeholder (self-signed)",
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}, nil
}

// Issue makes a key of algorithm alg as EncryptAlgorithm names it, ECC (P-256) or RSA
// (2048 bits), and signs tmpl for it with a random serial: by parent with parentKey, or by
// itself when parent is nil (a CA, or a self-signed leaf).
func Issue(alg string, tmpl, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case algECC:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case algRSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, nil, fmt.Errorf("key algorithm %q is not RSA or ECC", alg)
	}
	if err != nil {
		return nil, nil, err
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64)); err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}
