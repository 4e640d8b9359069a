package lineage

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"path/filepath"
	"slices"

	"github.com/clbcert/clbcert/pkg/binding"
)

// Algorithm is the key algorithm of the lineage's leaf as the SSL service names it:
// binding.RSA, binding.ECC, or "" for a key CLB does not pair (Ed25519).
func (l Lineage) Algorithm() binding.Algorithm {
	if l.Leaf == nil {
		return ""
	}
	return keyAlgorithm(l.Leaf.PublicKey)
}

func keyAlgorithm(pub crypto.PublicKey) binding.Algorithm {
	switch pub.(type) {
	case *rsa.PublicKey:
		return binding.RSA
	case *ecdsa.PublicKey:
		return binding.ECC
	}
	return ""
}

// ConfigDir is certbot's config dir of the lineage in dir (live/NAME): the parent of live/.
func ConfigDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Dir(filepath.Dir(filepath.Clean(dir)))
}

// Covering lists the lineages of certbotDir, other than the one named except, whose key
// algorithm is alg and whose certificate covers every one of names: the lineages that keep
// the other member of a dual binding renewed. Only the leaf of each fullchain.pem is read,
// without checking its dates or key: a lineage that is expired or half-renewed right now is
// still the operator's, and counting it out would collapse a pair. A lineage whose leaf
// cannot be read is left out and reported in skipped, so the caller can say why a pair was
// not recognised; err is for certbotDir/live itself.
func Covering(certbotDir, except string, alg binding.Algorithm, names []string) (found []string, skipped []error, err error) {
	dirs, err := LiveDirs(certbotDir)
	if err != nil {
		return nil, nil, err
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if name == except {
			continue
		}
		path := filepath.Join(dir, "fullchain.pem")
		data, err := readFile(path)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		certs, err := parseChain(path, data)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		leaf := certs[0]
		if keyAlgorithm(leaf.PublicKey) != alg {
			continue
		}
		leafNames := make([]string, 0, len(leaf.DNSNames))
		for _, n := range leaf.DNSNames {
			leafNames = append(leafNames, normalize(n))
		}
		if len(names) > 0 && Uncovered(leafNames, names) == nil {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	return found, skipped, nil
}
