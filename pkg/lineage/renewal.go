package lineage

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RenewBefore reads renew_before_expiry from certbot's renewal/NAME.conf
// for the lineage in dir (certbot's live/NAME): how long before expiry
// certbot renews it. 0 without the file or the setting, which means
// certbot's default.
func RenewBefore(dir string) (time.Duration, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	conf := filepath.Join(ConfigDir(abs), "renewal", filepath.Base(abs)+".conf")
	f, err := os.Open(conf)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", conf, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(key) != "renew_before_expiry" {
			continue
		}
		d, err := parseInterval(value)
		if err != nil {
			return 0, fmt.Errorf("%s: renew_before_expiry = %s: %w: write it as certbot does, e.g. renew_before_expiry = 30 days", conf, strings.TrimSpace(value), err)
		}
		return d, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", conf, err)
	}
	return 0, nil
}

// parseInterval reads certbot's intervals: "30 days", "2 weeks", "1 week
// 3 days", "12 hours"; a bare number is days, as certbot takes it.
func parseInterval(s string) (time.Duration, error) {
	fields := strings.Fields(s)
	if len(fields) == 1 {
		if n, err := strconv.Atoi(fields[0]); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if len(fields) == 0 || len(fields)%2 != 0 {
		return 0, errors.New("not an interval")
	}
	units := map[string]time.Duration{
		"second": time.Second, "minute": time.Minute, "hour": time.Hour,
		"day": 24 * time.Hour, "week": 7 * 24 * time.Hour,
	}
	var total time.Duration
	for i := 0; i < len(fields); i += 2 {
		n, err := strconv.Atoi(fields[i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a count", fields[i])
		}
		u, ok := units[strings.TrimSuffix(strings.ToLower(fields[i+1]), "s")]
		if !ok {
			return 0, fmt.Errorf("unknown unit %q", fields[i+1])
		}
		total += time.Duration(n) * u
	}
	return total, nil
}

// Written is when the lineage's current leaf was written to disk: the
// modification time of the file live/NAME/cert.pem links to. It dates a
// renewal better than the leaf's notBefore, which CAs backdate.
func Written(dir string) (time.Time, error) {
	fi, err := os.Stat(filepath.Join(dir, "cert.pem"))
	if errors.Is(err, fs.ErrNotExist) {
		fi, err = os.Stat(filepath.Join(dir, "fullchain.pem"))
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("when was the leaf of %s written: %w", dir, err)
	}
	return fi.ModTime(), nil
}
