// Package plural writes counts for people: "1 target", "2 targets".
package plural

import (
	"strconv"
	"strings"
)

// Of is n and the noun, in the plural unless n is 1: Of(1, "lineage") is
// "1 lineage", Of(3, "load balancer") "3 load balancers".
func Of(n int, noun string) string {
	return strconv.Itoa(n) + " " + Noun(n, noun)
}

// Noun is noun (singular) in the plural unless n is 1, by the regular
// English rules, applied to its last word: "target" → "targets", "success"
// → "successes", "entry" → "entries".
func Noun(n int, noun string) string {
	if n == 1 {
		return noun
	}
	for _, end := range []string{"s", "x", "z", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return noun + "es"
		}
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok && stem != "" && !strings.ContainsRune("aeiou", rune(stem[len(stem)-1])) {
		return stem + "ies"
	}
	return noun + "s"
}
