package lineage

import (
	"slices"
	"strings"
	"testing"
)

func TestCovers(t *testing.T) {
	tests := []struct {
		cert []string
		name string
		want bool
	}{
		{[]string{"a.com"}, "a.com", true},
		{[]string{"a.com"}, "www.a.com", false},
		{[]string{"www.a.com"}, "a.com", false},
		{[]string{"*.a.com"}, "x.a.com", true},
		{[]string{"*.a.com"}, "a.com", false},
		{[]string{"*.a.com"}, "y.x.a.com", false},
		{[]string{"*.a.com"}, ".a.com", false},
		{[]string{"*.a.com"}, "xa.com", false},
		{[]string{"*.a.com"}, "x.b.com", false},
		{[]string{"*.x.a.com"}, "y.x.a.com", true},
		{[]string{"*.x.a.com"}, "x.a.com", false},
		// A wildcard to cover is covered by the same wildcard only.
		{[]string{"*.a.com"}, "*.a.com", true},
		{[]string{"x.a.com"}, "*.a.com", false},
		{[]string{"x.a.com", "y.a.com"}, "*.a.com", false},
		{[]string{"*.x.a.com"}, "*.a.com", false},
		{[]string{"*.a.com"}, "*.x.a.com", false},
		// Case and one trailing dot are ignored, on either side.
		{[]string{"A.COM"}, "a.com", true},
		{[]string{"a.com"}, "A.Com.", true},
		{[]string{"*.A.com."}, "X.a.COM", true},
		{[]string{"a.com."}, "a.com", true},
		{[]string{"a.com"}, "a.com..", false},
		// Only a whole leftmost "*" label is a wildcard.
		{[]string{"f*.a.com"}, "foo.a.com", false},
		{[]string{"x.*.com"}, "x.a.com", false},
		{[]string{"*"}, "a", false},
		{[]string{"*."}, "a", false},
		// IDNs compare as given: A-labels match A-labels.
		{[]string{"*.xn--fiqs8s"}, "xn--55qx5d.xn--fiqs8s", true},
		{[]string{"xn--fiqs8s"}, "中国", false},
		// Nothing covers nothing.
		{[]string{"a.com"}, "", false},
		{[]string{""}, "", false},
		{nil, "a.com", false},
		{[]string{"b.com", "*.a.com", "a.com"}, "a.com", true},
	}
	for _, tt := range tests {
		if got := Covers(tt.cert, tt.name); got != tt.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tt.cert, tt.name, got, tt.want)
		}
	}
}

func TestUncovered(t *testing.T) {
	cert := []string{"example.com", "*.example.com"}
	tests := []struct {
		names, want []string
	}{
		{nil, nil},
		{[]string{"example.com", "www.example.com", "*.example.com"}, nil},
		{[]string{"a.b.example.com", "example.com", "other.com", "a.b.example.com"}, []string{"a.b.example.com", "other.com", "a.b.example.com"}},
		{[]string{"Other.COM."}, []string{"Other.COM."}},
	}
	for _, tt := range tests {
		if got := Uncovered(cert, tt.names); !slices.Equal(got, tt.want) {
			t.Errorf("Uncovered(%q, %q) = %q, want %q", cert, tt.names, got, tt.want)
		}
	}
}

// FuzzCovers checks Covers against the rules stated label by label.
func FuzzCovers(f *testing.F) {
	for _, s := range [][2]string{
		{"*.a.com", "x.a.com"}, {"*.a.com", "a.com"}, {"*.a.com", "y.x.a.com"}, {"*.a.com", "*.a.com"},
		{"x.a.com", "*.a.com"}, {"A.com.", "a.COM"}, {"*.", "."}, {"*", "*"}, {"", ""}, {"*..", "x.."},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cert, name string) {
		got := Covers([]string{cert}, name)
		if want := coversByLabels(cert, name); got != want {
			t.Errorf("Covers([%q], %q) = %v, want %v", cert, name, got, want)
		}
		if got != Covers([]string{"unrelated.invalid", cert}, name) {
			t.Errorf("another name in the certificate changed the answer for %q, %q", cert, name)
		}
		if got != (len(Uncovered([]string{cert}, []string{name})) == 0) {
			t.Errorf("Uncovered disagrees with Covers for %q, %q", cert, name)
		}
	})
}

// coversByLabels is the rule as a person states it: same labels, or a
// wildcard certificate whose "*" stands for exactly one non-empty label of
// a name that is not itself a wildcard.
func coversByLabels(cert, name string) bool {
	c := strings.Split(strings.ToLower(strings.TrimSuffix(cert, ".")), ".")
	n := strings.Split(strings.ToLower(strings.TrimSuffix(name, ".")), ".")
	if len(n) == 1 && n[0] == "" {
		return false
	}
	if slices.Equal(c, n) {
		return true
	}
	return len(c) > 1 && c[0] == "*" && len(c) == len(n) && n[0] != "" && n[0] != "*" && slices.Equal(c[1:], n[1:])
}
