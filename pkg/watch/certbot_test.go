package watch_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/pkg/lineage"
)

// kinds are certbot's four links, in the order it swaps them
// (storage.py, ALL_FOUR).
var kinds = []string{"cert", "privkey", "chain", "fullchain"}

// fakeCertbot lays out and changes a config dir exactly as certbot 2.1
// does (docs/certbot.md), with freshly made certificates from its own CA.
type fakeCertbot struct {
	t       testing.TB
	dir     string
	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey
	caPEM   []byte
	version map[string]int
	serial  int64
}

func newFakeCertbot(t testing.TB, dir string) *fakeCertbot {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "watch test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeCertbot{t: t, dir: dir, ca: ca, caKey: key, caPEM: pemBlock("CERTIFICATE", der), version: map[string]int{}, serial: 1}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func (c *fakeCertbot) live(name string) string { return filepath.Join(c.dir, "live", name) }

func (c *fakeCertbot) archive(name string) string { return filepath.Join(c.dir, "archive", name) }

// writeVersion writes archive/NAME/KINDn.pem for a new leaf and key and
// returns the leaf's fingerprint.
func (c *fakeCertbot) writeVersion(name string, n int) string {
	c.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	c.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(c.serial),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24*time.Hour - time.Duration(c.serial)*time.Minute),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, key.Public(), c.caKey)
	if err != nil {
		c.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		c.t.Fatal(err)
	}
	leaf := pemBlock("CERTIFICATE", der)
	content := map[string][]byte{
		"cert":      leaf,
		"privkey":   pemBlock("PRIVATE KEY", keyDER),
		"chain":     c.caPEM,
		"fullchain": append(append([]byte{}, leaf...), c.caPEM...),
	}
	for _, k := range kinds {
		if err := os.WriteFile(filepath.Join(c.archive(name), fmt.Sprintf("%s%d.pem", k, n)), content[k], 0o600); err != nil {
			c.t.Fatal(err)
		}
	}
	return lineage.Fingerprint(der)
}

// issue is `certbot certonly` for a new lineage: certbot makes live/NAME,
// links the four names to archive files that do not exist yet, then writes
// them through the links (storage.py, new_lineage).
func (c *fakeCertbot) issue(name string) string {
	c.t.Helper()
	for _, d := range []string{c.archive(name), c.live(name)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	for _, k := range kinds {
		if err := os.Symlink(fmt.Sprintf("../../archive/%s/%s1.pem", name, k), filepath.Join(c.live(name), k+".pem")); err != nil {
			c.t.Fatal(err)
		}
	}
	c.version[name] = 1
	return c.writeVersion(name, 1)
}

// step is one file system change of a renewal.
type step struct {
	label string
	do    func() error
	// events is how many inotify events the step makes in live/NAME.
	events int
}

// renewal is `certbot renew` of one lineage as its steps, to be run whole
// or stopped anywhere: write the new archive files, create the four
// previous_*.pem links, unlink and re-create each link, remove the
// previous_*.pem links (storage.py, save_successor and
// update_all_links_to).
type renewal struct {
	steps       []step
	fingerprint string // of the new leaf
}

func (c *fakeCertbot) renewal(name string) *renewal {
	c.t.Helper()
	n := c.version[name] + 1
	c.version[name] = n
	live := c.live(name)
	r := &renewal{}
	r.steps = append(r.steps, step{"write archive", func() error {
		r.fingerprint = c.writeVersion(name, n)
		return nil
	}, 0})
	for _, k := range kinds {
		r.steps = append(r.steps, step{"create previous_" + k, func() error {
			target, err := filepath.EvalSymlinks(filepath.Join(live, k+".pem"))
			if err != nil {
				return err
			}
			return os.Symlink(target, filepath.Join(live, "previous_"+k+".pem"))
		}, 1})
	}
	for _, k := range kinds {
		link := filepath.Join(live, k+".pem")
		r.steps = append(r.steps,
			step{"unlink " + k, func() error { return os.Remove(link) }, 1},
			step{"link " + k, func() error {
				return os.Symlink(fmt.Sprintf("../../archive/%s/%s%d.pem", name, k, n), link)
			}, 1})
	}
	for _, k := range kinds {
		r.steps = append(r.steps, step{"remove previous_" + k, func() error {
			return os.Remove(filepath.Join(live, "previous_"+k+".pem"))
		}, 1})
	}
	return r
}

// without drops the steps whose label starts with prefix: a tool other
// than certbot that swaps links without backups.
func (r *renewal) without(prefix string) *renewal {
	var kept []step
	for _, s := range r.steps {
		if !strings.HasPrefix(s.label, prefix) {
			kept = append(kept, s)
		}
	}
	r.steps = kept
	return r
}

// runUntil runs the steps up to and including the one labelled last ("" runs
// them all) and returns how many inotify events they made in live/NAME.
func (r *renewal) runUntil(t testing.TB, last string) (events int) {
	t.Helper()
	for len(r.steps) > 0 {
		s := r.steps[0]
		r.steps = r.steps[1:]
		if err := s.do(); err != nil {
			t.Fatalf("renewal step %q: %v", s.label, err)
		}
		events += s.events
		if s.label == last {
			return events
		}
	}
	if last != "" {
		t.Fatalf("renewal has no step %q", last)
	}
	return events
}

// renew runs a whole renewal and returns the new leaf's fingerprint.
func (c *fakeCertbot) renew(name string) string {
	c.t.Helper()
	r := c.renewal(name)
	r.runUntil(c.t, "")
	return r.fingerprint
}
