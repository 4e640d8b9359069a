package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/acmetest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/status"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// A 160-hour certificate (Let's Encrypt's shortlived profile) issued by
// real certbot from a pebble that issues them: clbcert status says OK right
// after issuance and through the life an operator expects while certbot
// renews at half of it, WARNING once that renewal is overdue, CRITICAL once
// half of the renewal window is gone — not CRITICAL all its life, as
// thresholds of 30 and 7 days left would have it.
func TestShortlivedCertificateIsOKAfterIssuance(t *testing.T) {
	acmetest.RequireTools(t)
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	const lifetime = 160 * time.Hour
	peb, err := acmetest.StartPebble(ctx, acmetest.PebbleOptions{Dir: t.TempDir(), DNSServer: sim.NameserverAddrs()[0], CertificateValidity: lifetime})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peb.Close() })
	env := append(simtest.HookEnv(t, sim), "PATH="+bins.Dir(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	w := &world{sim: sim, certbot: acmetest.NewCertbot(peb, t.TempDir(), env), env: env}
	w.issue(t, "short.test", "clbcert-dns auth", nil, "short.example.test")
	leaf, err := w.certbot.Leaf("short.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got < lifetime-time.Minute || got > lifetime+time.Minute {
		t.Fatalf("pebble issued a certificate of %s, want %s", got, lifetime)
	}

	// As the operator runs it, right after issuance.
	r := w.run(t, "clbcert", "status", "--certbot-dir", w.certbot.ConfigDir(), "--json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"status": "OK"`) || !strings.Contains(r.Stdout, `"lifetime": "160 hours"`) {
		t.Fatalf("clbcert status right after issuance: exit %d, want 0 (OK)\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}

	// And through its life, by the clock.
	nb := leaf.NotBefore
	for _, tt := range []struct {
		age  time.Duration
		want level.Level
	}{
		{time.Minute, level.OK},
		{79 * time.Hour, level.OK}, // certbot renews at 80 h
		{95 * time.Hour, level.OK}, // its timer has until 96 h
		{97 * time.Hour, level.Warning},
		{121 * time.Hour, level.Critical},
	} {
		c, err := status.New(status.Options{CertbotDir: w.certbot.ConfigDir(), Now: func() time.Time { return nb.Add(tt.age) }}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l := rep.Lineages[0]; l.Status != tt.want || !l.RenewalDue.Equal(nb.Add(leaf.NotAfter.Sub(nb)/2).UTC()) {
			t.Errorf("at %s: %s (%q), renewal due %s; want %s, due at half its life", tt.age, l.Status, l.Reason, l.RenewalDue, tt.want)
		}
	}
}
