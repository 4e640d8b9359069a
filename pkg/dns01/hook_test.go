package dns01

import (
	"context"
	"fmt"
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
