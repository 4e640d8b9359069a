package listeners_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/listeners"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Account is a topology with SNI and non-SNI HTTPS listeners, a TCP_SSL
// and a plain HTTP listener, backends of which one fails its checks, a load
// balancer with a customized configuration, and one whose calls fail.
func account(t *testing.T) tcsim.Options {
	web1, web2 := tcsim.TargetSpec{Backend: "web1"}, tcsim.TargetSpec{Backend: "web2"}
	check := &tcsim.HealthCheckSpec{HTTPCheckPath: tcsim.HealthPath, HTTPCode: 2, IntervalTime: 5, TimeOut: 2, HealthNum: 2, UnHealthNum: 2}
	return tcsim.Options{
		HealthCheckUnit: 20 * time.Millisecond,
		Certificates:    []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test"), simtest.HandUploaded(t, "OtherCrt", "other", "other.test")},
		Topology: tcsim.Topology{
			Backends: []tcsim.BackendSpec{{ID: "web1"}, {ID: "web2", Unhealthy: true}},
			LoadBalancers: []tcsim.LoadBalancerSpec{
				{ID: "lb-web1", Name: "web", Region: "ap-guangzhou", VIP: "127.0.0.11", Listeners: []tcsim.ListenerSpec{
					{ID: "lbl-https1", Protocol: "HTTPS", Port: 0, CertID: "HandCrt1", Rules: []tcsim.RuleSpec{
						{LocationID: "loc-www1", Domain: "www.example.test", BalancingSpec: tcsim.BalancingSpec{HealthCheck: check, Targets: []tcsim.TargetSpec{web1, web2}}},
					}},
					{ID: "lbl-sni1", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{
						{LocationID: "loc-ex1", Domain: "example.test", CertID: "HandCrt1", BalancingSpec: tcsim.BalancingSpec{Scheduler: "IP_HASH", SessionExpireTime: 600}},
						{LocationID: "loc-oth1", Domain: "other.test", CertID: "OtherCrt"},
					}},
					{ID: "lbl-tls1", Protocol: "TCP_SSL", CertID: "HandCrt1", BalancingSpec: tcsim.BalancingSpec{Scheduler: "LEAST_CONN", HealthCheck: &tcsim.HealthCheckSpec{Off: true}, Targets: []tcsim.TargetSpec{web1}}},
					{ID: "lbl-http1", Protocol: "HTTP", Rules: []tcsim.RuleSpec{{LocationID: "loc-plain1", Domain: "www.example.test"}}},
				}},
				{ID: "lb-bad1", Region: "ap-guangzhou", VIP: "127.0.0.12", Listeners: []tcsim.ListenerSpec{
					{ID: "lbl-bad1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				}},
				{ID: "lb-sh1", Region: "ap-shanghai", VIP: "127.0.0.21", Listeners: []tcsim.ListenerSpec{
					{ID: "lbl-sh1", Protocol: "HTTPS", CertID: "OtherCrt", Rules: []tcsim.RuleSpec{{LocationID: "loc-sh1", Domain: "other.test"}}},
				}},
			},
			CustomizedConfigs: []tcsim.CustomizedConfigSpec{{ID: "pz-sh000001", Name: "strict", Content: "ssl_protocols TLSv1.2 TLSv1.3;", LoadBalancerIDs: []string{"lb-sh1"}}},
		},
		FailingLBs: []string{"lb-bad1"},
	}
}

// settled waits until the data plane has judged both backends of
// loc-www1: web1 Alive, web2 Dead.
func settled(t *testing.T, sim *tcsim.Sim) {
	t.Helper()
	eventually.Succeeds(t, 10*time.Second, func() error {
		h := sim.TargetHealth("lb-web1", "lbl-https1", "loc-www1")
		alive, dead := 0, 0
		for _, s := range h {
			switch s {
			case inventory.HealthAlive:
				alive++
			case inventory.HealthDead:
				dead++
			}
		}
		if alive != 1 || dead != 1 {
			return fmt.Errorf("backends not settled: %v", h)
		}
		return nil
	})
}

func collect(t *testing.T, sim *tcsim.Sim) *listeners.View {
	t.Helper()
	cfg := simtest.Config(t, sim)
	// lb-bad1 fails for good: retrying it only slows the test.
	cfg.Retry = tencent.RetryPolicy{MaxAttempts: 1}
	c, err := inventory.New(cfg, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := listeners.Collect(context.Background(), c, []string{"ap-guangzhou", "ap-shanghai"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCollect(t *testing.T) {
	sim := simtest.Start(t, account(t))
	settled(t, sim)
	v := collect(t, sim)

	if len(v.Failures) != 1 || v.Failures[0].LoadBalancerID != "lb-bad1" || !v.Unreadable() {
		t.Fatalf("failures = %+v, want lb-bad1's only", v.Failures)
	}
	if len(v.LoadBalancers) != 2 || v.LoadBalancers[0].ID != "lb-web1" || v.LoadBalancers[1].ID != "lb-sh1" {
		t.Fatalf("load balancers = %+v", v.LoadBalancers)
	}
	web, sh := v.LoadBalancers[0], v.LoadBalancers[1]
	if strings.Join(web.TLSProtocols, " ") != "TLSv1 TLSv1.1 TLSv1.2" || !web.TLSProtocolsDefault || web.CustomizedConfigID != "" {
		t.Errorf("lb-web1 TLS %v default %v config %q", web.TLSProtocols, web.TLSProtocolsDefault, web.CustomizedConfigID)
	}
	if strings.Join(sh.TLSProtocols, " ") != "TLSv1.2 TLSv1.3" || sh.TLSProtocolsDefault || sh.CustomizedConfigID != "pz-sh000001" {
		t.Errorf("lb-sh1 TLS %v default %v config %q", sh.TLSProtocols, sh.TLSProtocolsDefault, sh.CustomizedConfigID)
	}
	ls := map[string]listeners.Listener{}
	for _, l := range web.Listeners {
		ls[l.ID] = l
	}
	example := simtest.Lineage(t, "good-ecdsa", "example.test")
	https := ls["lbl-https1"]
	if c := https.Certificate; c == nil || !c.Known || c.ID != "HandCrt1" || !c.NotAfter.Equal(example.Leaf.NotAfter) || https.SNI || !https.TLS {
		t.Errorf("lbl-https1 = %+v, certificate %+v", https, c)
	}
	if want := int(time.Until(example.Leaf.NotAfter) / (24 * time.Hour)); https.Certificate.DaysLeft != want {
		t.Errorf("days left %d, want %d", https.Certificate.DaysLeft, want)
	}
	www := https.Rules[0]
	if www.HealthCheck == nil || www.HealthCheck.HTTPCheckPath != "/healthz" || len(www.Backends) != 2 || www.Certificate != nil {
		t.Fatalf("loc-www1 = %+v", www)
	}
	health := map[string]bool{}
	for _, b := range www.Backends {
		health[b.Status] = b.Healthy
	}
	if len(health) != 2 || !health["Alive"] || health["Dead"] {
		t.Errorf("backends of loc-www1 = %+v, want one Alive and healthy, one Dead", www.Backends)
	}
	sni := ls["lbl-sni1"]
	if !sni.SNI || sni.Certificate != nil || len(sni.Rules) != 2 || sni.Rules[0].Certificate.ID != "HandCrt1" || sni.Rules[1].Certificate.ID != "OtherCrt" {
		t.Errorf("lbl-sni1 = %+v", sni)
	}
	if r := sni.Rules[0]; r.Scheduler != "IP_HASH" || r.SessionExpireTime != 600 {
		t.Errorf("loc-ex1 = %+v", r)
	}
	tls := ls["lbl-tls1"]
	if tls.Scheduler != "LEAST_CONN" || tls.HealthCheck == nil || tls.HealthCheck.On || len(tls.Backends) != 1 || tls.Backends[0].Status != "Close" {
		t.Errorf("lbl-tls1 = %+v", tls)
	}
	if http := ls["lbl-http1"]; http.TLS || http.Certificate != nil || len(http.Rules) != 1 {
		t.Errorf("lbl-http1 = %+v", http)
	}
}

func TestWriteTable(t *testing.T) {
	sim := simtest.Start(t, account(t))
	settled(t, sim)
	var b bytes.Buffer
	if err := collect(t, sim).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	header := strings.Fields(lines[0])
	if strings.Join(header, " ") != "LISTENER PROTO:PORT RULE CERTIFICATE DAYS SCHED SESS HEALTH CHECK BACKENDS" {
		t.Errorf("header %q", lines[0])
	}
	// About 120 columns: tcsim's ports have five digits and the corpus
	// certificate five-digit days left, two more each than 443 and a
	// Let's Encrypt certificate's.
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 124 && !strings.HasPrefix(l, "UNREADABLE") {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	row := func(prefix string) []string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return strings.Fields(l)
			}
		}
		t.Fatalf("no line starts with %q:\n%s", prefix, out)
		return nil
	}
	// Ports and days left vary: each case names the fields to skip.
	for _, tt := range []struct {
		prefix string
		skip   int
		want   string
	}{
		{"# ap-guangzhou lb-web1", 3, `"web" 127.0.0.11 TLS default (TLSv1 TLSv1.1 TLSv1.2)`},
		{"# ap-shanghai lb-sh1", 3, "127.0.0.21 TLS TLSv1.2 TLSv1.3 [pz-sh000001]"},
		{"lbl-https1", 2, "sni off example.test +1"},
		{"loc-www1", 1, "www.example.test/ WRR off HTTP /healthz 5s/2s 2/2 1/2"},
		{"loc-ex1", 1, "example.test/ example.test +1"},
		{"loc-oth1", 1, "other.test/ other.test"},
		{"lbl-sni1", 2, "sni on per domain per rule"},
		{"lbl-tls1", 2, "- example.test +1"},
		{"lbl-http1", 2, "- no TLS per rule"},
		{"loc-plain1", 1, "www.example.test/ WRR off HTTP / 5s/2s 3/3 -"},
		{"UNREADABLE ap-guangzhou lb-bad1:", 0, "UNREADABLE"},
	} {
		if got := strings.Join(row(tt.prefix)[tt.skip:], " "); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want it to start with %q", tt.prefix, got, tt.want)
		}
	}
	if f := row("loc-ex1"); strings.Join(f[len(f)-7:], " ") != "IP_HASH 600s HTTP / 5s/2s 3/3 -" {
		t.Errorf("loc-ex1 balancing %v", f)
	}
	if f := row("lbl-tls1"); strings.Join(f[len(f)-4:], " ") != "LEAST_CONN off off 1/1" {
		t.Errorf("lbl-tls1 balancing %v", f)
	}
}

// The JSON document keeps its field names and shape.
func TestViewJSON(t *testing.T) {
	sim := simtest.Start(t, account(t))
	settled(t, sim)
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(collect(t, sim)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Regions       []string `json:"regions"`
		LoadBalancers []struct {
			ID                  string   `json:"id"`
			TLSProtocols        []string `json:"tlsProtocols"`
			TLSProtocolsDefault bool     `json:"tlsProtocolsDefault"`
			Listeners           []struct {
				ID          string `json:"id"`
				Protocol    string `json:"protocol"`
				SNI         bool   `json:"sni"`
				Certificate *struct {
					Names    []string `json:"names"`
					DaysLeft int      `json:"daysLeft"`
				} `json:"certificate"`
				Rules []struct {
					LocationID  string `json:"locationId"`
					HealthCheck struct {
						On            bool   `json:"on"`
						HTTPCheckPath string `json:"httpCheckPath"`
					} `json:"healthCheck"`
					Backends []struct {
						IP      string `json:"ip"`
						Port    int    `json:"port"`
						Healthy bool   `json:"healthy"`
						Status  string `json:"status"`
					} `json:"backends"`
				} `json:"rules"`
			} `json:"listeners"`
		} `json:"loadBalancers"`
		Failures []struct {
			LoadBalancerID string `json:"loadBalancerId"`
			Error          string `json:"error"`
		} `json:"failures"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Failures) != 1 || doc.Failures[0].LoadBalancerID != "lb-bad1" || doc.Failures[0].Error == "" {
		t.Errorf("failures = %+v", doc.Failures)
	}
	if len(doc.LoadBalancers) != 2 || !doc.LoadBalancers[0].TLSProtocolsDefault || len(doc.LoadBalancers[0].TLSProtocols) != 3 {
		t.Fatalf("load balancers = %+v", doc.LoadBalancers)
	}
	l := doc.LoadBalancers[0].Listeners
	// Sorted by port: tcsim picks free ports, so find by id.
	for _, x := range l {
		if x.ID != "lbl-https1" {
			continue
		}
		if x.Certificate == nil || len(x.Certificate.Names) != 2 || x.Certificate.DaysLeft <= 0 {
			t.Errorf("lbl-https1 certificate = %+v", x.Certificate)
		}
		r := x.Rules[0]
		if r.LocationID != "loc-www1" || !r.HealthCheck.On || r.HealthCheck.HTTPCheckPath != "/healthz" || len(r.Backends) != 2 || r.Backends[0].Port == 0 || r.Backends[0].Status == "" {
			t.Errorf("loc-www1 = %+v", r)
		}
		return
	}
	t.Errorf("no lbl-https1 in %+v", l)
}

// Each served certificate is judged on its own dates by the lifetime rule
// (or by days, when asked); the worst decides.
func TestLevel(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	// cert is a certificate of lifetime life that has left to go.
	type cert struct{ life, left time.Duration }
	view := func(certs []cert, unreadable bool) *listeners.View {
		v := &listeners.View{}
		l := listeners.Listener{Protocol: "HTTPS", SNI: true}
		for _, c := range certs {
			na := now.Add(c.left)
			l.Rules = append(l.Rules, listeners.Rule{Certificate: &listeners.Cert{Known: true, NotBefore: na.Add(-c.life), NotAfter: na}})
		}
		// A certificate the SSL service does not know has no date to judge.
		l.Rules = append(l.Rules, listeners.Rule{Certificate: &listeners.Cert{ID: "Gone1"}})
		v.LoadBalancers = []listeners.LoadBalancer{{Listeners: []listeners.Listener{l}}}
		if unreadable {
			v.Failures = []inventory.Failure{{Region: "ap-guangzhou", LoadBalancerID: "lb-x", Error: "InternalError"}}
		}
		return v
	}
	days := level.Rule{WarnDays: 30, CriticalDays: 7}
	tests := []struct {
		name       string
		certs      []cert
		unreadable bool
		rule       level.Rule
		want       level.Level
	}{
		{"all fresh", []cert{{90 * day, 60 * day}, {90 * day, 89 * day}}, false, level.Rule{}, level.OK},
		{"none at all", nil, false, level.Rule{}, level.OK},
		{"90 days at certbot's renewal", []cert{{90 * day, 30 * day}}, false, level.Rule{}, level.OK},
		{"90 days at certbot's renewal, by days", []cert{{90 * day, 30 * day}}, false, days, level.Warning},
		{"shortlived, fresh", []cert{{160 * time.Hour, 150 * time.Hour}}, false, level.Rule{}, level.OK},
		{"shortlived, fresh, by days", []cert{{160 * time.Hour, 150 * time.Hour}}, false, days, level.Critical},
		{"overdue", []cert{{90 * day, 60 * day}, {90 * day, 20 * day}}, false, level.Rule{}, level.Warning},
		{"half the window gone", []cert{{90 * day, 60 * day}, {90 * day, 15 * day}}, false, level.Rule{}, level.Critical},
		{"expired", []cert{{90 * day, -time.Second}}, false, level.Rule{}, level.Critical},
		{"unreadable outranks warning", []cert{{90 * day, 20 * day}}, true, level.Rule{}, level.Unknown},
		{"critical outranks unreadable", []cert{{90 * day, 3 * day}}, true, level.Rule{}, level.Critical},
	}
	for _, tt := range tests {
		if got := view(tt.certs, tt.unreadable).Level(tt.rule, now); got != tt.want {
			t.Errorf("%s: level %s, want %s", tt.name, got, tt.want)
		}
	}
}

// A dual binding shows both members, each with its algorithm and expiry, and a mutual one
// its verification; the level judges the member that expires first.
func TestDualAndMutualBindings(t *testing.T) {
	names := []string{"example.test", "*.example.test"}
	now := time.Now()
	root := simtest.HandUploaded(t, "RootCA01", "good-ecdsa", "example.test")
	root.KeyPEM, root.Type = "", "CA"
	sim := simtest.Start(t, tcsim.Options{
		Certificates: []tcsim.CertSpec{
			simtest.HandUploadedKeyUntil(t, "RsaCrt01", binding.RSA, now.Add(60*24*time.Hour), names...),
			simtest.HandUploadedKeyUntil(t, "EccCrt01", binding.ECC, now.Add(3*24*time.Hour), names...),
			root,
		},
		Topology: tcsim.Topology{LoadBalancers: []tcsim.LoadBalancerSpec{
			{ID: "lb-dual1", Region: "ap-guangzhou", VIP: "127.0.0.31", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-dual1", Protocol: "HTTPS", CertID: "RsaCrt01", ExtCertIDs: []string{"EccCrt01"}, SSLMode: "MUTUAL", CertCaID: "RootCA01", SSLVerifyClient: "OPTIONAL",
					Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
			}},
		}},
	})
	c, err := inventory.New(simtest.Config(t, sim), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := listeners.Collect(context.Background(), c, []string{"ap-guangzhou"}, now)
	if err != nil {
		t.Fatal(err)
	}
	got := v.LoadBalancers[0].Listeners[0].Certificate
	if got == nil || len(got.Members) != 2 || got.SSLMode != "MUTUAL" || got.SSLVerifyClient != "OPTIONAL" || got.CAID != "RootCA01" {
		t.Fatalf("certificate %+v, want two members, MUTUAL OPTIONAL with RootCA01", got)
	}
	days := map[string]string{}
	for _, m := range got.Members {
		days[m.ID] = fmt.Sprintf("%s %d", m.Algorithm, m.DaysLeft)
	}
	if days["RsaCrt01"] != "RSA 59" || days["EccCrt01"] != "ECC 2" {
		t.Errorf("members %v", days)
	}
	if lv := v.Level(level.Rule{}, now); lv != level.Critical {
		t.Errorf("level %s, want CRITICAL for the ECC member's 3 days", lv)
	}
	var out bytes.Buffer
	if err := v.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`RSA member +RsaCrt01 +59\n`, `ECC member +EccCrt01 +2\n`, `mTLS OPTIONAL +CA RootCA01\n`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
