package tcsim

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
)

func TestRouteRule(t *testing.T) {
	rules := []*rule{
		{LocationID: "loc-www", Domain: "www.example.test", URL: "/"},
		{LocationID: "loc-wwwapi", Domain: "www.example.test", URL: "/api"},
		{LocationID: "loc-wwwapiv2", Domain: "www.example.test", URL: "/api/v2"},
		{LocationID: "loc-wild", Domain: "*.example.test", URL: "/"},
		{LocationID: "loc-apex", Domain: "example.test", URL: "/only"},
	}
	tests := []struct{ host, path, want string }{
		{"www.example.test", "/", "loc-www"},
		{"www.example.test:8443", "/api/users", "loc-wwwapi"},
		{"WWW.Example.Test.", "/api/v2/x", "loc-wwwapiv2"},
		{"img.example.test", "/a", "loc-wild"},
		{"a.b.example.test", "/api", "loc-wwwapi"}, // *. covers one label; the default domain takes the rest
		{"127.0.0.1:80", "/", "loc-www"},
		{"[::1]:80", "/api", "loc-wwwapi"},
		{"example.test", "/only/this", "loc-apex"},
		{"example.test", "/", ""}, // the domain matched, no URL of it does
	}
	for _, tt := range tests {
		got := ""
		if r := routeRule(rules, tt.host, tt.path); r != nil {
			got = r.LocationID
		}
		if got != tt.want {
			t.Errorf("Host %s path %s: rule %q, want %q", tt.host, tt.path, got, tt.want)
		}
	}
	if r := routeRule(nil, "www.example.test", "/"); r != nil {
		t.Errorf("a listener without rules routed to %s", r.LocationID)
	}
}

func TestBackendSetEligibility(t *testing.T) {
	tg := func(port, weight int, health string) *target {
		return &target{IP: "127.0.0.1", Port: port, Weight: weight, Health: health}
	}
	on := healthCheck{On: true}
	tests := []struct {
		name string
		b    balancing
		want []int // eligible ports
	}{
		{"alive only", balancing{Health: on, Targets: []*target{tg(1, 10, healthAlive), tg(2, 10, healthUnknown), tg(3, 10, healthDead)}}, []int{1}},
		{"weight 0 never", balancing{Health: on, Targets: []*target{tg(1, 0, healthAlive), tg(2, 10, healthAlive)}}, []int{2}},
		{"check off: all", balancing{Targets: []*target{tg(1, 10, healthClose), tg(2, 5, healthClose), tg(3, 0, healthClose)}}, []int{1, 2}},
		{"all dead: all of them", balancing{Health: on, Targets: []*target{tg(1, 10, healthDead), tg(2, 10, healthDead), tg(3, 0, healthAlive)}}, []int{1, 2}},
		{"dead and detecting: none", balancing{Health: on, Targets: []*target{tg(1, 10, healthDead), tg(2, 10, healthUnknown)}}, nil},
		{"detecting: none", balancing{Health: on, Targets: []*target{tg(1, 10, healthUnknown)}}, nil},
		{"no targets", balancing{Health: on}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := backendSetLocked("k", "", &tt.b)
			var got []int
			for _, c := range set.eligible {
				_, port, _ := net.SplitHostPort(c.addr)
				n, _ := strconv.Atoi(port)
				got = append(got, n)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || set.registered != len(tt.b.Targets) {
				t.Errorf("eligible %v of %d, want %v of %d", got, set.registered, tt.want, len(tt.b.Targets))
			}
		})
	}
}

// dataPKI is a test PKI and the certificate WwwCert1 for www.example.test.
func dataPKI(t *testing.T) (*testPKI, []CertSpec) {
	t.Helper()
	pki := newTestPKI(t)
	return pki, []CertSpec{pki.valid(t, "www.example.test").spec("WwwCert1")}
}

// client is an HTTP client for the listeners: from local IP local ("" for any), keeping
// connections alive or not, trusting the test PKI for www.example.test.
func client(t *testing.T, pki *testPKI, local string, keepAlive bool) *http.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: !keepAlive}
	if pki != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pki.pool(), ServerName: "www.example.test"}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// spread is how many of n GETs of url each backend answered; every answer must be 200.
func spread(t *testing.T, c *http.Client, url string, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for range n {
		a := get(t, c, url)
		if a.code != http.StatusOK {
			t.Fatalf("answer %d %q", a.code, a.body)
		}
		counts[a.backend]++
	}
	return counts
}

type answer struct {
	code    int
	backend string // X-Backend of tcsim's backends
	body    string
	resp    *http.Response
}

func get(t *testing.T, c *http.Client, url string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return answer{code: resp.StatusCode, backend: resp.Header.Get("X-Backend"), body: string(body), resp: resp}
}

// ownBackend is an HTTP server of the test's own on 127.0.0.1; it returns its port.
func ownBackend(t *testing.T, h http.Handler) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// refusedPort is a loopback port nothing listens on.
func refusedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

// targetHealth is the state of the target at addr of a listener or rule, "" if it is not
// registered there.
func targetHealth(s *Sim, lbID, listenerID, locationID, addr string) string {
	s.cloud.mu.Lock()
	defer s.cloud.mu.Unlock()
	if b := s.cloud.balancingLocked(lbID, listenerID, locationID); b != nil {
		for _, t := range b.Targets {
			if targetAddr(t) == addr {
				return t.Health
			}
		}
	}
	return ""
}

// waitHealth polls until a target reaches state. The deadline is generous: the checks run
// every few milliseconds, the deadline is only for a checker that never gets there.
func waitHealth(t *testing.T, s *Sim, lbID, listenerID, locationID, addr, state string) {
	t.Helper()
	eventually.Succeeds(t, 20*time.Second, func() error {
		if got := targetHealth(s, lbID, listenerID, locationID, addr); got != state {
			return fmt.Errorf("target %s of %s/%s/%s is %q, still not %s", addr, lbID, listenerID, locationID, got, state)
		}
		return nil
	})
}

func off() *HealthCheckSpec { return &HealthCheckSpec{Off: true} }

func TestWRRSplitsByWeight(t *testing.T) {
	pki, certs := dataPKI(t)
	s := startSim(t, Options{Certificates: certs, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}, {ID: "web2"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-wrr00001", Region: gz, VIP: "127.0.0.51", Listeners: []ListenerSpec{
			{ID: "lbl-https001", Protocol: "HTTPS", CertID: "WwwCert1", Rules: []RuleSpec{{Domain: "www.example.test", BalancingSpec: BalancingSpec{
				HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1", Weight: ptr(30)}, {Backend: "web2", Weight: ptr(10)}},
			}}}},
		}}},
	}})
	c := client(t, pki, "", true)
	url := "https://" + s.ListenerAddr("lb-wrr00001", "lbl-https001") + "/"
	counts := spread(t, c, url, 1000)
	if ratio := float64(counts["web1"]) / float64(counts["web2"]); ratio < 3*0.95 || ratio > 3*1.05 {
		t.Errorf("weights 3:1 split 1,000 requests %v (ratio %.3f), want within 5%% of 3", counts, ratio)
	}
}

func TestForwardedHeaders(t *testing.T) {
	pki, certs := dataPKI(t)
	seen := make(chan http.Header, 1)
	port := ownBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("Got-Host", r.Host)
		h.Set("Got-URI", r.RequestURI)
		seen <- h
		w.Header().Set("X-Backend", "own")
		_, _ = io.WriteString(w, "hello")
	}))
	s := startSim(t, Options{Certificates: certs, Topology: Topology{LoadBalancers: []LoadBalancerSpec{{ID: "lb-hdr00001", Region: gz, VIP: "127.0.0.52", Listeners: []ListenerSpec{
		{ID: "lbl-https001", Protocol: "HTTPS", CertID: "WwwCert1", Rules: []RuleSpec{{Domain: "www.example.test", BalancingSpec: BalancingSpec{
			HealthCheck: off(), Targets: []TargetSpec{{IP: "127.0.0.1", Port: port}},
		}}}},
	}}}}})
	a := get(t, client(t, pki, "127.0.0.9", false), "https://"+s.ListenerAddr("lb-hdr00001", "lbl-https001")+"/a/b?c=d",
		"X-Forwarded-For", "203.0.113.7", "X-Real-IP", "198.51.100.1")
	if a.code != http.StatusOK || a.body != "hello" || a.backend != "own" {
		t.Fatalf("answer %d %q from %q", a.code, a.body, a.backend)
	}
	h := <-seen
	want := map[string]string{
		"X-Forwarded-For":   "203.0.113.7, 127.0.0.9",
		"X-Real-Ip":         "127.0.0.9",
		"X-Forwarded-Proto": "https",
		"X-Client-Proto":    "https",
		"Got-Host":          s.ListenerAddr("lb-hdr00001", "lbl-https001"),
		"Got-Uri":           "/a/b?c=d",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("backend saw %s %q, want %q", k, got, v)
		}
	}
}

func TestIPHashKeepsClients(t *testing.T) {
	s := startSim(t, Options{Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}, {ID: "web2"}, {ID: "web3"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-hash0001", Region: gz, VIP: "127.0.0.53", Listeners: []ListenerSpec{
			{ID: "lbl-http0001", Protocol: "HTTP", Rules: []RuleSpec{{Domain: "www.example.test", BalancingSpec: BalancingSpec{
				Scheduler: schedIPHash, HealthCheck: off(),
				Targets: []TargetSpec{{Backend: "web1"}, {Backend: "web2"}, {Backend: "web3"}},
			}}}},
		}}},
	}})
	url := "http://" + s.ListenerAddr("lb-hash0001", "lbl-http0001") + "/"
	used := map[string]bool{}
	for i := 2; i <= 9; i++ {
		ip := fmt.Sprintf("127.0.0.%d", i)
		c := client(t, nil, ip, false) // a new connection, from a new port, every time
		first := get(t, c, url).backend
		for range 5 {
			if got := get(t, c, url).backend; got != first || got == "" {
				t.Fatalf("client %s went to %q, then %q", ip, first, got)
			}
		}
		used[first] = true
	}
	if len(used) < 2 {
		t.Errorf("8 client IPs all went to %v", used)
	}
}

// rawHTTP sends one request over conn and returns the answering backend.
func rawHTTP(t *testing.T, conn net.Conn, br *bufio.Reader, closeAfter bool) string {
	t.Helper()
	req := "GET / HTTP/1.1\r\nHost: www.example.test\r\n"
	if closeAfter {
		req += "Connection: close\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer through %s: %v", conn.RemoteAddr(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.Header.Get("X-Backend")
}

func setWeight(s *Sim, lbID, listenerID, locationID, addr string, weight int) {
	s.cloud.mu.Lock()
	defer s.cloud.mu.Unlock()
	for _, t := range s.cloud.balancingLocked(lbID, listenerID, locationID).Targets {
		if targetAddr(t) == addr {
			t.Weight = weight
		}
	}
}

func TestLeastConnPrefersIdleBackend(t *testing.T) {
	s := startSim(t, Options{Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}, {ID: "web2"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-least001", Region: gz, VIP: "127.0.0.54", Listeners: []ListenerSpec{
			{ID: "lbl-tcp00001", Protocol: "TCP", BalancingSpec: BalancingSpec{
				Scheduler: schedLeastConn, HealthCheck: off(),
				Targets: []TargetSpec{{Backend: "web1"}, {Backend: "web2", Weight: ptr(0)}},
			}},
		}}},
	}})
	addr := s.ListenerAddr("lb-least001", "lbl-tcp00001")
	dial := func() (net.Conn, *bufio.Reader) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn, bufio.NewReader(conn)
	}
	// Three connections held open on web1 while web2 takes none (weight 0).
	for range 3 {
		conn, br := dial()
		if got := rawHTTP(t, conn, br, false); got != "web1" {
			t.Fatalf("held connection went to %q", got)
		}
	}
	setWeight(s, "lb-least001", "lbl-tcp00001", "", s.BackendAddr("web2"), 10)
	// web1 has 3 open, web2 at most 2 still closing: every new connection goes to web2.
	for i := range 3 {
		conn, br := dial()
		if got := rawHTTP(t, conn, br, true); got != "web2" {
			t.Errorf("connection %d with web1 holding 3: went to %q, want web2", i, got)
		}
	}
}

func TestHealthCheckCountsChecks(t *testing.T) {
	type probe struct{ method, host, state string }
	// The backend's answers to successive checks of /healthz; later ones are 200.
	script := []int{200, 200, 200, 503, 503, 503, 200, 200}
	var (
		mu     sync.Mutex
		probes []probe
		s      *Sim
		addr   string
		ready  = make(chan struct{}) // s and addr are set
		done   = make(chan struct{})
		n      atomic.Int32
	)
	port := ownBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != HealthPath {
			return
		}
		<-ready
		// One check of a target at a time, each counted before the next starts: the state
		// seen here is the result of exactly the checks before this one.
		i := int(n.Add(1)) - 1
		mu.Lock()
		probes = append(probes, probe{r.Method, r.Host, targetHealth(s, "lb-check001", "lbl-http0001", "loc-check001", addr)})
		mu.Unlock()
		if i == len(script) {
			close(done)
		}
		if i < len(script) {
			w.WriteHeader(script[i])
		}
	}))
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s = startSim(t, Options{HealthCheckUnit: 5 * time.Millisecond, Topology: Topology{LoadBalancers: []LoadBalancerSpec{{ID: "lb-check001", Region: gz, VIP: "127.0.0.55", Listeners: []ListenerSpec{
		{ID: "lbl-http0001", Protocol: "HTTP", Rules: []RuleSpec{{LocationID: "loc-check001", Domain: "www.example.test", BalancingSpec: BalancingSpec{
			HealthCheck: &HealthCheckSpec{
				CheckType: checkHTTP, HTTPCheckPath: HealthPath, HTTPCheckMethod: "GET", HTTPCode: 2,
				HealthNum: 2, UnHealthNum: 3, TimeOut: 20, IntervalTime: 21,
			},
		}}}},
	}}}}})
	close(ready)
	// Registered only now, as RegisterTargets does, so the first check finds s set: the
	// checker picks the target up in its next round.
	s.cloud.mu.Lock()
	b := s.cloud.balancingLocked("lb-check001", "lbl-http0001", "loc-check001")
	b.Targets = append(b.Targets, &target{IP: "127.0.0.1", Port: port, Weight: defaultTargetWeight, Health: initialHealth(b.Health)})
	s.cloud.mu.Unlock()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d checks in 30 s", n.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		healthUnknown, healthUnknown, // two successes: Alive (HealthNum 2)
		healthAlive, healthAlive, healthAlive, healthAlive, // three failures after one more success: Dead (UnHealthNum 3)
		healthDead, healthDead, // two successes: Alive again
		healthAlive,
	}
	for i, p := range probes[:len(want)] {
		if p.state != want[i] || p.method != http.MethodGet || p.host != "www.example.test" {
			t.Errorf("check %d (%d): %s Host %s while %s, want GET Host www.example.test while %s", i+1, append(script, 200)[i], p.method, p.host, p.state, want[i])
		}
	}
}

func TestUnhealthyBackendTakenOut(t *testing.T) {
	s := startSim(t, Options{HealthCheckUnit: 5 * time.Millisecond, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}, {ID: "web2"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-out00001", Region: gz, VIP: "127.0.0.56", Listeners: []ListenerSpec{
			{ID: "lbl-http0001", Protocol: "HTTP", Rules: []RuleSpec{{LocationID: "loc-out00001", Domain: "www.example.test", BalancingSpec: BalancingSpec{
				HealthCheck: &HealthCheckSpec{HTTPCheckPath: HealthPath, HTTPCode: 2, HealthNum: 2, UnHealthNum: 3, TimeOut: 10, IntervalTime: 11},
				Targets:     []TargetSpec{{Backend: "web1"}, {Backend: "web2"}},
			}}}},
		}}},
	}})
	web1, web2 := s.BackendAddr("web1"), s.BackendAddr("web2")
	c := client(t, nil, "", true)
	url := "http://" + s.ListenerAddr("lb-out00001", "lbl-http0001") + "/"
	waitFor := func(state1, state2 string) {
		t.Helper()
		waitHealth(t, s, "lb-out00001", "lbl-http0001", "loc-out00001", web1, state1)
		waitHealth(t, s, "lb-out00001", "lbl-http0001", "loc-out00001", web2, state2)
	}

	waitFor(healthAlive, healthAlive)
	if got := spread(t, c, url, 20); got["web1"] != 10 || got["web2"] != 10 {
		t.Errorf("both alive: %v", got)
	}
	if err := s.SetBackendHealthy("web1", false); err != nil {
		t.Fatal(err)
	}
	waitFor(healthDead, healthAlive)
	if got := spread(t, c, url, 20); got["web2"] != 20 {
		t.Errorf("web1 dead: %v, want all on web2", got)
	}
	// Every weighted target dead: CLB forwards to all of them.
	if err := s.SetBackendHealthy("web2", false); err != nil {
		t.Fatal(err)
	}
	waitFor(healthDead, healthDead)
	if got := spread(t, c, url, 20); got["web1"] != 10 || got["web2"] != 10 {
		t.Errorf("all dead: %v, want both used", got)
	}
	if err := s.SetBackendHealthy("web2", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBackendHealthy("web1", true); err != nil {
		t.Fatal(err)
	}
	waitFor(healthAlive, healthAlive)
	if got := spread(t, c, url, 20); got["web1"] != 10 || got["web2"] != 10 {
		t.Errorf("both back: %v", got)
	}
}

func TestTCPHealthCheck(t *testing.T) {
	refused := refusedPort(t)
	s := startSim(t, Options{HealthCheckUnit: 5 * time.Millisecond, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-tcpchk01", Region: gz, VIP: "127.0.0.57", Listeners: []ListenerSpec{
			{ID: "lbl-tcp00001", Protocol: "TCP", BalancingSpec: BalancingSpec{
				HealthCheck: &HealthCheckSpec{HealthNum: 2, UnHealthNum: 2, TimeOut: 10, IntervalTime: 11},
				Targets:     []TargetSpec{{Backend: "web1"}, {IP: "127.0.0.1", Port: refused}},
			}},
		}}},
	}})
	waitHealth(t, s, "lb-tcpchk01", "lbl-tcp00001", "", s.BackendAddr("web1"), healthAlive)
	waitHealth(t, s, "lb-tcpchk01", "lbl-tcp00001", "", net.JoinHostPort("127.0.0.1", strconv.Itoa(refused)), healthDead)
	// Switched off through the model, as ModifyListener does: the checker reports Close.
	s.cloud.mu.Lock()
	s.cloud.balancingLocked("lb-tcpchk01", "lbl-tcp00001", "").Health.On = false
	s.cloud.mu.Unlock()
	waitHealth(t, s, "lb-tcpchk01", "lbl-tcp00001", "", s.BackendAddr("web1"), healthClose)
}

func TestNoTargetAnswers(t *testing.T) {
	refused := refusedPort(t)
	s := startSim(t, Options{Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-none0001", Region: gz, VIP: "127.0.0.58", Listeners: []ListenerSpec{
			{ID: "lbl-http0001", Protocol: "HTTP", Rules: []RuleSpec{
				{Domain: "www.example.test", URL: "/"},
				// Checked every 300 s: one success after the first check, never HealthNum.
				{Domain: "www.example.test", URL: "/detecting", BalancingSpec: BalancingSpec{
					HealthCheck: &HealthCheckSpec{IntervalTime: 300}, Targets: []TargetSpec{{Backend: "web1"}},
				}},
				{Domain: "www.example.test", URL: "/weightless", BalancingSpec: BalancingSpec{
					HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1", Weight: ptr(0)}},
				}},
				{Domain: "www.example.test", URL: "/refused", BalancingSpec: BalancingSpec{
					HealthCheck: off(), Targets: []TargetSpec{{IP: "127.0.0.1", Port: refused}},
				}},
				{Domain: "www.example.test", URL: "/up", BalancingSpec: BalancingSpec{
					HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1"}},
				}},
				{Domain: "api.example.test", URL: "/v1"},
			}},
			{ID: "lbl-http0002", Protocol: "HTTP"},
		}}},
	}})
	c := client(t, nil, "", true)
	base := "http://" + s.ListenerAddr("lb-none0001", "lbl-http0001")
	tests := []struct {
		path, host string
		code       int
		body       string
	}{
		{"/", "www.example.test", http.StatusOK, "tcsim lb-none0001/lbl-http0001\n"},
		{"/detecting/x", "www.example.test", http.StatusServiceUnavailable, "no healthy target for domain www.example.test url /detecting"},
		{"/weightless", "www.example.test", http.StatusServiceUnavailable, "no healthy target"},
		{"/refused", "www.example.test", http.StatusBadGateway, "target 127.0.0.1:" + strconv.Itoa(refused)},
		{"/up", "www.example.test", http.StatusOK, "backend web1"},
		{"/", "api.example.test", http.StatusNotFound, "no forwarding rule matches host api.example.test path /"},
	}
	for _, tt := range tests {
		a := get(t, c, base+tt.path, "Host", tt.host)
		if a.code != tt.code || !strings.Contains(a.body, tt.body) {
			t.Errorf("%s%s: %d %q, want %d with %q", tt.host, tt.path, a.code, a.body, tt.code, tt.body)
		}
	}
	if a := get(t, c, "http://"+s.ListenerAddr("lb-none0001", "lbl-http0002")+"/"); a.code != http.StatusNotFound {
		t.Errorf("a listener without rules: %d %q", a.code, a.body)
	}
}

func tlsDial(addr string, pki *testPKI, version uint16) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{
		RootCAs: pki.pool(), ServerName: "www.example.test", MinVersion: version, MaxVersion: version,
	})
}

func TestSSLProtocols(t *testing.T) {
	pki, certs := dataPKI(t)
	https := func(id string) ListenerSpec {
		return ListenerSpec{ID: id, Protocol: "HTTPS", CertID: "WwwCert1", Rules: []RuleSpec{{Domain: "www.example.test"}}}
	}
	s := startSim(t, Options{Certificates: certs, Topology: Topology{
		LoadBalancers: []LoadBalancerSpec{
			{ID: "lb-strict01", Region: gz, VIP: "127.0.0.59", Listeners: []ListenerSpec{https("lbl-strict01")}},
			{ID: "lb-plain001", Region: gz, VIP: "127.0.0.59", Listeners: []ListenerSpec{
				https("lbl-plain001"),
				{ID: "lbl-tls00001", Protocol: "TCP_SSL", CertID: "WwwCert1"},
			}},
		},
		CustomizedConfigs: []CustomizedConfigSpec{{ID: "pz-strict01", Content: "ssl_protocols TLSv1.2 TLSv1.3;", LoadBalancerIDs: []string{"lb-strict01"}}},
	}})
	type check struct {
		lb, listener string
		version      uint16
		ok           bool
	}
	run := func(checks []check) {
		t.Helper()
		for _, tt := range checks {
			conn, err := tlsDial(s.ListenerAddr(tt.lb, tt.listener), pki, tt.version)
			if err == nil {
				_ = conn.Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("%s/%s %s: handshake error %v, want success %v", tt.lb, tt.listener, tls.VersionName(tt.version), err, tt.ok)
			}
		}
	}
	run([]check{
		{"lb-strict01", "lbl-strict01", tls.VersionTLS10, false},
		{"lb-strict01", "lbl-strict01", tls.VersionTLS11, false},
		{"lb-strict01", "lbl-strict01", tls.VersionTLS12, true},
		{"lb-strict01", "lbl-strict01", tls.VersionTLS13, true},
		{"lb-plain001", "lbl-plain001", tls.VersionTLS10, true},
		{"lb-plain001", "lbl-plain001", tls.VersionTLS11, true},
		{"lb-plain001", "lbl-plain001", tls.VersionTLS12, true},
		{"lb-plain001", "lbl-plain001", tls.VersionTLS13, false},
		{"lb-plain001", "lbl-tls00001", tls.VersionTLS10, true},
		{"lb-plain001", "lbl-tls00001", tls.VersionTLS13, true},
	})
	// A changed configuration applies from the next handshake, as when its task completes.
	s.cloud.mu.Lock()
	s.cloud.configs["pz-strict01"].Content = "ssl_protocols TLSv1.1 TLSv1.2;"
	s.cloud.mu.Unlock()
	run([]check{
		{"lb-strict01", "lbl-strict01", tls.VersionTLS10, false},
		{"lb-strict01", "lbl-strict01", tls.VersionTLS11, true},
		{"lb-strict01", "lbl-strict01", tls.VersionTLS13, false},
	})
}

func TestTCPSSLPipe(t *testing.T) {
	pki, certs := dataPKI(t)
	s := startSim(t, Options{Certificates: certs, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-pipe0001", Region: gz, VIP: "127.0.0.60", Listeners: []ListenerSpec{
			{ID: "lbl-tls00001", Protocol: "TCP_SSL", CertID: "WwwCert1", BalancingSpec: BalancingSpec{HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1"}}}},
			{ID: "lbl-tls00002", Protocol: "TCP_SSL", CertID: "WwwCert1"},
			{ID: "lbl-tcp00001", Protocol: "TCP", BalancingSpec: BalancingSpec{HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1"}}}},
		}}},
	}})
	conn, err := tlsDial(s.ListenerAddr("lb-pipe0001", "lbl-tls00001"), pki, tls.VersionTLS13)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := range 3 { // one connection, several requests: the pipe is a pipe
		if got := rawHTTP(t, conn, br, i == 2); got != "web1" {
			t.Errorf("request %d through TCP_SSL reached %q", i, got)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after Connection: close the pipe should end: %v", err)
	}

	plain, err := net.DialTimeout("tcp", s.ListenerAddr("lb-pipe0001", "lbl-tcp00001"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if got := rawHTTP(t, plain, bufio.NewReader(plain), true); got != "web1" {
		t.Errorf("through TCP reached %q", got)
	}

	bare, err := tlsDial(s.ListenerAddr("lb-pipe0001", "lbl-tls00002"), pki, tls.VersionTLS12)
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	_ = bare.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := bare.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("TCP_SSL without targets: read %d, %v; want the connection closed after the handshake", n, err)
	}
}

func TestCertSwitchDropsNoRequest(t *testing.T) {
	pki := newTestPKI(t)
	oldLeaf, renewed := pki.valid(t, "www.example.test"), pki.valid(t, "www.example.test")
	s := startSim(t, Options{Certificates: []CertSpec{oldLeaf.spec("WwwOld01")}, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-switch01", Region: gz, VIP: "127.0.0.62", Listeners: []ListenerSpec{
			{ID: "lbl-https001", Protocol: "HTTPS", CertID: "WwwOld01", Rules: []RuleSpec{{Domain: "www.example.test", BalancingSpec: BalancingSpec{
				HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1"}},
			}}}},
		}}},
	}})
	newID := upload(t, sslClient(t, s), renewed, "renewed")
	addr := s.ListenerAddr("lb-switch01", "lbl-https001")
	url := "https://" + addr + "/"

	// A keep-alive connection opened before the switch.
	kept, err := tlsDial(addr, pki, tls.VersionTLS12)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	keptReader := bufio.NewReader(kept)
	if got := rawHTTP(t, kept, keptReader, false); got != "web1" {
		t.Fatalf("answered by %q", got)
	}

	type result struct {
		fresh bool // served the new certificate
		err   error
	}
	var (
		mu      sync.Mutex
		results []result
		stop    = make(chan struct{})
		looped  = make(chan struct{})
	)
	count := func(fresh bool) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range results {
			if r.err == nil && r.fresh == fresh {
				n++
			}
		}
		return n
	}
	c := client(t, pki, "", false)
	go func() {
		defer close(looped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			var r result
			resp, err := c.Get(url)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				switch leaf := resp.TLS.PeerCertificates[0]; {
				case resp.StatusCode != http.StatusOK || resp.Header.Get("X-Backend") != "web1":
					err = fmt.Errorf("status %s from %q", resp.Status, resp.Header.Get("X-Backend"))
				case leaf.Equal(renewed.cert):
					r.fresh = true
				case !leaf.Equal(oldLeaf.cert):
					err = fmt.Errorf("unknown leaf %v", leaf.DNSNames)
				}
			}
			r.err = err
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}
	}()
	waitCount := func(fresh bool, n int) {
		t.Helper()
		eventually.Succeeds(t, 20*time.Second, func() error {
			if got := count(fresh); got < n {
				return fmt.Errorf("only %d requests served the %v certificate", got, map[bool]string{false: "old", true: "new"}[fresh])
			}
			return nil
		})
	}
	waitCount(false, 20)
	clb := clbClient(t, s, gz)
	resp, err := clb.ModifyListener(modifyListenerCert("lb-switch01", "lbl-https001", newID))
	if err != nil {
		t.Fatal(err)
	}
	if st := taskStatus(t, clb, *resp.Response.RequestId); st != 0 { // TaskDelay 0: done when asked
		t.Fatalf("task status %d", st)
	}
	waitCount(true, 20)
	close(stop)
	<-looped

	if got := rawHTTP(t, kept, keptReader, false); got != "web1" || !kept.ConnectionState().PeerCertificates[0].Equal(oldLeaf.cert) {
		t.Errorf("the connection opened before the switch must go on with the old certificate")
	}
	mu.Lock()
	defer mu.Unlock()
	switched := false
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request %d of %d failed during the switch: %v", i, len(results), r.err)
		case switched && !r.fresh:
			t.Errorf("request %d got the old certificate after the new one was served", i)
		}
		switched = switched || r.fresh
	}
}

func TestCloseEndsOpenConnections(t *testing.T) {
	pki, certs := dataPKI(t)
	hold := make(chan struct{})
	defer close(hold)
	slow := ownBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	s, err := Start(Options{Certificates: certs, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-close001", Region: gz, VIP: "127.0.0.61", Listeners: []ListenerSpec{
			{ID: "lbl-https001", Protocol: "HTTPS", CertID: "WwwCert1", Rules: []RuleSpec{
				{Domain: "www.example.test", BalancingSpec: BalancingSpec{HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1"}}}},
				{Domain: "www.example.test", URL: "/slow", BalancingSpec: BalancingSpec{HealthCheck: off(), Targets: []TargetSpec{{IP: "127.0.0.1", Port: slow}}}},
			}},
			{ID: "lbl-tcp00001", Protocol: "TCP", BalancingSpec: BalancingSpec{HealthCheck: off(), Targets: []TargetSpec{{Backend: "web1"}}}},
		}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	idle := client(t, pki, "", true)
	if a := get(t, idle, "https://"+s.ListenerAddr("lb-close001", "lbl-https001")+"/"); a.backend != "web1" {
		t.Fatalf("answer %d %q", a.code, a.body)
	}
	piped, err := net.DialTimeout("tcp", s.ListenerAddr("lb-close001", "lbl-tcp00001"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer piped.Close()
	rawHTTP(t, piped, bufio.NewReader(piped), false)
	inFlight := make(chan error, 1)
	go func() {
		_, err := client(t, pki, "", false).Get("https://" + s.ListenerAddr("lb-close001", "lbl-https001") + "/slow")
		inFlight <- err
	}()
	// Wait until the slow request is being forwarded.
	eventually.True(t, 10*time.Second, "the slow request reached its backend", func() bool {
		s.lbNet.dp.bal.mu.Lock()
		defer s.lbNet.dp.bal.mu.Unlock()
		n := 0
		for _, p := range s.lbNet.dp.bal.pools {
			n += p.active[net.JoinHostPort("127.0.0.1", strconv.Itoa(slow))]
		}
		return n == 1
	})

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(connTimeout / 2):
		t.Fatal("Close waits for open connections")
	}
	if err := <-inFlight; err == nil {
		t.Errorf("the request in flight should fail when the simulator closes")
	}
}

func TestHealthCheckUnitOption(t *testing.T) {
	if _, err := Start(Options{HealthCheckUnit: -time.Millisecond}); err == nil || !strings.Contains(err.Error(), "HealthCheckUnit") {
		t.Errorf("a negative HealthCheckUnit: %v", err)
	}
	s := startSim(t, Options{})
	if s.opts.HealthCheckUnit != time.Second {
		t.Errorf("default HealthCheckUnit %v, want 1s", s.opts.HealthCheckUnit)
	}
}

// TestBackendSwitch: a person trying the simulator fails a backend's health path with a POST
// to HealthPath+"/down" and restores it with "/up"; other paths keep answering.
func TestBackendSwitch(t *testing.T) {
	s := startSim(t, Options{Topology: Topology{Backends: []BackendSpec{{ID: "web1"}}}})
	base := "http://" + s.BackendAddr("web1")
	c := client(t, nil, "", false)
	post := func(path string) {
		t.Helper()
		resp, err := c.Post(base+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	for _, step := range []struct {
		post       string
		health, on int
	}{
		{"", http.StatusOK, http.StatusOK},
		{HealthPath + "/down", http.StatusServiceUnavailable, http.StatusOK},
		{HealthPath + "/up", http.StatusOK, http.StatusOK},
	} {
		if step.post != "" {
			post(step.post)
		}
		if got := get(t, c, base+HealthPath).code; got != step.health {
			t.Errorf("after %q: %s answers %d, want %d", step.post, HealthPath, got, step.health)
		}
		if got := get(t, c, base+"/").code; got != step.on {
			t.Errorf("after %q: / answers %d, want %d", step.post, got, step.on)
		}
	}
}

// An HTTPS check sends the HTTP check's request over TLS: a target that serves HTTPS
// answers it and comes alive; tcsim's own backends, which speak plain HTTP, fail it.
func TestHTTPSHealthCheck(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	tlsBackend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.Host+r.URL.Path)
		mu.Unlock()
		if r.URL.Path != "/ready" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(tlsBackend.Close)
	tlsAddr := tlsBackend.Listener.Addr().(*net.TCPAddr)
	_, certs := dataPKI(t)
	s := startSim(t, Options{HealthCheckUnit: 5 * time.Millisecond, Certificates: certs, Topology: Topology{
		Backends: []BackendSpec{{ID: "web1"}},
		LoadBalancers: []LoadBalancerSpec{{ID: "lb-tls00001", Region: gz, VIP: "127.0.0.64", Listeners: []ListenerSpec{
			{ID: "lbl-https001", Protocol: "HTTPS", CertID: "WwwCert1", Rules: []RuleSpec{{LocationID: "loc-tls00001", Domain: "www.example.test", BalancingSpec: BalancingSpec{
				HealthCheck: &HealthCheckSpec{CheckType: checkHTTPS, HTTPCheckPath: "/ready", HTTPCode: 2, HealthNum: 2, UnHealthNum: 2, TimeOut: 10, IntervalTime: 11},
				Targets:     []TargetSpec{{IP: "127.0.0.1", Port: tlsAddr.Port}, {Backend: "web1"}},
			}}}},
		}}},
	}})
	waitHealth(t, s, "lb-tls00001", "lbl-https001", "loc-tls00001", tlsAddr.String(), healthAlive)
	waitHealth(t, s, "lb-tls00001", "lbl-https001", "loc-tls00001", s.BackendAddr("web1"), healthDead)
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 || asked[0] != "HEAD www.example.test/ready" {
		t.Errorf("the TLS backend was asked %q, want HEAD www.example.test/ready", asked)
	}
}
