package lineage

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

const pemBegin = "-----BEGIN "

// splitPEM returns the PEM blocks of the file at path, which holds data; a
// file without any is not a file of kind (holding block) at all. Unlike a
// loop over pem.Decode it refuses text between blocks and blocks cut short:
// fullchain.pem is uploaded exactly as read, and a truncated last
// certificate must not pass as a shorter chain.
func splitPEM(path string, data []byte, block, kind string) ([]*pem.Block, error) {
	if !bytes.Contains(data, []byte(pemBegin)) {
		return nil, invalid(path, "%s holds no PEM %s block: it is not a %s file; %s", path, block, kind, contentFix(path))
	}
	var blocks []*pem.Block
	rest := data
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			return blocks, nil
		}
		if !bytes.HasPrefix(rest, []byte(pemBegin)) {
			return nil, invalid(path, "%s has text outside its PEM blocks; %s", path, contentFix(path))
		}
		b, next := pem.Decode(rest)
		// pem.Decode skips a malformed block and returns the next good one;
		// seeing two BEGIN lines in what it consumed means it did that.
		if b == nil || bytes.Count(rest[:len(rest)-len(next)], []byte(pemBegin)) != 1 {
			return nil, invalid(path, "%s has a malformed or truncated PEM block (block %d); %s", path, len(blocks)+1, contentFix(path))
		}
		blocks = append(blocks, b)
		rest = next
	}
}

// parseChain reads fullchain.pem: the leaf first, then the certificates that
// issued it, in order.
func parseChain(path string, data []byte) ([]*x509.Certificate, error) {
	blocks, err := splitPEM(path, data, "CERTIFICATE", "certificate")
	if err != nil {
		return nil, err
	}
	fix := contentFix(path)
	certs := make([]*x509.Certificate, 0, len(blocks))
	for i, b := range blocks {
		switch {
		case strings.Contains(b.Type, "PRIVATE KEY"):
			// Never echo the block: it is a key in the file that gets uploaded
			// as the public part.
			return nil, invalid(path, "%s holds a private key (block %d): it is uploaded as the certificate and must hold only certificates, leaf first; %s", path, i+1, fix)
		case b.Type != "CERTIFICATE":
			return nil, invalid(path, "%s holds a %q PEM block (block %d); it must hold only CERTIFICATE blocks, leaf first; %s", path, b.Type, i+1, fix)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, invalid(path, "%s: certificate %d does not parse: %v; %s", path, i+1, err, fix)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// parseKey reads privkey.pem: one unencrypted RSA or ECDSA key in PKCS#1,
// PKCS#8 or SEC1 form. Messages never include the key's bytes, nor the
// parser's error text, which is not ours to vouch for.
func parseKey(path string, data []byte) (crypto.Signer, error) {
	blocks, err := splitPEM(path, data, "private key", "key")
	if err != nil {
		return nil, err
	}
	fix := contentFix(path)
	var key *pem.Block
	for i, b := range blocks {
		switch {
		case b.Type == "EC PARAMETERS":
			// openssl ecparam -genkey writes this ahead of the key; it
			// repeats the curve the key names anyway.
			continue
		case b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED"):
			return nil, invalid(path, "%s is encrypted with a passphrase, and CLB needs the key in clear; decrypt it (openssl pkey -in privkey.pem -out privkey-clear.pem) and link privkey.pem to the result (certbot itself never encrypts keys)", path)
		case !strings.HasSuffix(b.Type, "PRIVATE KEY"):
			return nil, invalid(path, "%s holds a %q PEM block (block %d); it must hold only the private key; %s", path, b.Type, i+1, fix)
		case key != nil:
			return nil, invalid(path, "%s holds more than one private key; it must hold exactly the one that belongs to the certificate; %s", path, fix)
		}
		key = b
	}
	if key == nil {
		return nil, invalid(path, "%s holds no private key; %s", path, fix)
	}

	var (
		parsed any
		form   string
	)
	switch key.Type {
	case "PRIVATE KEY":
		form = "PKCS#8"
		parsed, err = x509.ParsePKCS8PrivateKey(key.Bytes)
	case "RSA PRIVATE KEY":
		form = "PKCS#1 RSA"
		parsed, err = x509.ParsePKCS1PrivateKey(key.Bytes)
	case "EC PRIVATE KEY":
		form = "SEC1 EC"
		parsed, err = x509.ParseECPrivateKey(key.Bytes)
	default:
		return nil, invalid(path, "%s holds a %q block, a kind of private key CLB does not accept; use an RSA or ECDSA key (certbot --key-type rsa or ecdsa)", path, key.Type)
	}
	if err != nil {
		return nil, invalid(path, "%s: the %s private key does not parse; %s", path, form, fix)
	}
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return nil, invalid(path, "%s is an Ed25519 key, which CLB does not accept; reissue with certbot --key-type ecdsa or --key-type rsa", path)
	default:
		return nil, invalid(path, "%s holds a %T key, which CLB does not accept; reissue with certbot --key-type ecdsa or --key-type rsa", path, parsed)
	}
}

// checkKey refuses a key that is not the leaf's: what certbot's link swap
// leaves for a moment during renewal, and what hand edits leave for good.
func checkKey(keyPath, chainPath string, leaf *x509.Certificate, key crypto.Signer) error {
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(key.Public()) {
		return nil
	}
	kinds := ""
	if k, c := keyKind(key.Public()), keyKind(leaf.PublicKey); k != c {
		kinds = fmt.Sprintf(" (the key is %s, the certificate's key %s)", k, c)
	}
	return invalid(keyPath, "%s does not match the certificate in %s%s: the lineage is half-renewed or was edited by hand; run certbot renew --force-renewal, or restore both files from archive/",
		keyPath, chainPath, kinds)
}

func keyKind(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// checkChain requires each certificate to be signed by the next, which is
// how certbot writes fullchain.pem and what TLS clients expect to be served.
func checkChain(path string, certs []*x509.Certificate) error {
	fix := "fullchain.pem must be the leaf followed by each issuer in turn, as certbot writes it; " + contentFix(path)
	for i := 0; i+1 < len(certs); i++ {
		child, parent := certs[i], certs[i+1]
		if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
			if bytes.Equal(parent.RawIssuer, child.RawSubject) && parent.CheckSignatureFrom(child) == nil {
				return invalid(path, "%s: broken chain: certificates %d and %d are in reverse order; %s", path, i+1, i+2, fix)
			}
			return invalid(path, "%s: broken chain: certificate %d (%s) was issued by %q, but certificate %d is %q; %s",
				path, i+1, describe(child), child.Issuer.String(), i+2, parent.Subject.String(), fix)
		}
		if err := child.CheckSignatureFrom(parent); err != nil {
			return invalid(path, "%s: broken chain: certificate %d (%s) is not signed by certificate %d (%s), though the names match: %v; %s",
				path, i+1, describe(child), i+2, describe(parent), err, fix)
		}
	}
	return nil
}

// checkIssuer refuses a leaf served without its issuer. checkChain has
// already made sure that a second certificate, if any, is the issuer; a leaf
// alone is enough only if it issued itself.
// Tested by TestDeployRefusesMissingIssuer and TestLoadBad/leaf-only.
func checkIssuer(path string, certs []*x509.Certificate) error {
	leaf := certs[0]
	if len(certs) > 1 || bytes.Equal(leaf.RawIssuer, leaf.RawSubject) {
		return nil
	}
	return newError(path, ErrMissingIssuer, "%s holds only the certificate (%s), not its issuer %s: clients without that intermediate would fail with \"unable to verify the first certificate\"; %s",
		path, describe(leaf), issuerName(leaf), contentFix(path))
}

// completeChain appends chain.pem to a fullchain.pem that holds only a leaf
// issued by someone else; any other fullchain.pem is returned as it is, for
// parse to judge. chain.pem must start with the leaf's issuer.
func completeChain(chainPath string, fullchain []byte, issuersPath string) ([]byte, error) {
	certs, err := parseChain(chainPath, fullchain)
	if err != nil || len(certs) != 1 || bytes.Equal(certs[0].RawIssuer, certs[0].RawSubject) {
		return fullchain, nil
	}
	leaf := certs[0]
	data, err := readFile(issuersPath)
	if err != nil {
		return nil, err
	}
	issuers, err := parseChain(issuersPath, data)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(leaf.RawIssuer, issuers[0].RawSubject) || leaf.CheckSignatureFrom(issuers[0]) != nil {
		return nil, newError(issuersPath, ErrMissingIssuer, "%s does not start with the issuer of %s (%s, which signed it), but with %s, so it cannot complete %s; %s",
			issuersPath, describe(leaf), issuerName(leaf), describe(issuers[0]), chainPath, contentFix(chainPath))
	}
	joined := append(bytes.TrimRight(bytes.Clone(fullchain), " \t\r\n"), '\n')
	return append(joined, data...), nil
}

func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return "CN=" + c.Issuer.CommonName
	}
	return c.Issuer.String()
}

func describe(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}

const dateFormat = "2006-01-02 15:04:05 UTC"

// checkLeaf refuses a leaf no client would accept for a host name.
// Intermediates are left alone on purpose: Let's Encrypt long served a
// cross-signed root that had expired, and clients that matter ignore it.
func checkLeaf(path string, leaf *x509.Certificate, now time.Time) error {
	switch {
	case len(leaf.DNSNames) == 0:
		return invalid(path, "%s: the certificate (%s) has no DNS names in subjectAltName, and clients ignore the common name; reissue it with certbot -d NAME", path, describe(leaf))
	case now.Before(leaf.NotBefore):
		return invalid(path, "%s: the certificate is not valid until %s (now %s); check this host's clock, or restore the previous certificate from archive/",
			path, leaf.NotBefore.UTC().Format(dateFormat), now.UTC().Format(dateFormat))
	case now.After(leaf.NotAfter):
		return invalid(path, "%s: the certificate expired on %s (now %s); run certbot renew, and check that certbot's timer runs",
			path, leaf.NotAfter.UTC().Format(dateFormat), now.UTC().Format(dateFormat))
	}
	return nil
}
