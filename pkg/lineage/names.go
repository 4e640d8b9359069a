package lineage

import "strings"

// Covers reports whether a certificate for certNames is valid for name:
//
//   - a plain name covers only itself;
//   - "*.a.com" covers "x.a.com", but neither "a.com" nor "y.x.a.com"
//     (a wildcard stands for exactly one whole label);
//   - a wildcard name to cover ("*.a.com", the current certificate of a
//     listener) is covered only by "*.a.com" itself: a certificate for
//     "x.a.com" serves one of the hosts "*.a.com" served, not all of them.
//
// Comparison ignores case and one trailing dot. Internationalized names are
// compared as given, so both sides should be A-labels ("xn--…"), which is
// what certificates hold.
func Covers(certNames []string, name string) bool {
	name = normalize(name)
	if name == "" {
		return false
	}
	for _, c := range certNames {
		c = normalize(c)
		if c == name {
			return true
		}
		if strings.HasPrefix(name, "*.") || !strings.HasPrefix(c, "*.") {
			continue
		}
		label, ok := strings.CutSuffix(name, c[1:])
		if ok && label != "" && !strings.Contains(label, ".") {
			return true
		}
	}
	return false
}

// Uncovered returns the names that certNames does not cover, in the order
// given, or nil if it covers them all.
func Uncovered(certNames, names []string) []string {
	var out []string
	for _, n := range names {
		if !Covers(certNames, n) {
			out = append(out, n)
		}
	}
	return out
}

func normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}
