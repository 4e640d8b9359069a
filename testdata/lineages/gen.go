//go:build ignore

// Gen writes the certbot-shaped test lineages in testdata/lineages: a test
// root CA, two intermediates, and one directory per case laid out as certbot
// lays out its config dir (live/NAME/*.pem as relative symlinks into
// archive/NAME/*N.pem). Run it from the repository root:
//
//	go run testdata/lineages/gen.go
//
// Names, serial numbers and dates are fixed; keys and signatures are fresh
// on every run (Go's crypto ignores a caller's random source), so tests
// compute fingerprints from the files instead of hard-coding them.
package main

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// encryptedKeyPassphrase protects the encrypted-key case's privkey.pem.
const encryptedKeyPassphrase = "clbcert-test"

var (
	caFrom  = date(2019, 1, 1)
	caUntil = date(2126, 1, 1)
	// The good leaves stay valid for a century so the corpus does not rot.
	goodFrom  = date(2025, 1, 1)
	goodUntil = date(2125, 1, 1)
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// files is one generation of a lineage: the contents of certN.pem,
// chainN.pem, fullchainN.pem and privkeyN.pem. A kind that is absent gets
// neither a file nor a live/ link; one present with nil content gets the
// link only (a case then makes what the link points at).
type files map[string][]byte

var kinds = []string{"cert", "chain", "fullchain", "privkey"}

func main() {
	out := flag.String("out", "testdata/lineages", "where to write the corpus")
	flag.Parse()
	if _, err := os.Stat(filepath.Join(*out, "gen.go")); err != nil {
		log.Fatalf("run from the repository root (go run testdata/lineages/gen.go), or pass -out: %v", err)
	}

	root := newCA(1, "clbcert Test Root X1", elliptic.P384(), nil)
	e1 := newCA(2, "clbcert Test E1", elliptic.P256(), root)
	e2 := newCA(3, "clbcert Test E2", elliptic.P256(), root)
	write(filepath.Join(*out, "root.pem"), pemCert(root.cert.Raw), 0o644)

	apex := []string{"example.test", "*.example.test"}
	ecdsa1 := issue(e1, 0x1001, apex, ecKey(), goodFrom, goodUntil)
	renewal := issue(e1, 0x1003, apex, ecKey(), goodFrom.AddDate(0, 2, 0), goodUntil.AddDate(0, 2, 0))

	garbage := []byte("This is not a certificate.\nIt stands where certbot's fullchain.pem should be.\n")
	noKey := issue(e1, 0x100b, apex, ecKey(), goodFrom, goodUntil)
	delete(noKey, "privkey")

	empty := issue(e1, 0x100a, apex, ecKey(), goodFrom, goodUntil)
	empty["fullchain"] = []byte{}

	wrongIssuer := issue(e1, 0x1008, apex, ecKey(), goodFrom, goodUntil)
	wrongIssuer["chain"] = pemCert(e2.cert.Raw)
	wrongIssuer["fullchain"] = append(append([]byte{}, wrongIssuer["cert"]...), wrongIssuer["chain"]...)

	// fullchain.pem holds the leaf alone: its issuer E1 is only in chain.pem.
	leafOnly := maps.Clone(ecdsa1)
	leafOnly["fullchain"] = ecdsa1["cert"]

	encKey := ecKey()
	encrypted := issue(e1, 0x100c, apex, encKey, goodFrom, goodUntil)
	encrypted["privkey"] = encryptPKCS8(encKey, encryptedKeyPassphrase)

	cases := []struct {
		dir, name string
		gens      []files
		live      func(live, archive string) // adjusts live/NAME after the links are made
	}{
		{dir: "good-ecdsa", name: "example.test", gens: []files{ecdsa1}},
		{dir: "good-rsa", name: "example.test", gens: []files{issue(e1, 0x1002, apex, rsaKey(), goodFrom, goodUntil)}},
		// A renewal, as certbot leaves it: generation 1 is good-ecdsa's,
		// live/ points at generation 2, which has a new key.
		{dir: "good-ecdsa-2", name: "example.test", gens: []files{ecdsa1, renewal}},
		{dir: "other", name: "other.test", gens: []files{issue(e1, 0x1004, []string{"other.test"}, ecKey(), goodFrom, goodUntil)}},
		{dir: "single", name: "www.example.test", gens: []files{issue(e1, 0x1005, []string{"www.example.test"}, ecKey(), goodFrom, goodUntil)}},

		// Half-renewed: the certificate links point at generation 2, the
		// key link still at generation 1.
		{dir: "key-mismatch", name: "example.test", gens: []files{ecdsa1, renewal}, live: func(live, _ string) {
			relink(live, "example.test", "privkey", 1)
		}},
		{dir: "expired", name: "example.test", gens: []files{issue(e1, 0x1006, apex, ecKey(), date(2020, 1, 1), date(2020, 4, 1))}},
		{dir: "not-yet-valid", name: "example.test", gens: []files{issue(e1, 0x1007, apex, ecKey(), date(2099, 1, 1), date(2099, 4, 1))}},
		// The leaf was issued by E1, but the chain that follows it is E2.
		{dir: "broken-chain", name: "example.test", gens: []files{wrongIssuer}},
		{dir: "leaf-only", name: "example.test", gens: []files{leafOnly}},
		{dir: "garbage-pem", name: "example.test", gens: []files{withFiles(issue(e1, 0x1009, apex, ecKey(), goodFrom, goodUntil), files{"cert": garbage, "fullchain": garbage})}},
		{dir: "empty-file", name: "example.test", gens: []files{empty}},
		{dir: "missing-privkey", name: "example.test", gens: []files{noKey}},
		// privkey.pem -> ../../archive/NAME/privkey1.pem -> privkey1-loop.pem -> privkey1.pem
		{dir: "symlink-loop", name: "example.test", gens: []files{withFiles(issue(e1, 0x100d, apex, ecKey(), goodFrom, goodUntil), files{"privkey": nil})}, live: func(_, archive string) {
			link("privkey1-loop.pem", filepath.Join(archive, "privkey1.pem"))
			link("privkey1.pem", filepath.Join(archive, "privkey1-loop.pem"))
		}},
		{dir: "encrypted-key", name: "example.test", gens: []files{encrypted}},
		{dir: "no-san", name: "example.test", gens: []files{issueNoSAN(e1, 0x100e, "example.test", ecKey())}},
		// privkey.pem is a directory; git keeps it through a .keep file.
		{dir: "unreadable-file", name: "example.test", gens: []files{issue(e1, 0x100f, apex, ecKey(), goodFrom, goodUntil)}, live: func(live, _ string) {
			p := filepath.Join(live, "privkey.pem")
			must(os.Remove(p))
			must(os.Mkdir(p, 0o755))
			write(filepath.Join(p, ".keep"), nil, 0o644)
		}},

		// One config dir holding several lineages, as an operator who keeps an RSA and an
		// ECDSA certificate for the same names has it (certbot --key-type rsa, then
		// --key-type ecdsa --cert-name example.test-ecdsa), beside lineages that pair with
		// nothing: an ECDSA one for www only, an RSA one for other names, and one whose
		// fullchain.pem is garbage.
		{dir: "dual", name: "example.test", gens: []files{issue(e1, 0x1010, apex, rsaKey(), goodFrom, goodUntil)}},
		{dir: "dual", name: "example.test-ecdsa", gens: []files{issue(e1, 0x1011, apex, ecKey(), goodFrom, goodUntil)}},
		{dir: "dual", name: "www.example.test", gens: []files{issue(e1, 0x1012, []string{"www.example.test"}, ecKey(), goodFrom, goodUntil)}},
		{dir: "dual", name: "other.test", gens: []files{issue(e1, 0x1013, []string{"other.test"}, rsaKey(), goodFrom, goodUntil)}},
		{dir: "dual", name: "broken.test", gens: []files{withFiles(issue(e1, 0x1014, []string{"broken.test"}, ecKey(), goodFrom, goodUntil), files{"cert": garbage, "fullchain": garbage})}},
	}
	cleared := map[string]bool{}
	for _, c := range cases {
		base := filepath.Join(*out, c.dir)
		// A case dir may hold several lineages: clear it before its first one only.
		if !cleared[base] {
			must(os.RemoveAll(base))
			cleared[base] = true
		}
		live := filepath.Join(base, "live", c.name)
		archive := filepath.Join(base, "archive", c.name)
		// certbot makes archive/ 0700 and keys 0600, but git keeps no modes
		// but the executable bit: a checkout would differ from a fresh run.
		must(os.MkdirAll(live, 0o755))
		must(os.MkdirAll(archive, 0o755))
		for i, g := range c.gens {
			for _, k := range kinds {
				if g[k] != nil {
					write(filepath.Join(archive, k+strconv.Itoa(i+1)+".pem"), g[k], 0o644)
				}
			}
		}
		last := c.gens[len(c.gens)-1]
		for _, k := range kinds {
			if _, ok := last[k]; ok {
				relink(live, c.name, k, len(c.gens))
			}
		}
		write(filepath.Join(live, "README"), []byte(readme), 0o644)
		if c.live != nil {
			c.live(live, archive)
		}
		fmt.Println("wrote", base)
	}
}

// certbot writes this README into every live/NAME directory; a watcher
// must not mistake it for a certificate file.
const readme = `This directory contains your keys and certificates.

` + "`privkey.pem`" + `  : the private key for your certificate.
` + "`fullchain.pem`" + `: the certificate file used in most server software.
` + "`chain.pem`" + `    : used for OCSP stapling in Nginx >=1.3.7.
` + "`cert.pem`" + `     : will break many server configurations, and should not be used
                 without reading further documentation (see link below).

WARNING: DO NOT MOVE OR RENAME THESE FILES!
         Certbot expects these files to remain in this location in order
         to function properly!

We recommend not moving these files. For more information, see the Certbot
User Guide at https://certbot.eff.org/docs/using.html#where-are-my-certificates.
`

// relink points live/NAME/KIND.pem at generation n, the way certbot does.
func relink(live, name, kind string, n int) {
	p := filepath.Join(live, kind+".pem")
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		log.Fatal(err)
	}
	link(filepath.Join("..", "..", "archive", name, kind+strconv.Itoa(n)+".pem"), p)
}

func link(target, path string) { must(os.Symlink(target, path)) }

func withFiles(g, over files) files {
	for k, v := range over {
		g[k] = v
	}
	return g
}

func newCA(serial int64, cn string, curve elliptic.Curve, parent *authority) *authority {
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	must(err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{Organization: []string{"clbcert tests"}, CommonName: cn},
		NotBefore:             caFrom,
		NotAfter:              caUntil,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	signer, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		tmpl.MaxPathLenZero = true
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signerKey)
	must(err)
	cert, err := x509.ParseCertificate(der)
	must(err)
	return &authority{cert: cert, key: key}
}

func ecKey() crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	return k
}

func rsaKey() crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	return k
}

func leafTemplate(serial int64, cn string, from, until time.Time, key crypto.Signer) *x509.Certificate {
	usage := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	}
	return &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             from,
		NotAfter:              until,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
}

func issue(ca *authority, serial int64, names []string, key crypto.Signer, from, until time.Time) files {
	tmpl := leafTemplate(serial, names[0], from, until, key)
	tmpl.DNSNames = names
	return sign(ca, tmpl, key)
}

func issueNoSAN(ca *authority, serial int64, cn string, key crypto.Signer) files {
	return sign(ca, leafTemplate(serial, cn, goodFrom, goodUntil, key), key)
}

func sign(ca *authority, tmpl *x509.Certificate, key crypto.Signer) files {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	must(err)
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	must(err)
	cert, chain := pemCert(der), pemCert(ca.cert.Raw)
	return files{
		"cert":      cert,
		"chain":     chain,
		"fullchain": append(append([]byte{}, cert...), chain...),
		// PKCS#8, as certbot 2.x writes both RSA and ECDSA keys.
		"privkey": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// encryptPKCS8 writes key as openssl pkey -aes256 does: PKCS#8
// EncryptedPrivateKeyInfo with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC). The
// standard library reads none of this, which is the point of the case.
func encryptPKCS8(key crypto.Signer, passphrase string) []byte {
	type algorithm struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		must(err)
		return asn1.RawValue{FullBytes: b}
	}
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	must(err)
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	_, err = rand.Read(salt)
	must(err)
	_, err = rand.Read(iv)
	must(err)
	const iterations = 2048
	dk, err := pbkdf2.Key(sha256.New, passphrase, salt, iterations, 32)
	must(err)
	block, err := aes.NewCipher(dk)
	must(err)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for range pad {
		plain = append(plain, byte(pad))
	}
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)

	kdf := struct {
		Salt       []byte
		Iterations int
		PRF        algorithm
	}{salt, iterations, algorithm{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, Params: asn1.NullRawValue}}
	pbes2 := struct{ KDF, Cipher algorithm }{
		algorithm{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, Params: raw(kdf)},
		algorithm{OID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Params: raw(iv)},
	}
	info := struct {
		Algorithm algorithm
		Data      []byte
	}{algorithm{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, Params: raw(pbes2)}, enc}
	der, err := asn1.Marshal(info)
	must(err)
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

func write(path string, data []byte, mode os.FileMode) { must(os.WriteFile(path, data, mode)) }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
