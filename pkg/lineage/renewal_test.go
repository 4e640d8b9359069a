package lineage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	const d = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30 days", 30 * d, true},
		{" 1 day ", d, true},
		{"2 weeks", 14 * d, true},
		{"1 week 3 days", 10 * d, true},
		{"12 hours", 12 * time.Hour, true},
		{"10", 10 * d, true},
		{"", 0, false},
		{"days", 0, false},
		{"3 fortnights", 0, false},
		{"-1 days", 0, false},
	}
	for _, tt := range tests {
		got, err := parseInterval(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseInterval(%q) = %s, %v; want %s, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestRenewBefore(t *testing.T) {
	root := t.TempDir()
	live := filepath.Join(root, "live", "example.test")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "renewal"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(root, "renewal", "example.test.conf")
	got, err := RenewBefore(live)
	if err != nil || got != 0 {
		t.Fatalf("without a renewal conf: %s, %v; want 0, nil", got, err)
	}
	write := func(s string) {
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# renew_before_expiry = 30 days\nversion = 4.0.0\narchive_dir = /x\n[renewalparams]\nauthenticator = manual\n")
	if got, err := RenewBefore(live); err != nil || got != 0 {
		t.Errorf("commented out: %s, %v; want 0, nil", got, err)
	}
	write("version = 4.0.0\nrenew_before_expiry = 2 days\n")
	if got, err := RenewBefore(live); err != nil || got != 48*time.Hour {
		t.Errorf("2 days: %s, %v", got, err)
	}
	write("renew_before_expiry = soon\n")
	if _, err := RenewBefore(live); err == nil || !strings.Contains(err.Error(), "renew_before_expiry = soon") {
		t.Errorf("bad value: %v, want an error naming it", err)
	}
}
