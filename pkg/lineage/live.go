package lineage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrNoCertbotDir is wrapped by the errors of a certbot config dir that is
// not given, or is not one.
var ErrNoCertbotDir = errors.New("not certbot's config dir")

// LiveDirs lists the lineage directories of certbot's config dir,
// certbotDir/live/*, in name order: each a directory or a link to one.
// certbot keeps a README beside them, which is left out.
func LiveDirs(certbotDir string) ([]string, error) {
	live := filepath.Join(certbotDir, "live")
	entries, err := os.ReadDir(live)
	if err != nil {
		return nil, fmt.Errorf("read certbot's lineages: %w: %w", err, ErrNoCertbotDir)
	}
	var out []string
	for _, e := range entries {
		dir := filepath.Join(live, e.Name())
		// Stat, not the entry's type: a lineage may be a link.
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			out = append(out, dir)
		}
	}
	return out, nil
}

// DaysLeft is the whole days from now until notAfter, rounded down: 0 on
// the last day, -1 from the moment it has passed (not 0, as truncating
// toward zero would say for the first day after).
func DaysLeft(notAfter, now time.Time) int {
	left := notAfter.Sub(now)
	days := int(left / (24 * time.Hour))
	if left < 0 && left%(24*time.Hour) != 0 {
		days--
	}
	return days
}
