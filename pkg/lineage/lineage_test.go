package lineage

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const corpus = "../../testdata/lineages"

// now is well inside the good cases' validity (2025–2125).
var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// live is the live/NAME directory of a corpus case.
func live(c, name string) string { return filepath.Join(corpus, c, "live", name) }

// fileFingerprint computes the leaf's fingerprint from cert.pem, the file
// certbot writes beside fullchain.pem, without going through this package.
func fileFingerprint(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s/cert.pem: no PEM block", dir)
	}
	sum := sha256.Sum256(b.Bytes)
	return fmt.Sprintf("%x", sum)
}

func TestLoadGood(t *testing.T) {
	roots := x509.NewCertPool()
	rootPEM, err := os.ReadFile(filepath.Join(corpus, "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatal("root.pem holds no certificate")
	}
	tests := []struct {
		dir   string
		name  string
		names []string
		key   string
	}{
		{"good-ecdsa", "example.test", []string{"*.example.test", "example.test"}, "*ecdsa.PrivateKey"},
		{"good-rsa", "example.test", []string{"*.example.test", "example.test"}, "*rsa.PrivateKey"},
		{"good-ecdsa-2", "example.test", []string{"*.example.test", "example.test"}, "*ecdsa.PrivateKey"},
		{"other", "other.test", []string{"other.test"}, "*ecdsa.PrivateKey"},
		{"single", "www.example.test", []string{"www.example.test"}, "*ecdsa.PrivateKey"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := live(tt.dir, tt.name)
			l, err := Load(dir, now)
			if err != nil {
				t.Fatal(err)
			}
			if l.Name != tt.name || l.Dir != dir {
				t.Errorf("Name, Dir = %q, %q; want %q, %q", l.Name, l.Dir, tt.name, dir)
			}
			if got := l.Names(); !slices.Equal(got, tt.names) {
				t.Errorf("Names() = %q, want %q", got, tt.names)
			}
			if want := fileFingerprint(t, dir); l.Fingerprint != want {
				t.Errorf("Fingerprint = %s, want %s (sha256 of cert.pem)", l.Fingerprint, want)
			}
			if got := fmt.Sprintf("%T", l.Key); got != tt.key {
				t.Errorf("Key is %s, want %s", got, tt.key)
			}
			for file, got := range map[string]string{"fullchain.pem": l.FullchainPEM, "privkey.pem": l.KeyPEM} {
				want, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%s not kept as read", file)
				}
			}
			if len(l.Intermediates) != 1 {
				t.Fatalf("%d intermediates, want 1", len(l.Intermediates))
			}
			inter := x509.NewCertPool()
			inter.AddCert(l.Intermediates[0])
			if _, err := l.Leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: tt.names[len(tt.names)-1], CurrentTime: now}); err != nil {
				t.Errorf("leaf does not verify up to root.pem: %v", err)
			}
			for _, n := range tt.names {
				if !l.Covers(n) {
					t.Errorf("Covers(%q) = false", n)
				}
			}
			wantString := fmt.Sprintf("%s (%s; expires %s; sha256 %s…)", tt.name, strings.Join(tt.names, ", "),
				l.Leaf.NotAfter.UTC().Format("2006-01-02"), l.Fingerprint[:8])
			if got := l.String(); got != wantString {
				t.Errorf("String() = %q, want %q", got, wantString)
			}
			assertNoKey(t, l)
		})
	}
}

// assertNoKey checks every way of printing, logging or encoding a Lineage.
func assertNoKey(t *testing.T, l *Lineage) {
	t.Helper()
	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("x", "lineage", l, "value", *l)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "lineage", l)
	js, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", l), "%+v": fmt.Sprintf("%+v", l), "%#v": fmt.Sprintf("%#v", l),
		"%v of value": fmt.Sprintf("%v", *l), "%#v of value": fmt.Sprintf("%#v", *l),
		"slog": logged.String(), "json": string(js),
	}
	for how, out := range outputs {
		if leak := keyFragment(l.KeyPEM, out); leak != "" {
			t.Errorf("%s shows the private key (%.20s…)", how, leak)
		}
		if !strings.Contains(out, l.Fingerprint[:8]) {
			t.Errorf("%s does not identify the certificate: %s", how, out)
		}
	}
}

// keyFragment returns a piece of keyPEM's base64 body found in out, or "".
// Lines shorter than 20 characters could occur in a message by chance.
func keyFragment(keyPEM, out string) string {
	for line := range strings.Lines(keyPEM) {
		line = strings.TrimSpace(line)
		if len(line) >= 20 && !strings.HasPrefix(line, "-----") && strings.Contains(out, line) {
			return line
		}
	}
	return ""
}

func TestRenewalIsANewCertificate(t *testing.T) {
	old, err := Load(live("good-ecdsa", "example.test"), now)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := Load(live("good-ecdsa-2", "example.test"), now)
	if err != nil {
		t.Fatal(err)
	}
	if old.Fingerprint == renewed.Fingerprint || old.KeyPEM == renewed.KeyPEM {
		t.Error("the renewal has the same certificate or key as the original")
	}
	if !renewed.Leaf.NotBefore.After(old.Leaf.NotBefore) {
		t.Error("the renewal is not newer")
	}
	if !slices.Equal(old.Names(), renewed.Names()) {
		t.Errorf("names changed on renewal: %q -> %q", old.Names(), renewed.Names())
	}
}

func TestLoadBad(t *testing.T) {
	tests := []struct {
		dir  string
		file string // the file the error must name
		is   error  // ErrInvalid, or the I/O error
		want string // in the message
	}{
		{"key-mismatch", "privkey.pem", ErrInvalid, "does not match the certificate in " + filepath.Join(live("key-mismatch", "example.test"), "fullchain.pem")},
		{"expired", "fullchain.pem", ErrInvalid, "expired on 2020-04-01 00:00:00 UTC (now 2030-06-01 12:00:00 UTC)"},
		{"not-yet-valid", "fullchain.pem", ErrInvalid, "not valid until 2099-01-01 00:00:00 UTC"},
		{"broken-chain", "fullchain.pem", ErrInvalid, `broken chain: certificate 1 (CN=example.test) was issued by "CN=clbcert Test E1,O=clbcert tests", but certificate 2 is "CN=clbcert Test E2,O=clbcert tests"`},
		{"garbage-pem", "fullchain.pem", ErrInvalid, "holds no PEM CERTIFICATE block"},
		{"empty-file", "fullchain.pem", ErrInvalid, "is empty"},
		{"missing-privkey", "privkey.pem", fs.ErrNotExist, "does not exist"},
		{"symlink-loop", "privkey.pem", syscall.ELOOP, "is a symlink loop"},
		{"encrypted-key", "privkey.pem", ErrInvalid, "is encrypted with a passphrase"},
		{"no-san", "fullchain.pem", ErrInvalid, "has no DNS names"},
		{"leaf-only", "fullchain.pem", ErrInvalid, "holds only the certificate (CN=example.test), not its issuer CN=clbcert Test E1"},
		{"unreadable-file", "privkey.pem", syscall.EISDIR, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := live(tt.dir, "example.test")
			l, err := Load(dir, now)
			if err == nil {
				t.Fatalf("loaded %v", l)
			}
			path := filepath.Join(dir, tt.file)
			checkError(t, err, path, tt.is, tt.want)
			for _, key := range archivedKeys(t, filepath.Join(corpus, tt.dir)) {
				if leak := keyFragment(key, err.Error()); leak != "" {
					t.Errorf("error shows the private key: %v", err)
				}
			}
		})
	}
}

// A fullchain.pem without the leaf's issuer is refused as such; chain.pem
// completes it only when asked, and only if it starts with that issuer.
func TestLoadLeafOnly(t *testing.T) {
	dir := live("leaf-only", "example.test")
	if _, err := Load(dir, now); !errors.Is(err, ErrMissingIssuer) {
		t.Fatalf("Load: %v, want ErrMissingIssuer", err)
	}
	l, err := LoadWith(dir, now, Options{ChainFromChainPEM: true})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(filepath.Join(live("good-ecdsa", "example.test"), "fullchain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if l.FullchainPEM != string(whole) || len(l.Intermediates) != 1 || l.Intermediates[0].Subject.CommonName != "clbcert Test E1" {
		t.Fatalf("completed chain = %d intermediates, FullchainPEM equal to good-ecdsa's: %v", len(l.Intermediates), l.FullchainPEM == string(whole))
	}
	good, err := LoadWith(live("good-rsa", "example.test"), now, Options{ChainFromChainPEM: true})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile(filepath.Join(live("good-rsa", "example.test"), "fullchain.pem")); good.FullchainPEM != string(want) {
		t.Error("a whole fullchain.pem was changed")
	}

	// chain.pem holding the root instead of the intermediate cannot help.
	wrong := filepath.Join(t.TempDir(), "live", "example.test")
	if err := os.MkdirAll(wrong, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, from := range map[string]string{"fullchain.pem": filepath.Join(dir, "fullchain.pem"), "privkey.pem": filepath.Join(dir, "privkey.pem"), "chain.pem": filepath.Join(corpus, "root.pem")} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(wrong, file), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err = LoadWith(wrong, now, Options{ChainFromChainPEM: true})
	checkError(t, err, filepath.Join(wrong, "chain.pem"), ErrInvalid, "does not start with the issuer of CN=example.test (CN=clbcert Test E1, which signed it), but with CN=clbcert Test Root X1")
	if !errors.Is(err, ErrMissingIssuer) {
		t.Errorf("%v is not ErrMissingIssuer", err)
	}
}

// checkError checks what every error of Load promises: an *Error for path,
// one line starting with the path, and the right kind.
func checkError(t *testing.T, err error, path string, is error, want string) {
	t.Helper()
	msg := err.Error()
	if !errors.Is(err, is) {
		t.Errorf("errors.Is(err, %v) = false: %v", is, err)
	}
	if invalid := errors.Is(err, ErrInvalid); invalid != (is == ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = %v: %v", invalid, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != path {
		t.Errorf("not an *Error for %s: %#v", path, err)
	}
	if !strings.HasPrefix(msg, path) && !strings.Contains(msg, " "+path+" ") {
		t.Errorf("message does not name %s: %s", path, msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("message\n  %s\ndoes not say\n  %s", msg, want)
	}
}

// archivedKeys returns the content of every privkey file of a corpus case.
func archivedKeys(t *testing.T, caseDir string) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(caseDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), "privkey") {
			return err
		}
		b, err := os.ReadFile(p)
		keys = append(keys, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestLoadDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "live", "nope.test")
	file := filepath.Join(live("good-ecdsa", "example.test"), "README")
	tests := []struct {
		dir, path string
		is        error
		want      string
	}{
		{missing, missing, fs.ErrNotExist, "lineage directory " + missing + " does not exist"},
		{file, file, syscall.ENOTDIR, "is not a directory"},
		{"", "", ErrInvalid, "no lineage directory given"},
	}
	for _, tt := range tests {
		_, err := Load(tt.dir, now)
		if err == nil {
			t.Fatalf("Load(%q) succeeded", tt.dir)
		}
		checkError(t, err, tt.path, tt.is, tt.want)
	}
}

// copyLineage copies a good case's live files, links resolved, into a
// temporary live/NAME directory that a test may break.
func copyLineage(t *testing.T, c string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "live", "example.test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"fullchain.pem", "privkey.pem"} {
		b, err := os.ReadFile(filepath.Join(live(c, "example.test"), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDanglingLink(t *testing.T) {
	dir := copyLineage(t, "good-ecdsa")
	key := filepath.Join(dir, "privkey.pem")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../archive/example.test/privkey7.pem", key); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, now)
	checkError(t, err, key, fs.ErrNotExist, "is a symlink to ../../archive/example.test/privkey7.pem, which does not exist")
}

func TestLoadPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := copyLineage(t, "good-ecdsa")
	key := filepath.Join(dir, "privkey.pem")
	if err := os.Chmod(key, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, now)
	checkError(t, err, key, fs.ErrPermission, "permission denied")
}

func TestLoadTooLarge(t *testing.T) {
	dir := copyLineage(t, "good-ecdsa")
	chain := filepath.Join(dir, "fullchain.pem")
	if err := os.WriteFile(chain, bytes.Repeat([]byte("\n"), maxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, now)
	checkError(t, err, chain, ErrInvalid, "is larger than")
}

func TestLoadValidityBounds(t *testing.T) {
	dir := live("good-ecdsa", "example.test")
	l, err := Load(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := l.Leaf.NotBefore, l.Leaf.NotAfter
	chain := filepath.Join(dir, "fullchain.pem")
	for _, at := range []time.Time{nb, na} {
		if _, err := Load(dir, at); err != nil {
			t.Errorf("at %s: %v", at, err)
		}
	}
	_, err = Load(dir, nb.Add(-time.Second))
	checkError(t, err, chain, ErrInvalid, "not valid until")
	_, err = Load(dir, na.Add(time.Second).In(time.FixedZone("CST", 8*3600)))
	checkError(t, err, chain, ErrInvalid, "expired on "+na.UTC().Format(dateFormat)+" (now "+na.Add(time.Second).UTC().Format(dateFormat)+")")
}

func TestLineageName(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		"/etc/letsencrypt/live/example.com":  "example.com",
		"/etc/letsencrypt/live/example.com/": "example.com",
		".":                                  filepath.Base(wd),
	} {
		if got := lineageName(dir); got != want {
			t.Errorf("lineageName(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	// echo -n abc | sha256sum
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := Fingerprint([]byte("abc")); got != want {
		t.Errorf("Fingerprint(abc) = %s", got)
	}
	if _, err := hex.DecodeString(Fingerprint(nil)); err != nil {
		t.Error(err)
	}
}

func TestZeroLineage(t *testing.T) {
	var l Lineage
	if l.Names() != nil || l.Covers("a.test") || l.String() != " (no certificate)" {
		t.Errorf("zero Lineage: names %q, string %q", l.Names(), l.String())
	}
	if _, err := json.Marshal(l); err != nil {
		t.Error(err)
	}
}
