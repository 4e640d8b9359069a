package tcsim

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"time"
)

// SSL error codes used by the certificate checks.
const (
	codeCertParseError = "FailedOperation.CertificateParseError"
	codeCertMismatch   = "FailedOperation.CertificateMismatch"
	codeCertChainError = "FailedOperation.CertificateChainError"
	codeCertInvalid    = "FailedOperation.CertificateInvalid"
)

// Certificate types of the SSL service.
const (
	certTypeServer = "SVR"
	certTypeCA     = "CA"
)

// sslCert is a certificate in the SSL store.
type sslCert struct {
	ID        string
	Alias     string
	Type      string
	ProjectID uint64
	Tags      []sslTag
	PublicPEM string // as uploaded
	KeyPEM    string // empty for CA certificates
	Chain     []*x509.Certificate
	Domain    string
	Names     []string // the SANs: DNS names, then IP addresses
	SHA256    string
	SHA1      string
	Inserted  time.Time
	Uploaded  bool
	seq       uint64
	// tlsCert is what a listener presents; nil for CA certificates, which are never served.
	tlsCert *tls.Certificate
}

func (c *sslCert) leaf() *x509.Certificate { return c.Chain[0] }

func (c *sslCert) expired(now time.Time) bool { return now.After(c.leaf().NotAfter) }

// parseCert validates a certificate the way UploadCertificate does and returns it ready to
// store. Checks run in the order parse, chain, key, expiry; checkExpiry is false for
// certificates that were stored before the simulator started and may have expired since.
func parseCert(publicPEM, keyPEM, certType string, now time.Time, checkExpiry bool) (*sslCert, error) {
	blocks, err := pemBlocks(publicPEM)
	if err != nil {
		return nil, errorf(codeCertParseError, "The certificate cannot be parsed: %v.", err)
	}
	var chain []*x509.Certificate
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" || len(b.Headers) > 0 {
			return nil, errorf(codeCertParseError, "The certificate cannot be parsed: PEM block %d is a %q, not a CERTIFICATE.", i+1, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errorf(codeCertParseError, "The certificate cannot be parsed: certificate %d: %v.", i+1, err)
		}
		chain = append(chain, c)
	}
	// Each certificate must be signed by the next: leaf first, then its issuers in order.
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return nil, errorf(codeCertChainError, "The certificate chain is invalid: certificate %d (%s) is not signed by certificate %d (%s).",
				i+1, chain[i].Subject, i+2, chain[i+1].Subject)
		}
	}
	cert := &sslCert{Type: certType, PublicPEM: publicPEM, Chain: chain}
	if certType == certTypeServer {
		key, err := parsePrivateKey(keyPEM)
		if err != nil {
			return nil, err
		}
		pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(chain[0].PublicKey) {
			return nil, errorf(codeCertMismatch, "The private key does not match the certificate.")
		}
		cert.KeyPEM = keyPEM
		der := make([][]byte, len(chain))
		for i, c := range chain {
			der[i] = c.Raw
		}
		cert.tlsCert = &tls.Certificate{Certificate: der, PrivateKey: key, Leaf: chain[0]}
	}
	// UNCERTAIN: the documentation lists CertificateInvalid without saying when; an expired
	// certificate is the one case tcsim refuses with it. A not-yet-valid one is accepted.
	if checkExpiry && now.After(chain[0].NotAfter) {
		return nil, errorf(codeCertInvalid, "The certificate expired at %s.", sslTime(chain[0].NotAfter))
	}
	leaf := chain[0]
	cert.Names = slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		cert.Names = append(cert.Names, ip.String())
	}
	cert.Domain = leaf.Subject.CommonName
	if cert.Domain == "" && len(cert.Names) > 0 {
		cert.Domain = cert.Names[0]
	}
	sum256 := sha256.Sum256(leaf.Raw)
	cert.SHA256, cert.SHA1 = hex.EncodeToString(sum256[:]), sha1Hex(leaf.Raw)
	return cert, nil
}

// pemBlocks decodes text that must consist of PEM blocks and whitespace only. pem.Decode on
// its own skips any text before a block, including a damaged block, which would let a
// truncated upload through as a shorter chain.
func pemBlocks(text string) ([]*pem.Block, error) {
	rest := []byte(text)
	var blocks []*pem.Block
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			break
		}
		if !bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			return nil, errors.New("text outside PEM blocks")
		}
		b, r := pem.Decode(rest)
		if b == nil {
			return nil, errors.New("a PEM block is malformed")
		}
		blocks = append(blocks, b)
		rest = r
	}
	if len(blocks) == 0 {
		return nil, errors.New("no PEM block")
	}
	if begins := strings.Count(text, "-----BEGIN "); begins != len(blocks) {
		return nil, errors.New("a PEM block is malformed")
	}
	return blocks, nil
}

// parsePrivateKey accepts one unencrypted key: PKCS#8, PKCS#1 or SEC 1, the last optionally
// after the "EC PARAMETERS" block openssl writes.
func parsePrivateKey(text string) (crypto.Signer, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errorf(codeMissingParameter, "The request is missing a required parameter `CertificatePrivateKey`; an SVR certificate needs its private key.")
	}
	blocks, err := pemBlocks(text)
	if err != nil {
		return nil, errorf(codeCertParseError, "The private key cannot be parsed: %v.", err)
	}
	var key crypto.Signer
	for _, b := range blocks {
		if b.Type == "EC PARAMETERS" {
			continue
		}
		if key != nil {
			return nil, errorf(codeCertParseError, "The private key cannot be parsed: more than one key.")
		}
		// UNCERTAIN: the service decrypts keys with KeyPassword; tcsim cannot (the standard
		// library has no PKCS#8 decryption) and refuses them rather than pretending.
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, errorf(codeCertParseError, "The private key is encrypted; tcsim does not simulate KeyPassword.")
		}
		var parsed any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			parsed, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			parsed, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			parsed, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			return nil, errorf(codeCertParseError, "The private key cannot be parsed: a %q PEM block is not a private key.", b.Type)
		}
		if err != nil {
			return nil, errorf(codeCertParseError, "The private key cannot be parsed: %v.", err)
		}
		switch k := parsed.(type) {
		case *rsa.PrivateKey:
			key = k
		case *ecdsa.PrivateKey:
			key = k
		case ed25519.PrivateKey:
			key = k
		default:
			return nil, errorf(codeCertParseError, "The private key type %T is not supported.", parsed)
		}
	}
	if key == nil {
		return nil, errorf(codeCertParseError, "The private key cannot be parsed: no key.")
	}
	return key, nil
}

func sha1Hex(der []byte) string {
	sum := sha1.Sum(der)
	return hex.EncodeToString(sum[:])
}

// sslTime formats t the way the SSL service does: GMT+8, "YYYY-MM-DD HH:MM:SS".
func sslTime(t time.Time) string { return dnspodTime(t) }
