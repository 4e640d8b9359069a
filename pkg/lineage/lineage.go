// Package lineage reads and validates a certbot lineage (a live/NAME
// directory), fingerprints its certificate and decides which host names it
// covers. It is pure: files in, values out, no network and no cloud.
//
// Everything that would make a deployment fail or serve a broken site is
// refused here, before any API call: a key that does not match the leaf, a
// chain that does not link, a leaf outside its validity period or without
// DNS names.
package lineage

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Lineage is a certificate and key read from a certbot live/NAME directory
// and checked.
//
// KeyPEM and Key are secret. The formatting methods (String, GoString,
// LogValue, MarshalJSON) have value receivers so that printing, logging or
// encoding a Lineage or a *Lineage never shows them.
type Lineage struct {
	Name          string              // base name of the directory (certbot's lineage name)
	Dir           string              // the directory as given
	Leaf          *x509.Certificate   // the first certificate of fullchain.pem
	Intermediates []*x509.Certificate // the rest of fullchain.pem, in order
	Key           crypto.Signer       // *rsa.PrivateKey or *ecdsa.PrivateKey
	FullchainPEM  string              // fullchain.pem as read (leaf first): what gets uploaded as the public key
	KeyPEM        string              // privkey.pem as read. SECRET: never put it in an error, a log or String()
	Fingerprint   string              // lowercase hex SHA-256 of the leaf's DER
}

// Load reads fullchain.pem and privkey.pem in dir, following certbot's
// symlinks into ../../archive/, and checks them as of now.
//
// Every error is an *Error whose message is one line naming the file and
// the fix. Content problems wrap ErrInvalid; a file that is missing or
// cannot be read wraps the I/O error (fs.ErrNotExist, fs.ErrPermission,
// syscall.ELOOP, syscall.EISDIR). While certbot swaps the links during a
// renewal a file may be missing for a moment, or the key may not match the
// leaf yet: a watcher should retry those rather than give up.
//
// A leaf that was not issued by itself must be followed by its issuer:
// without it, clients that do not happen to hold the intermediate fail
// with "unable to verify the first certificate". Such a lineage is refused
// with ErrMissingIssuer unless LoadWith is asked to take the issuers from
// chain.pem.
func Load(dir string, now time.Time) (*Lineage, error) {
	return LoadWith(dir, now, Options{})
}

// Options tunes LoadWith; the zero value is Load.
type Options struct {
	// ChainFromChainPEM completes a fullchain.pem that holds only a leaf
	// issued by someone else with certbot's chain.pem, which must then
	// start with that issuer. FullchainPEM is the two joined: what gets
	// uploaded and served. Off by default: a fullchain.pem without its
	// chain is a sign of a hand edit or a broken tool, which the operator
	// should see rather than have mended silently.
	ChainFromChainPEM bool
}

// LoadWith is Load with options.
func LoadWith(dir string, now time.Time, opts Options) (*Lineage, error) {
	if err := readDir(dir); err != nil {
		return nil, err
	}
	chainPath := filepath.Join(dir, "fullchain.pem")
	keyPath := filepath.Join(dir, "privkey.pem")
	fullchain, err := readFile(chainPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readFile(keyPath)
	if err != nil {
		return nil, err
	}
	if opts.ChainFromChainPEM {
		if fullchain, err = completeChain(chainPath, fullchain, filepath.Join(dir, "chain.pem")); err != nil {
			return nil, err
		}
	}
	l, err := parse(chainPath, fullchain, keyPath, keyPEM, now)
	if err != nil {
		return nil, err
	}
	l.Dir = dir
	l.Name = lineageName(dir)
	return l, nil
}

// lineageName is certbot's name for the lineage in dir. The directory is
// made absolute first so that "." and "live/example.com/" name it too.
func lineageName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Base(filepath.Clean(dir))
}

// parse checks the content of a lineage's two files; the paths are only
// for messages.
func parse(chainPath string, fullchain []byte, keyPath string, keyPEM []byte, now time.Time) (*Lineage, error) {
	certs, err := parseChain(chainPath, fullchain)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyPath, keyPEM)
	if err != nil {
		return nil, err
	}
	// The chain first: with the certificates out of order, the key would
	// seem not to match a "leaf" that is really the intermediate.
	if err := checkChain(chainPath, certs); err != nil {
		return nil, err
	}
	leaf := certs[0]
	if err := checkKey(keyPath, chainPath, leaf, key); err != nil {
		return nil, err
	}
	if err := checkLeaf(chainPath, leaf, now); err != nil {
		return nil, err
	}
	if err := checkIssuer(chainPath, certs); err != nil {
		return nil, err
	}
	return &Lineage{
		Leaf:          leaf,
		Intermediates: certs[1:],
		Key:           key,
		FullchainPEM:  string(fullchain),
		KeyPEM:        string(keyPEM),
		Fingerprint:   Fingerprint(leaf.Raw),
	}, nil
}

// Fingerprint is the lowercase hex SHA-256 of a certificate's DER, the
// identity under which a certificate is uploaded once and found again.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Names are the leaf's DNS subjectAltNames, lower-cased, sorted and
// deduplicated (a trailing dot dropped, as Covers ignores it).
func (l Lineage) Names() []string {
	if l.Leaf == nil {
		return nil
	}
	names := make([]string, 0, len(l.Leaf.DNSNames))
	for _, n := range l.Leaf.DNSNames {
		names = append(names, normalize(n))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Covers reports whether the leaf is valid for name; see the function Covers.
func (l Lineage) Covers(name string) bool {
	return Covers(l.Names(), name)
}

// String is for people: the lineage name, its names, expiry and a short
// fingerprint, e.g.
// "example.com (*.example.com, example.com; expires 2027-02-01; sha256 ab12cd34…)".
func (l Lineage) String() string {
	if l.Leaf == nil {
		return l.Name + " (no certificate)"
	}
	fp := l.Fingerprint
	if len(fp) > 8 {
		fp = fp[:8] + "…"
	}
	return l.Name + " (" + strings.Join(l.Names(), ", ") + "; expires " +
		l.Leaf.NotAfter.UTC().Format(time.DateOnly) + "; sha256 " + fp + ")"
}

// GoString keeps %#v, the verb people reach for when debugging, from
// printing the key.
func (l Lineage) GoString() string {
	return "lineage.Lineage{" + l.String() + "}"
}

// LogValue keeps slog, whose JSON handler would otherwise walk every field,
// from logging the key.
func (l Lineage) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("name", l.Name),
		slog.String("dir", l.Dir),
		slog.String("sha256", l.Fingerprint),
	}
	if l.Leaf != nil {
		attrs = append(attrs,
			slog.Any("names", l.Names()),
			slog.Time("not_after", l.Leaf.NotAfter.UTC()))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the public facts only, so that a --json output built
// from a Lineage cannot carry the key.
func (l Lineage) MarshalJSON() ([]byte, error) {
	type public struct {
		Name        string    `json:"name"`
		Dir         string    `json:"dir"`
		Names       []string  `json:"names"`
		NotBefore   time.Time `json:"notBefore"`
		NotAfter    time.Time `json:"notAfter"`
		Fingerprint string    `json:"fingerprint"`
	}
	p := public{Name: l.Name, Dir: l.Dir, Names: l.Names(), Fingerprint: l.Fingerprint}
	if l.Leaf != nil {
		p.NotBefore, p.NotAfter = l.Leaf.NotBefore.UTC(), l.Leaf.NotAfter.UTC()
	}
	return json.Marshal(p)
}
