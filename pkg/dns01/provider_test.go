package dns01

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// newProvider connects a Provider to sim; unless opts says otherwise it
// finds nameservers the real way: NS and A lookups at sim's first server.
func newProvider(t *testing.T, sim *tcsim.Sim, opts Options) *Provider {
	t.Helper()
	if opts.DNSServer == "" && opts.Resolvers == nil {
		opts.Resolvers = sim.NameserverAddrs()[:1]
		opts.NameserverPort = sim.DNSPort()
	}
	if testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := New(simtest.Config(t, sim), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWildcardAndApexShareOneName(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{
		Name:    "example.test",
		Records: []tcsim.RecordSpec{{Name: "_acme-challenge", Type: "TXT", Value: "someone-elses"}},
	}}})
	p := newProvider(t, sim, Options{})
	ctx := context.Background()

	apex, err := p.Present(ctx, "_acme-challenge.example.test", "value-apex")
	if err != nil {
		t.Fatal(err)
	}
	wild, err := p.Present(ctx, "_acme-challenge.example.test.", "value-wildcard")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, []Record{apex, wild}); err != nil {
		t.Fatal(err)
	}
	want := []string{"someone-elses", "value-apex", "value-wildcard"}
	if got := simtest.ServedTXT(t, sim.NameserverAddrs()[0], "_acme-challenge.example.test"); !slices.Equal(got, want) {
		t.Fatalf("served %v, want %v", got, want)
	}
	if err := p.CleanUp(ctx, apex); err != nil {
		t.Fatal(err)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); !slices.Equal(got, []string{"someone-elses", "value-wildcard"}) {
		t.Fatalf("after cleaning the apex value: %v", got)
	}
	if err := p.CleanUp(ctx, wild); err != nil {
		t.Fatal(err)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); !slices.Equal(got, []string{"someone-elses"}) {
		t.Fatalf("after cleanup: %v, want only the other client's record", got)
	}
}

func TestZoneIsLongestSuffixAcrossPages(t *testing.T) {
	var zones []tcsim.ZoneSpec
	for i := 0; i < 5; i++ {
		zones = append(zones, tcsim.ZoneSpec{Name: fmt.Sprintf("filler%d.test", i)})
	}
	zones = append(zones, tcsim.ZoneSpec{Name: "example.test"}, tcsim.ZoneSpec{Name: "sub.example.test"})
	sim := simtest.Start(t, tcsim.Options{Zones: zones})
	p := newProvider(t, sim, Options{zonePageSize: 2})

	rec, err := p.Present(context.Background(), "_acme-challenge.www.sub.example.test", "v")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Zone != "sub.example.test" {
		t.Fatalf("zone = %q, want the longest match sub.example.test", rec.Zone)
	}
	if got := simtest.TXT(sim, "sub.example.test", "_acme-challenge.www"); !slices.Equal(got, []string{"v"}) {
		t.Fatalf("records = %v: the SubDomain must be relative to the zone", got)
	}
	if n := sim.Calls("DescribeDomainList"); n != 4 {
		t.Fatalf("DescribeDomainList calls = %d, want 4 pages of 2 for 7 zones", n)
	}
}

func TestCNAMEFollowing(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{
		{Name: "example.test", Records: []tcsim.RecordSpec{
			{Name: "_acme-challenge.alias", Type: "CNAME", Value: "alias.acme.test."},
			{Name: "_acme-challenge.twice", Type: "CNAME", Value: "hop.acme.test."},
			{Name: "_acme-challenge.loop", Type: "CNAME", Value: "loop.acme.test."},
			{Name: "_acme-challenge.away", Type: "CNAME", Value: "_acme-challenge.elsewhere.invalid."},
		}},
		{Name: "acme.test", Records: []tcsim.RecordSpec{
			{Name: "hop", Type: "CNAME", Value: "final.acme.test."},
			{Name: "loop", Type: "CNAME", Value: "_acme-challenge.loop.example.test."},
		}},
	}})
	p := newProvider(t, sim, Options{})
	ctx := context.Background()

	tests := []struct {
		name, fqdn, wantTarget, wantErr string
	}{
		{name: "one hop into a second zone", fqdn: "_acme-challenge.alias.example.test", wantTarget: "alias.acme.test"},
		{name: "two hops", fqdn: "_acme-challenge.twice.example.test", wantTarget: "final.acme.test"},
		{name: "loop", fqdn: "_acme-challenge.loop.example.test", wantErr: "CNAME loop"},
		{name: "target outside the account", fqdn: "_acme-challenge.away.example.test", wantErr: "is in no DNSPod zone of this account (zones: acme.test, example.test)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := p.Present(ctx, tt.fqdn, "v-"+tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Target != tt.wantTarget || rec.Zone != "acme.test" || rec.Name != tt.fqdn {
				t.Fatalf("record = %+v", rec)
			}
			if err := p.Wait(ctx, []Record{rec}); err != nil {
				t.Fatal(err)
			}
			if err := p.CleanUp(ctx, rec); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, z := range []string{"example.test", "acme.test"} {
		for _, r := range sim.Records(z) {
			if r.Type == "TXT" {
				t.Errorf("TXT record left in %s: %+v", z, r)
			}
		}
	}
}

func TestNameInNoZoneCreatesNothing(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	p := newProvider(t, sim, Options{DNSServer: ""})
	_, err := p.Present(context.Background(), "_acme-challenge.other.invalid", "v")
	if err == nil || !strings.Contains(err.Error(), "other.invalid is in no DNSPod zone of this account (zones: example.test)") {
		t.Fatalf("err = %v", err)
	}
	if n := sim.Calls("CreateRecord"); n != 0 {
		t.Fatalf("CreateRecord called %d times", n)
	}
}

func TestWaitAsksEveryNameserver(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{
		Zones: []tcsim.ZoneSpec{{Name: "example.test"}},
		Nameservers: []tcsim.NameserverSpec{
			{Host: "ns1.tcsim.test.", IP: "127.0.0.1"},
			{Host: "ns2.tcsim.test.", IP: "127.0.0.2", Lag: 1500 * time.Millisecond},
		},
		PropagationDelay: 300 * time.Millisecond,
	})
	p := newProvider(t, sim, Options{})
	ctx := context.Background()
	start := time.Now()
	rec, err := p.Present(ctx, "_acme-challenge.example.test", "v")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, []Record{rec}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Fatalf("Wait returned after %v, before the lagging nameserver could serve the record", took)
	}
	for _, addr := range sim.NameserverAddrs() {
		if got := simtest.ServedTXT(t, addr, "_acme-challenge.example.test"); !slices.Equal(got, []string{"v"}) {
			t.Fatalf("%s serves %v after Wait", addr, got)
		}
	}
}

func TestWaitTimesOutNamingWhatIsMissing(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}, PropagationDelay: time.Hour})
	p := newProvider(t, sim, Options{PropagationTimeout: 400 * time.Millisecond})
	ctx := context.Background()
	rec, err := p.Present(ctx, "_acme-challenge.example.test", "v")
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait(ctx, []Record{rec})
	if err == nil || !strings.Contains(err.Error(), "_acme-challenge.example.test on ns1.tcsim.test") || !errors.Is(err, ErrNotPropagated) {
		t.Fatalf("err = %v", err)
	}
	if err := p.CleanUp(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); len(got) != 0 {
		t.Fatalf("records left: %v", got)
	}
}

// A wait stopped by a signal says so: it is not a propagation timeout,
// whose hint (raise --propagation-timeout) would mislead.
func TestWaitStoppedIsNotATimeout(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}, PropagationDelay: time.Hour})
	p := newProvider(t, sim, Options{})
	rec, err := p.Present(context.Background(), "_acme-challenge.example.test", "v")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = p.Wait(ctx, []Record{rec})
	if err == nil || errors.Is(err, ErrNotPropagated) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stopped after") {
		t.Fatalf("err = %v", err)
	}
}

func TestTTLBelowPlanMinimum(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	p := newProvider(t, sim, Options{TTL: 60})
	_, err := p.Present(context.Background(), "_acme-challenge.example.test", "v")
	if err == nil || !strings.Contains(err.Error(), "LimitExceeded.RecordTtlLimit") || !errors.Is(err, ErrTTLRefused) {
		t.Fatalf("err = %v", err)
	}
}

func TestCleanUpWithoutID(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{
		Zones:        []tcsim.ZoneSpec{{Name: "example.test", Records: []tcsim.RecordSpec{{Name: "_acme-challenge", Type: "TXT", Value: "other"}}}},
		ListingDelay: 1200 * time.Millisecond,
	})
	p := newProvider(t, sim, Options{ListingGrace: 5 * time.Second})
	ctx := context.Background()
	rec, err := p.Present(ctx, "_acme-challenge.example.test", "mine")
	if err != nil {
		t.Fatal(err)
	}
	located, err := p.Locate(ctx, "_acme-challenge.example.test", "mine")
	if err != nil {
		t.Fatal(err)
	}
	// Right after creation the listing does not show the record yet.
	if err := p.CleanUp(ctx, located); err != nil {
		t.Fatal(err)
	}
	if got := simtest.TXT(sim, "example.test", "_acme-challenge"); !slices.Equal(got, []string{"other"}) {
		t.Fatalf("records = %v, want only the other client's", got)
	}
	// The id is gone now: cleaning up again is a no-op, not an error.
	if err := p.CleanUp(ctx, rec); err != nil {
		t.Fatalf("second cleanup: %v", err)
	}
}

func TestRetriesAndAdoption(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	p := newProvider(t, sim, Options{})
	ctx := context.Background()

	sim.FailNext("CreateRecord", "RequestLimitExceeded", 1)
	sim.FailNext("DescribeDomainList", "RequestLimitExceeded.RequestLimitExceeded", 2)
	rec, err := p.Present(ctx, "_acme-challenge.example.test", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if c, d := sim.Calls("CreateRecord"), sim.Calls("DescribeDomainList"); c != 2 || d != 3 {
		t.Fatalf("calls: CreateRecord %d, DescribeDomainList %d; want 2 and 3", c, d)
	}

	// An identical record already there is what a create whose answer was
	// lost leaves behind: the value is this challenge's, so adopt it.
	id, err := sim.AddRecord("example.test", tcsim.RecordSpec{Name: "_acme-challenge", Type: "TXT", Value: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	adopted, err := p.Present(ctx, "_acme-challenge.example.test", "v2")
	if err != nil {
		t.Fatal(err)
	}
	if adopted.ID != id {
		t.Fatalf("adopted id %d, want %d", adopted.ID, id)
	}
	if rec.ID == adopted.ID {
		t.Fatal("two values share one id")
	}
}

func TestWrongKeyIsAnAuthError(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	cfg := simtest.Config(t, sim)
	cred := *cfg.Credential
	cred.CredentialIface = wrongKey{cfg.Credential}
	cfg.Credential = &cred
	p, err := New(cfg, Options{DNSServer: sim.NameserverAddrs()[0]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Present(context.Background(), "_acme-challenge.example.test", "v")
	if tencent.KindOf(err) != tencent.KindAuth || !strings.Contains(err.Error(), "AuthFailure.SignatureFailure") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), sim.Credential().SecretKey) {
		t.Fatal("error reveals the secret key")
	}
}

type wrongKey struct{ *tencent.Credential }

func (w wrongKey) GetSecretKey() string { return "not-the-key" }
func (w wrongKey) GetCredential() (string, string, string) {
	id, _, tok := w.Credential.GetCredential()
	return id, "not-the-key", tok
}

func TestRecordIdentityRoundTrip(t *testing.T) {
	for _, r := range []Record{
		{Name: "_acme-challenge.example.test", Target: "_acme-challenge.example.test", Zone: "example.test", ID: 7},
		{Name: "_acme-challenge.alias.example.test", Target: "alias.acme.test", Zone: "acme.test", ID: 1000001},
	} {
		got, err := ParseRecord(" " + r.String() + "\n")
		if err != nil || got != r {
			t.Errorf("ParseRecord(%q) = %+v, %v", r.String(), got, err)
		}
	}
	for _, bad := range []string{"", "garbage", "zone=a id=x name=b", "zone=a name=b"} {
		if _, err := ParseRecord(bad); err == nil {
			t.Errorf("ParseRecord(%q) accepted", bad)
		}
	}
}
