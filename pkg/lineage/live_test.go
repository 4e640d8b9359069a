package lineage

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLiveDirs(t *testing.T) {
	certbot := t.TempDir()
	live := filepath.Join(certbot, "live")
	for _, d := range []string{"b.example", "a.example", filepath.Join("..", "elsewhere")} {
		if err := os.MkdirAll(filepath.Join(live, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(live, "README"), []byte("certbot's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(certbot, "elsewhere"), filepath.Join(live, "c.example")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(certbot, "gone"), filepath.Join(live, "d.example")); err != nil {
		t.Fatal(err)
	}
	got, err := LiveDirs(certbot)
	want := []string{filepath.Join(live, "a.example"), filepath.Join(live, "b.example"), filepath.Join(live, "c.example")}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("LiveDirs = %v, %v; want %v", got, err, want)
	}

	_, err = LiveDirs(filepath.Join(certbot, "nope"))
	if !errors.Is(err, ErrNoCertbotDir) || strings.Contains(err.Error(), "\n") {
		t.Errorf("LiveDirs of a dir without live/ = %v, want a one-line ErrNoCertbotDir", err)
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	tests := []struct {
		left time.Duration
		want int
	}{
		{60 * day, 60},
		{60*day - time.Second, 59},
		{day, 1},
		{time.Hour, 0},
		{0, 0},
		{-time.Hour, -1},
		{-day, -1},
		{-day - time.Second, -2},
	}
	for _, tt := range tests {
		if got := DaysLeft(now.Add(tt.left), now); got != tt.want {
			t.Errorf("DaysLeft(now%+v) = %d, want %d", tt.left, got, tt.want)
		}
	}
}
