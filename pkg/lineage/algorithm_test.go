package lineage

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/clbcert/clbcert/pkg/binding"
)

func TestAlgorithm(t *testing.T) {
	tests := []struct {
		dir, name string
		want      binding.Algorithm
	}{
		{"good-rsa", "example.test", binding.RSA},
		{"good-ecdsa", "example.test", binding.ECC},
		{"dual", "example.test", binding.RSA},
		{"dual", "example.test-ecdsa", binding.ECC},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.name, func(t *testing.T) {
			l, err := Load(live(tt.dir, tt.name), now)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Algorithm(); got != tt.want {
				t.Errorf("Algorithm = %q, want %q", got, tt.want)
			}
		})
	}
	if got := (Lineage{}).Algorithm(); got != "" {
		t.Errorf("zero Lineage: Algorithm = %q, want empty", got)
	}
}

func TestConfigDir(t *testing.T) {
	want, err := filepath.Abs(filepath.Join(corpus, "dual"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{live("dual", "example.test"), live("dual", "example.test") + "/"} {
		if got := ConfigDir(dir); got != want {
			t.Errorf("ConfigDir(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestCovering(t *testing.T) {
	apex := []string{"example.test", "*.example.test"}
	tests := []struct {
		name   string
		except string
		alg    binding.Algorithm
		names  []string
		want   []string
	}{
		{"the ECDSA partner of the RSA lineage", "example.test", binding.ECC, apex, []string{"example.test-ecdsa"}},
		{"the RSA partner of the ECDSA lineage", "example.test-ecdsa", binding.RSA, apex, []string{"example.test"}},
		{"a host under the wildcard: both ECDSA lineages cover it", "example.test", binding.ECC, []string{"www.example.test"}, []string{"example.test-ecdsa", "www.example.test"}},
		{"the lineage itself is never its own partner", "example.test", binding.RSA, apex, nil},
		{"a name no lineage of the algorithm has", "example.test", binding.ECC, []string{"other.test"}, nil},
		{"RSA for other.test", "", binding.RSA, []string{"other.test"}, []string{"other.test"}},
		{"every name must be covered", "example.test", binding.ECC, []string{"example.test", "other.test"}, nil},
		{"a wildcard to cover needs the wildcard", "example.test", binding.ECC, []string{"*.example.test"}, []string{"example.test-ecdsa"}},
		{"no names cover nothing", "", binding.ECC, nil, nil},
		{"SM2 is never a certbot lineage", "", binding.SM2, apex, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped, err := Covering(filepath.Join(corpus, "dual"), tt.except, tt.alg, tt.names)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Covering = %q, want %q", got, tt.want)
			}
			// broken.test's fullchain.pem is garbage: reported, not fatal.
			if len(skipped) != 1 || !errors.Is(skipped[0], ErrInvalid) {
				t.Errorf("skipped = %v, want broken.test's ErrInvalid alone", skipped)
			}
		})
	}
}

func TestCoveringReadsOnlyTheLeaf(t *testing.T) {
	// An expired or half-renewed partner still renews its member: it counts.
	for _, kase := range []string{"expired", "key-mismatch"} {
		got, skipped, err := Covering(filepath.Join(corpus, kase), "", binding.ECC, []string{"example.test"})
		if err != nil || len(skipped) != 0 || !slices.Equal(got, []string{"example.test"}) {
			t.Errorf("%s: Covering = %q, %v, %v; want [example.test]", kase, got, skipped, err)
		}
	}
}

func TestCoveringNoLiveDir(t *testing.T) {
	_, _, err := Covering(t.TempDir(), "", binding.RSA, []string{"example.test"})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Covering of a dir without live/: %v, want ErrNotExist", err)
	}
}
