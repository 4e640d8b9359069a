package dns01

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

func newHook(t *testing.T, sim *tcsim.Sim, now *time.Time) *Hook {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Hook{Provider: newProvider(t, sim, Options{}), Store: st, Now: func() time.Time { return *now }}
}

// Records never propagate here, so any challenge that waited would fail:
// only the last may, and its error must name every record of the run.
func TestOnlyTheLastChallengeWaits(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}, {Name: "example2.test"}}, PropagationDelay: time.Hour})
	now := time.Now()
	h := newHook(t, sim, &now)
	h.Provider.opts.PropagationTimeout = 300 * time.Millisecond
	ctx := context.Background()
	all := []string{"example.test", "*.example.test", "example2.test"}
	domains := []string{"example.test", "example.test", "example2.test"}

	for i, d := range domains {
		_, err := h.Auth(ctx, Challenge{Domain: d, Value: fmt.Sprintf("v%d", i), Remaining: 2 - i, AllDomains: all})
		if i < 2 && err != nil {
			t.Fatalf("challenge %d, with more to follow, waited: %v", i, err)
		}
		if i == 2 && (err == nil || strings.Count(err.Error(), " on ns1.tcsim.test") != 3) {
			t.Fatalf("the last challenge did not wait for the run's three records: %v", err)
		}
	}
	// Cleanup without CERTBOT_AUTH_OUTPUT finds the ids in the state dir.
	for i, d := range domains {
		if err := h.Cleanup(ctx, Challenge{Domain: d, Value: fmt.Sprintf("v%d", i), AllDomains: all}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.Calls("DescribeRecordList"); n != 0 {
		t.Fatalf("DescribeRecordList called %d times", n)
	}
	for _, z := range []string{"example.test", "example2.test"} {
		if got := simtest.TXT(sim, z, "_acme-challenge"); len(got) != 0 {
			t.Fatalf("%s still holds %v", z, got)
		}
	}
}

// A run killed between auth and cleanup leaves a record behind; the next run
// for the same certificate removes it and does not wait for it.
func TestLeftoversOfAnInterruptedRunAreRemoved(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	now := time.Now()
	h := newHook(t, sim, &now)
	ctx := context.Background()
	ch := Challenge{Domain: "example.test", Value: "old", AllDomains: []string{"example.test"}}
	if _, err := h.Auth(ctx, ch); err != nil {
		t.Fatal(err)
	}
	// Another certificate's run, in progress, must be left alone.
	other := Challenge{Domain: "example.test", Value: "other-run", Remaining: 1, AllDomains: []string{"example.test", "www.example.test"}}
	if _, err := h.Auth(ctx, other); err != nil {
		t.Fatal(err)
	}

	now = now.Add(sameRunLeftover + time.Minute)
	ch.Value = "new"
	if _, err := h.Auth(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); !slices.Equal(got, []string{"new", "other-run"}) {
		t.Fatalf("records = %v, want the leftover gone and the other run's record kept", got)
	}
}

// CERTBOT_AUTH_OUTPUT comes from the environment: whatever record id it
// names, cleanup deletes this challenge's own TXT record and nothing else,
// whether or not the state dir still remembers what auth created.
func TestCleanupRefusesForeignRecord(t *testing.T) {
	byKind := func(zone, name, typ string) func(*tcsim.Sim) uint64 {
		return func(sim *tcsim.Sim) uint64 {
			for _, r := range sim.Records(zone) {
				if r.Name == name && r.Type == typ {
					return r.ID
				}
			}
			t.Fatalf("no %s record %s in %s", typ, name, zone)
			return 0
		}
	}
	tests := []struct {
		name     string
		domain   string
		named    func(*tcsim.Sim) uint64 // nil: the id auth printed
		wantWarn bool
	}{
		{name: "own record", domain: "example.test"},
		{name: "own record behind a CNAME", domain: "alias.example.test"},
		{name: "an A record", domain: "example.test", named: byKind("example.test", "www", "A"), wantWarn: true},
		{name: "another name's challenge", domain: "example.test", named: byKind("example.test", "_acme-challenge.www", "TXT"), wantWarn: true},
		{name: "same name, another value", domain: "example.test", named: byKind("example.test", "_acme-challenge", "TXT"), wantWarn: true},
		{name: "the zone's NS record", domain: "example.test", named: byKind("example.test", "@", "NS"), wantWarn: true},
		{name: "CNAME target, another value", domain: "alias.example.test", named: byKind("acme.test", "alias", "TXT"), wantWarn: true},
		{name: "a record in another zone", domain: "example.test", named: byKind("acme.test", "alias", "TXT"), wantWarn: true},
	}
	for _, tt := range tests {
		for _, stateKnown := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/state known=%v", tt.name, stateKnown), func(t *testing.T) {
				sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{
					{Name: "example.test", Records: []tcsim.RecordSpec{
						{Name: "www", Type: "A", Value: "192.0.2.10"},
						{Name: "_acme-challenge.www", Type: "TXT", Value: "www-challenge"},
						{Name: "_acme-challenge", Type: "TXT", Value: "wildcard-value"},
						{Name: "_acme-challenge.alias", Type: "CNAME", Value: "alias.acme.test."},
					}},
					{Name: "acme.test", Records: []tcsim.RecordSpec{{Name: "alias", Type: "TXT", Value: "someone-elses"}}},
				}})
				before := map[string][]tcsim.Record{"example.test": sim.Records("example.test"), "acme.test": sim.Records("acme.test")}
				now := time.Now()
				h := newHook(t, sim, &now)
				ctx := context.Background()
				ch := Challenge{Domain: tt.domain, Value: "our-value", AllDomains: []string{tt.domain}}
				rec, err := h.Auth(ctx, ch)
				if err != nil {
					t.Fatal(err)
				}
				named := rec
				if tt.named != nil {
					named.ID = tt.named(sim)
				}
				if !stateKnown {
					h = newHook(t, sim, &now)
				}
				var logs strings.Builder
				h.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
				if err := h.Cleanup(ctx, ch, named.String()); err != nil {
					t.Fatal(err)
				}
				for zone, want := range before {
					if got := sim.Records(zone); !slices.EqualFunc(got, want, func(a, b tcsim.Record) bool { return a.ID == b.ID && a.Value == b.Value }) {
						t.Fatalf("zone %s after cleanup:\n%v\nwant only our TXT gone:\n%v", zone, got, want)
					}
				}
				warned := strings.Count(logs.String(), "CERTBOT_AUTH_OUTPUT names")
				if lines := strings.Count(logs.String(), "\n"); (warned == 1) != tt.wantWarn || lines != warned {
					t.Fatalf("log:\n%s\nwant one warning line: %v", logs.String(), tt.wantWarn)
				}
			})
		}
	}
}
