package dns01

import (
	"fmt"
	"strings"
	"unicode"
)

// CheckName refuses, before any API call, a domain name that DNSPod could
// not hold: an internationalized name not in its ASCII form (certbot passes
// punycode; converting here would need Unicode tables this module does not
// carry), an empty label, and characters or lengths DNS does not allow. One
// trailing dot (the root) and a leading "*." (a wildcard's) are accepted.
// Tested by TestCheckName and TestBadInput (hooks/clbcert-dns).
func CheckName(name string) error {
	n := strings.TrimSuffix(strings.TrimPrefix(name, "*."), ".")
	if n == "" {
		return fmt.Errorf("%q is not a domain name", name)
	}
	if strings.IndexFunc(n, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
		return fmt.Errorf("%q is an internationalized name: give its ASCII (punycode) form, xn--…, as certbot does", name)
	}
	if len(n) > 253 {
		return fmt.Errorf("%q is longer than the 253 characters a DNS name may have", name)
	}
	for _, label := range strings.Split(n, ".") {
		switch {
		case label == "":
			return fmt.Errorf("%q has an empty label (two dots in a row, or a dot at the start): remove the extra dot", name)
		case len(label) > 63:
			return fmt.Errorf("%q has a label longer than the 63 characters DNS allows", name)
		case strings.IndexFunc(label, notHostChar) >= 0:
			return fmt.Errorf("%q has a character DNS names do not use in %q: use letters, digits, - and _ only", name, label)
		}
	}
	return nil
}

func notHostChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}
