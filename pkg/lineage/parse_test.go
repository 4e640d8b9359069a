package lineage

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	chainPath = "/etc/letsencrypt/live/example.test/fullchain.pem"
	keyPath   = "/etc/letsencrypt/live/example.test/privkey.pem"
)

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newCA makes a CA certificate for cn signed by parent, or self-signed.
func newCA(t *testing.T, cn string, parent *testCA) *testCA {
	t.Helper()
	key := ecKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.AddDate(-1, 0, 0),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	signer, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	return &testCA{cert: sign(t, tmpl, signer, key.Public(), signerKey), key: key}
}

// newLeaf makes a leaf for names with key, issued by ca.
func newLeaf(t *testing.T, ca *testCA, key crypto.Signer, names ...string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    now.AddDate(0, -1, 0),
		NotAfter:     now.AddDate(0, 2, 0),
		DNSNames:     names,
	}
	return sign(t, tmpl, ca.cert, key.Public(), ca.key)
}

func sign(t *testing.T, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func chainPEM(certs ...*x509.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		b.WriteString(pemOf("CERTIFICATE", c.Raw))
	}
	return b.String()
}

func pkcs8(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

func TestParseKeyForms(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Inter", root)
	ec := ecKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecParams := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
	tests := []struct {
		name string
		key  crypto.Signer
		pem  string
	}{
		{"PKCS#8 ECDSA", ec, pkcs8(t, ec)},
		{"SEC1 ECDSA", ec, pemOf("EC PRIVATE KEY", sec1)},
		{"SEC1 ECDSA after EC PARAMETERS", ec, ecParams + pemOf("EC PRIVATE KEY", sec1)},
		{"PKCS#8 RSA", rsaKey, pkcs8(t, rsaKey)},
		{"PKCS#1 RSA", rsaKey, pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"CRLF line ends", ec, strings.ReplaceAll(pkcs8(t, ec), "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := newLeaf(t, inter, tt.key, "example.test")
			l, err := parse(chainPath, []byte(chainPEM(leaf, inter.cert)), keyPath, []byte(tt.pem), now)
			if err != nil {
				t.Fatal(err)
			}
			if !l.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.key.Public()) {
				t.Error("wrong key")
			}
		})
	}
}

func TestParseChains(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Inter", root)
	// Same name as inter, different key: only the signature check tells.
	impostor := newCA(t, "Inter", root)
	key := ecKey(t)
	leaf := newLeaf(t, inter, key, "example.test")
	selfIssued := newLeaf(t, root, key, "example.test")
	other := newLeaf(t, inter, ecKey(t), "example.test")
	selfSigned := sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "example.test"}, DNSNames: []string{"example.test"},
		NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(0, 1, 0),
	}, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "example.test"}}, key.Public(), key)

	good := []struct {
		name  string
		chain string
	}{
		{"self-issued leaf alone", chainPEM(selfSigned)},
		{"leaf, intermediate, root", chainPEM(leaf, inter.cert, root.cert)},
		{"leaf issued by the root", chainPEM(selfIssued, root.cert)},
		{"CRLF line ends", strings.ReplaceAll(chainPEM(leaf, inter.cert), "\n", "\r\n")},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parse(chainPath, []byte(tt.chain), keyPath, []byte(pkcs8(t, key)), now)
			if err != nil {
				t.Fatal(err)
			}
			if l.FullchainPEM != tt.chain {
				t.Error("FullchainPEM not kept as read")
			}
		})
	}

	bad := []struct {
		name  string
		chain string
		want  string
	}{
		{"signed by an impostor of the same name", chainPEM(leaf, impostor.cert), "broken chain: certificate 1 (CN=leaf) is not signed by certificate 2 (CN=Inter), though the names match"},
		{"unrelated second certificate", chainPEM(leaf, other), `broken chain: certificate 1 (CN=leaf) was issued by "CN=Inter", but certificate 2 is "CN=leaf"`},
		{"leaf twice", chainPEM(leaf, leaf), "broken chain"},
		{"intermediate not followed by its root", chainPEM(leaf, inter.cert, impostor.cert), "broken chain: certificate 2 (CN=Inter) was issued by \"CN=Root\""},
		{"root before intermediate", chainPEM(leaf, root.cert, inter.cert), `broken chain: certificate 1 (CN=leaf) was issued by "CN=Inter", but certificate 2 is "CN=Root"`},
		{"intermediate first", chainPEM(inter.cert, leaf), "broken chain: certificates 1 and 2 are in reverse order"},
		{"truncated last certificate", chainPEM(leaf, inter.cert)[:len(chainPEM(leaf, inter.cert))-40], "malformed or truncated PEM block (block 2)"},
		{"text between certificates", chainPEM(leaf) + "subject=CN=Inter\n" + chainPEM(inter.cert), "text outside its PEM blocks"},
		{"a block that is not a certificate", chainPEM(leaf) + pemOf("X509 CRL", []byte{1, 2, 3}), `holds a "X509 CRL" PEM block (block 2)`},
		{"certificate that does not parse", chainPEM(leaf) + pemOf("CERTIFICATE", []byte("not DER")), "certificate 2 does not parse"},
		{"no certificate at all", "hello\n", "holds no PEM CERTIFICATE block"},
		{"leaf without its issuer", chainPEM(leaf), `holds only the certificate (CN=leaf), not its issuer CN=Inter`},
		{"leaf of the root without the root", chainPEM(selfIssued), `holds only the certificate (CN=leaf), not its issuer CN=Root`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(chainPath, []byte(tt.chain), keyPath, []byte(pkcs8(t, key)), now)
			checkError(t, err, chainPath, ErrInvalid, tt.want)
		})
	}
}

func TestParseKeyRefused(t *testing.T) {
	root := newCA(t, "Root", nil)
	ec := ecKey(t)
	leaf := newLeaf(t, root, ec, "example.test")
	chain := chainPEM(leaf, root.cert)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edLeaf := newLeaf(t, root, edKey, "example.test")
	legacy := string(pem.EncodeToMemory(&pem.Block{
		Type:    "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   []byte(strings.Repeat("secret key bytes", 8)),
	}))
	good := pkcs8(t, ec)

	tests := []struct {
		name, chain, key, want string
	}{
		{"a different key of the same kind", chain, pkcs8(t, ecKey(t)), "does not match the certificate in " + chainPath + ": the lineage is half-renewed"},
		{"an RSA key for an ECDSA certificate", chain, pkcs8(t, rsaKey), "(the key is RSA 2048, the certificate's key ECDSA P-256)"},
		{"Ed25519", chainPEM(edLeaf, root.cert), pkcs8(t, edKey), "is an Ed25519 key, which CLB does not accept"},
		{"legacy encryption", chain, legacy, "is encrypted with a passphrase"},
		{"PKCS#8 encryption", chain, pemOf("ENCRYPTED PRIVATE KEY", []byte(strings.Repeat("secret key bytes", 8))), "is encrypted with a passphrase"},
		{"no key block", chain, "not a key\n", "holds no PEM private key block"},
		{"only a certificate", chain, chainPEM(leaf), `holds a "CERTIFICATE" PEM block (block 1); it must hold only the private key`},
		{"key and certificate", chain, good + chainPEM(leaf), `holds a "CERTIFICATE" PEM block (block 2)`},
		{"two keys", chain, good + good, "holds more than one private key"},
		{"EC PARAMETERS alone", chain, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", "holds no private key"},
		{"a key that does not parse", chain, pemOf("PRIVATE KEY", []byte(strings.Repeat("secret key bytes", 8))), "the PKCS#8 private key does not parse"},
		{"a PKCS#8 key labelled PKCS#1", chain, strings.Replace(good, "PRIVATE KEY", "RSA PRIVATE KEY", 2), "the PKCS#1 RSA private key does not parse"},
		{"an OpenSSH key", chain, pemOf("OPENSSH PRIVATE KEY", []byte(strings.Repeat("secret key bytes", 8))), `holds a "OPENSSH PRIVATE KEY" block, a kind of private key CLB does not accept`},
		{"truncated key", chain, good[:len(good)-30], "malformed or truncated PEM block (block 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(chainPath, []byte(tt.chain), keyPath, []byte(tt.key), now)
			checkError(t, err, keyPath, ErrInvalid, tt.want)
			if leak := keyFragment(tt.key, err.Error()); leak != "" || strings.Contains(err.Error(), "secret key bytes") {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestParseKeyInFullchain(t *testing.T) {
	root := newCA(t, "Root", nil)
	key := ecKey(t)
	leaf := newLeaf(t, root, key, "example.test")
	keyPEM := pkcs8(t, key)
	_, err := parse(chainPath, []byte(chainPEM(leaf)+keyPEM), keyPath, []byte(keyPEM), now)
	checkError(t, err, chainPath, ErrInvalid, "holds a private key (block 2): it is uploaded as the certificate")
	if leak := keyFragment(keyPEM, err.Error()); leak != "" {
		t.Errorf("error shows the key: %v", err)
	}
}

func TestParseLeaf(t *testing.T) {
	root := newCA(t, "Root", nil)
	key := ecKey(t)
	noSAN := newLeaf(t, root, key)
	ipOnly := sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "example.test"},
		NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(0, 1, 0),
		IPAddresses: []net.IP{net.IPv4(192, 0, 2, 1)},
	}, root.cert, key.Public(), root.key)
	for name, leaf := range map[string]*x509.Certificate{"no SAN": noSAN, "IP SAN only": ipOnly} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(chainPath, []byte(chainPEM(leaf)), keyPath, []byte(pkcs8(t, key)), now)
			checkError(t, err, chainPath, ErrInvalid, "has no DNS names in subjectAltName")
		})
	}

	mixed := newLeaf(t, root, key, "B.Example.TEST", "a.example.test", "b.example.test.", "a.example.test")
	l, err := parse(chainPath, []byte(chainPEM(mixed, root.cert)), keyPath, []byte(pkcs8(t, key)), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.Names(), " "); got != "a.example.test b.example.test" {
		t.Errorf("Names() = %s", got)
	}
}

// FuzzParse feeds arbitrary files to the checks Load runs: they must not
// panic, must refuse with a one-line ErrInvalid, and must never echo the key.
func FuzzParse(f *testing.F) {
	for _, c := range []string{"good-ecdsa", "good-rsa", "broken-chain", "encrypted-key", "no-san"} {
		dir := live(c, "example.test")
		chain, err := os.ReadFile(filepath.Join(dir, "fullchain.pem"))
		if err != nil {
			f.Fatal(err)
		}
		key, err := os.ReadFile(filepath.Join(dir, "privkey.pem"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(chain, key)
		f.Add(chain[:len(chain)/2], key[:len(key)/2])
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, chain, key []byte) {
		l, err := parse(chainPath, chain, keyPath, key, now)
		if err == nil {
			if l.Fingerprint != Fingerprint(l.Leaf.Raw) || l.KeyPEM != string(key) || len(l.Names()) == 0 {
				t.Errorf("inconsistent lineage %v", l)
			}
			return
		}
		msg := err.Error()
		if !errors.Is(err, ErrInvalid) || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("want a one-line ErrInvalid, got %q", msg)
		}
		if leak := keyFragment(string(key), msg); leak != "" {
			t.Errorf("error shows the key: %q in %s", leak, msg)
		}
	})
}
