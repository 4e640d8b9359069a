package dns01

import (
	"context"
	"slices"
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

func TestOnlyTheLastChallengeWaits(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}, {Name: "example2.test"}}, PropagationDelay: 700 * time.Millisecond})
	now := time.Now()
	h := newHook(t, sim, &now)
	ctx := context.Background()
	all := []string{"example.test", "*.example.test", "example2.test"}

	start := time.Now()
	for i, d := range []string{"example.test", "example.test", "example2.test"} {
		ch := Challenge{Domain: d, Value: "v" + string(rune('0'+i)), Remaining: 2 - i, AllDomains: all}
		if _, err := h.Auth(ctx, ch); err != nil {
			t.Fatal(err)
		}
		if i < 2 && time.Since(start) > 500*time.Millisecond {
			t.Fatalf("challenge %d waited (%v) although more followed", i, time.Since(start))
		}
	}
	for _, c := range []struct{ addr, name, value string }{
		{sim.NameserverAddrs()[0], "_acme-challenge.example.test", "v0"},
		{sim.NameserverAddrs()[0], "_acme-challenge.example.test", "v1"},
		{sim.NameserverAddrs()[0], "_acme-challenge.example2.test", "v2"},
	} {
		if !slices.Contains(simtest.ServedTXT(t, c.addr, c.name), c.value) {
			t.Fatalf("%s = %s not served after the last auth", c.name, c.value)
		}
	}
	// Cleanup without CERTBOT_AUTH_OUTPUT finds the id in the state dir.
	for i, d := range []string{"example.test", "example.test", "example2.test"} {
		if err := h.Cleanup(ctx, Challenge{Domain: d, Value: "v" + string(rune('0'+i)), AllDomains: all}, ""); err != nil {
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
