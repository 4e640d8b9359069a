package tcsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"
)

// dualWorld is a simulator whose bindings pair an RSA and an ECC certificate for
// example.test and *.example.test, some of them with mutual TLS:
//
//	lb-dual0001 (gz, 127.0.0.61): lbl-dual0001 HTTPS [Rsa00001 + Ecc00001]
//	                              lbl-sni00001 HTTPS SNI www.example.test [Rsa00001 + Ecc00001],
//	                                           api.example.test [Rsa00001]
//	                              lbl-mtls0001 HTTPS [Rsa00001 + Ecc00001] MUTUAL ClientCA OPTIONAL
//	                              lbl-mon00001 HTTPS [Ecc00001] MUTUAL ClientCA (ON by default)
//	                              lbl-tls00001 TCP_SSL [Rsa00001 + Ecc00001]
//	                              lbl-quic0001 QUIC [Rsa00001]
//
// ClientCA is the CA of the client certificate good; foreign is a client certificate of
// another CA.
type dualWorld struct {
	s             *Sim
	pki           *testPKI
	leafs         map[string]testLeaf
	good, foreign tls.Certificate
	ssl           *sslsdk.Client
	gz            *clbsdk.Client
}

var apexNames = []string{"example.test", "*.example.test"}

func newDualWorld(t *testing.T) *dualWorld {
	t.Helper()
	pki, clientPKI, foreignPKI := newTestPKI(t), newTestPKI(t), newTestPKI(t)
	w := &dualWorld{pki: pki, leafs: map[string]testLeaf{
		"Rsa00001": rsaLeaf(t, pki, apexNames...),
		"Ecc00001": pki.valid(t, apexNames...),
	}}
	w.good, w.foreign = clientCert(t, clientPKI), clientCert(t, foreignPKI)
	opts := Options{Certificates: []CertSpec{
		w.leafs["Rsa00001"].spec("Rsa00001"), w.leafs["Ecc00001"].spec("Ecc00001"),
		{ID: "ClientCA", CertPEM: certPEM(clientPKI.root), Type: "CA"},
		{ID: "OtherCA1", CertPEM: certPEM(foreignPKI.root), Type: "CA"},
	}}
	www := []RuleSpec{{Domain: "www.example.test"}}
	opts.Topology = Topology{LoadBalancers: []LoadBalancerSpec{
		{ID: "lb-dual0001", Region: gz, VIP: "127.0.0.61", Listeners: []ListenerSpec{
			{ID: "lbl-dual0001", Protocol: "HTTPS", CertID: "Rsa00001", ExtCertIDs: []string{"Ecc00001"}, Rules: www},
			{ID: "lbl-sni00001", Protocol: "HTTPS", SNI: true, Rules: []RuleSpec{
				{Domain: "www.example.test", CertID: "Rsa00001", ExtCertIDs: []string{"Ecc00001"}},
				{Domain: "api.example.test", CertID: "Rsa00001"},
				{Domain: "www.example.test", URL: "/v2"},
			}},
			{ID: "lbl-mtls0001", Protocol: "HTTPS", CertID: "Rsa00001", ExtCertIDs: []string{"Ecc00001"},
				SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL", Rules: www},
			{ID: "lbl-mon00001", Protocol: "HTTPS", CertID: "Ecc00001", SSLMode: "MUTUAL", CertCaID: "ClientCA", Rules: www},
			{ID: "lbl-tls00001", Protocol: "TCP_SSL", CertID: "Rsa00001", ExtCertIDs: []string{"Ecc00001"}},
			{ID: "lbl-quic0001", Protocol: "QUIC", CertID: "Rsa00001"},
		}},
	}}
	w.s = startSim(t, opts)
	w.ssl, w.gz = sslClient(t, w.s), clbClient(t, w.s, gz)
	return w
}

func rsaLeaf(t *testing.T, p *testPKI, names ...string) testLeaf {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return p.issueKey(t, key, now.Add(-time.Hour), now.Add(90*24*time.Hour), names...)
}

// clientCert is a client certificate issued by p's root.
func clientCert(t *testing.T, p *testPKI) tls.Certificate {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	leaf := signCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "client"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, p.root, p.rootKey, key)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

// Client configurations that accept only one key algorithm of the server: TLS 1.2 with the
// ECDHE cipher suites of that algorithm (Go's client offers every signature algorithm, so the
// suite is what narrows it).
var (
	ecdsaOnly = &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}
	rsaOnly = &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}}
)

// leafOf dials a listener with base (nil: Go's defaults) for server name sni, verifying the
// chain, and returns the id of the certificate served, or the handshake's error.
func (w *dualWorld) leafOf(t *testing.T, listenerID, sni string, base *tls.Config) (string, error) {
	t.Helper()
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.ServerName, cfg.RootCAs = sni, w.pki.pool()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", w.s.ListenerAddr("lb-dual0001", listenerID), cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	for id, l := range w.leafs {
		if l.cert.Equal(leaf) {
			return id, nil
		}
	}
	t.Fatalf("%s served an unknown leaf %s", listenerID, leaf.Subject)
	return "", nil
}

// get is an HTTPS GET through a listener with client certificate cert (nil for none); it
// returns the status, or the error of a refused handshake.
func (w *dualWorld) get(t *testing.T, listenerID string, cert *tls.Certificate) (int, error) {
	t.Helper()
	cfg := &tls.Config{ServerName: "www.example.test", RootCAs: w.pki.pool()}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + w.s.ListenerAddr("lb-dual0001", listenerID) + "/")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// described is a binding as DescribeListeners reports it, its members as a sorted set.
type described struct {
	certIDs                []string
	mode, verify, caID     string
	certIDReported, hasExt bool
}

func describe(out *clbsdk.CertificateOutput) described {
	if out == nil {
		return described{}
	}
	d := described{mode: deref(out.SSLMode), verify: deref(out.SSLVerifyClient), caID: deref(out.CertCaId), certIDReported: out.CertId != nil}
	d.certIDs = append(d.certIDs, deref(out.CertId))
	for _, id := range out.ExtCertIds {
		d.certIDs, d.hasExt = append(d.certIDs, deref(id)), true
	}
	slices.Sort(d.certIDs)
	return d
}

func (w *dualWorld) listeners(t *testing.T) map[string]*clbsdk.Listener {
	t.Helper()
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr("lb-dual0001")
	resp, err := w.gz.DescribeListeners(req)
	if err != nil {
		t.Fatalf("DescribeListeners: %v", err)
	}
	out := map[string]*clbsdk.Listener{}
	for _, l := range resp.Response.Listeners {
		out[*l.ListenerId] = l
	}
	return out
}

func (w *dualWorld) listenerBinding(t *testing.T, listenerID string) described {
	t.Helper()
	return describe(w.listeners(t)[listenerID].Certificate)
}

func (w *dualWorld) domainBinding(t *testing.T, listenerID, domain string) described {
	t.Helper()
	for _, r := range w.listeners(t)[listenerID].Rules {
		if *r.Domain == domain {
			return describe(r.Certificate)
		}
	}
	t.Fatalf("%s has no domain %s", listenerID, domain)
	return described{}
}

func TestDualBindingDescribed(t *testing.T) {
	w := newDualWorld(t)
	pair := []string{"Ecc00001", "Rsa00001"}
	tests := []struct {
		name     string
		got      described
		certIDs  []string
		mode     string
		caID     string
		verify   string
		withExts bool
	}{
		{"dual listener", w.listenerBinding(t, "lbl-dual0001"), pair, "UNIDIRECTIONAL", "", "", true},
		{"dual SNI domain", w.domainBinding(t, "lbl-sni00001", "www.example.test"), pair, "UNIDIRECTIONAL", "", "", true},
		{"single SNI domain", w.domainBinding(t, "lbl-sni00001", "api.example.test"), []string{"Rsa00001"}, "UNIDIRECTIONAL", "", "", false},
		{"mutual OPTIONAL", w.listenerBinding(t, "lbl-mtls0001"), pair, "MUTUAL", "ClientCA", "OPTIONAL", true},
		{"mutual with verify left to its default", w.listenerBinding(t, "lbl-mon00001"), []string{"Ecc00001"}, "MUTUAL", "ClientCA", "ON", false},
		{"dual TCP_SSL", w.listenerBinding(t, "lbl-tls00001"), pair, "UNIDIRECTIONAL", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.got
			if !slices.Equal(g.certIDs, tt.certIDs) || g.mode != tt.mode || g.caID != tt.caID || g.verify != tt.verify || g.hasExt != tt.withExts {
				t.Errorf("described %+v, want members %v mode %s CA %q verify %q (ExtCertIds: %v)", g, tt.certIDs, tt.mode, tt.caID, tt.verify, tt.withExts)
			}
		})
	}
	// The rule of a domain's second path shares the domain's binding.
	for _, r := range w.listeners(t)["lbl-sni00001"].Rules {
		if *r.Domain == "www.example.test" && *r.Url == "/v2" {
			if got := describe(r.Certificate).certIDs; !slices.Equal(got, pair) {
				t.Errorf("www.example.test /v2 binds %v, want %v", got, pair)
			}
		}
	}
	b, ok := w.s.Binding("lb-dual0001", "lbl-mtls0001", "")
	if want := (Binding{CertIDs: pair, SSLMode: "MUTUAL", CertCaID: "ClientCA", SSLVerifyClient: "OPTIONAL"}); !ok || !slices.Equal(b.CertIDs, want.CertIDs) ||
		b.SSLMode != want.SSLMode || b.CertCaID != want.CertCaID || b.SSLVerifyClient != want.SSLVerifyClient {
		t.Errorf("Sim.Binding = %+v, %v; want %+v", b, ok, want)
	}
	for _, c := range w.s.Certificates() {
		if c.ID == "ClientCA" && !slices.Equal(c.BoundTo, []string{"lb-dual0001/lbl-mtls0001", "lb-dual0001/lbl-mon00001"}) {
			t.Errorf("ClientCA bound to %v", c.BoundTo)
		}
	}
}

func TestDualHandshakes(t *testing.T) {
	w := newDualWorld(t)
	tests := []struct {
		name       string
		listenerID string
		sni        string
		cfg        *tls.Config
		want       string // "" when the handshake must fail
	}{
		{"ECDSA-only client on a dual listener", "lbl-dual0001", "www.example.test", ecdsaOnly, "Ecc00001"},
		{"RSA-only client on a dual listener", "lbl-dual0001", "www.example.test", rsaOnly, "Rsa00001"},
		{"ECDSA-only client on a dual SNI domain", "lbl-sni00001", "www.example.test", ecdsaOnly, "Ecc00001"},
		{"RSA-only client on a dual SNI domain", "lbl-sni00001", "www.example.test", rsaOnly, "Rsa00001"},
		{"RSA-only client on a single RSA domain", "lbl-sni00001", "api.example.test", rsaOnly, "Rsa00001"},
		{"ECDSA-only client on a single RSA domain", "lbl-sni00001", "api.example.test", ecdsaOnly, ""},
		{"ECDSA-only client on dual TCP_SSL", "lbl-tls00001", "www.example.test", ecdsaOnly, "Ecc00001"},
		{"RSA-only client on dual TCP_SSL", "lbl-tls00001", "www.example.test", rsaOnly, "Rsa00001"},
		{"TLS 1.3 client on dual TCP_SSL gets a member", "lbl-tls00001", "www.example.test", &tls.Config{MinVersion: tls.VersionTLS13}, "Ecc00001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.leafOf(t, tt.listenerID, tt.sni, tt.cfg)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("served %s; want a failed handshake", got)
			case tt.want != "" && err != nil:
				t.Errorf("handshake: %v; want %s", err, tt.want)
			case got != tt.want:
				t.Errorf("served %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMutualTLS(t *testing.T) {
	w := newDualWorld(t)
	tests := []struct {
		name       string
		listenerID string
		cert       *tls.Certificate
		ok         bool
	}{
		{"OPTIONAL lets a client without a certificate in", "lbl-mtls0001", nil, true},
		{"OPTIONAL lets a client with a certificate of the CA in", "lbl-mtls0001", &w.good, true},
		{"OPTIONAL refuses a certificate of another CA", "lbl-mtls0001", &w.foreign, false},
		{"ON refuses a client without a certificate", "lbl-mon00001", nil, false},
		{"ON lets a client with a certificate of the CA in", "lbl-mon00001", &w.good, true},
		{"ON refuses a certificate of another CA", "lbl-mon00001", &w.foreign, false},
		{"one-way ignores client certificates", "lbl-dual0001", &w.foreign, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, err := w.get(t, tt.listenerID, tt.cert)
			if tt.ok && (err != nil || status != http.StatusOK) {
				t.Errorf("GET: %d, %v; want 200", status, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("GET answered %d; want the handshake refused", status)
			}
		})
	}
}

// multi is a MultiCertInfo of ids with mode (and verify, "" for none).
func multi(mode, verify string, ids ...string) *clbsdk.MultiCertInfo {
	m := &clbsdk.MultiCertInfo{SSLMode: ptr(mode)}
	if verify != "" {
		m.SSLVerifyClient = ptr(verify)
	}
	for _, id := range ids {
		m.CertList = append(m.CertList, &clbsdk.CertInfo{CertId: ptr(id)})
	}
	return m
}

func (w *dualWorld) modifyListener(t *testing.T, listenerID string, mod func(*clbsdk.ModifyListenerRequest)) {
	t.Helper()
	req := clbsdk.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = ptr("lb-dual0001"), ptr(listenerID)
	mod(req)
	resp, err := w.gz.ModifyListener(req)
	if err != nil {
		t.Fatalf("ModifyListener %s: %v", listenerID, err)
	}
	if st := taskStatus(t, w.gz, *resp.Response.RequestId); st != taskSucceeded {
		t.Fatalf("task status %d", st)
	}
}

func (w *dualWorld) modifyDomain(t *testing.T, listenerID, domain string, m *clbsdk.MultiCertInfo) {
	t.Helper()
	req := clbsdk.NewModifyDomainAttributesRequest()
	req.LoadBalancerId, req.ListenerId, req.Domain, req.MultiCertInfo = ptr("lb-dual0001"), ptr(listenerID), ptr(domain), m
	resp, err := w.gz.ModifyDomainAttributes(req)
	if err != nil {
		t.Fatalf("ModifyDomainAttributes %s %s: %v", listenerID, domain, err)
	}
	if st := taskStatus(t, w.gz, *resp.Response.RequestId); st != taskSucceeded {
		t.Fatalf("task status %d", st)
	}
}

func (w *dualWorld) upload(t *testing.T, l testLeaf) string {
	t.Helper()
	id := upload(t, w.ssl, l, "renewed")
	w.leafs[id] = l
	return id
}

func TestMultiCertInfoWrites(t *testing.T) {
	w := newDualWorld(t)
	rsa2, ecc2 := w.upload(t, rsaLeaf(t, w.pki, apexNames...)), w.upload(t, w.pki.valid(t, apexNames...))
	pair2 := []string{rsa2, ecc2}
	slices.Sort(pair2)

	// Both members of a listener move at once; each client type gets its new leaf.
	w.modifyListener(t, "lbl-dual0001", func(r *clbsdk.ModifyListenerRequest) { r.MultiCertInfo = multi("UNIDIRECTIONAL", "", ecc2, rsa2) })
	if got := w.listenerBinding(t, "lbl-dual0001").certIDs; !slices.Equal(got, pair2) {
		t.Errorf("listener binds %v, want %v", got, pair2)
	}
	for cfg, want := range map[*tls.Config]string{ecdsaOnly: ecc2, rsaOnly: rsa2} {
		if got, err := w.leafOf(t, "lbl-dual0001", "www.example.test", cfg); err != nil || got != want {
			t.Errorf("served %s, %v; want %s", got, err, want)
		}
	}

	// A single RSA SNI domain becomes a pair.
	w.modifyDomain(t, "lbl-sni00001", "api.example.test", multi("UNIDIRECTIONAL", "", rsa2, ecc2))
	if got := w.domainBinding(t, "lbl-sni00001", "api.example.test").certIDs; !slices.Equal(got, pair2) {
		t.Errorf("api.example.test binds %v, want %v", got, pair2)
	}
	if got, err := w.leafOf(t, "lbl-sni00001", "api.example.test", ecdsaOnly); err != nil || got != ecc2 {
		t.Errorf("api.example.test served ECDSA-only client %s, %v; want %s", got, err, ecc2)
	}

	// TCP_SSL takes MultiCertInfo too.
	w.modifyListener(t, "lbl-tls00001", func(r *clbsdk.ModifyListenerRequest) { r.MultiCertInfo = multi("UNIDIRECTIONAL", "", rsa2, ecc2) })
	if got, err := w.leafOf(t, "lbl-tls00001", "www.example.test", rsaOnly); err != nil || got != rsa2 {
		t.Errorf("TCP_SSL served RSA-only client %s, %v; want %s", got, err, rsa2)
	}

	// A mutual pair keeps OPTIONAL when it is written, and the CA travels in CertList.
	w.modifyListener(t, "lbl-mtls0001", func(r *clbsdk.ModifyListenerRequest) {
		r.MultiCertInfo = multi("MUTUAL", "OPTIONAL", rsa2, "ClientCA", ecc2)
	})
	if got := w.listenerBinding(t, "lbl-mtls0001"); !slices.Equal(got.certIDs, pair2) || got.mode != "MUTUAL" || got.caID != "ClientCA" || got.verify != "OPTIONAL" {
		t.Errorf("mutual listener described %+v", got)
	}
	if status, err := w.get(t, "lbl-mtls0001", nil); err != nil || status != http.StatusOK {
		t.Errorf("OPTIONAL after a write that kept it: %d, %v", status, err)
	}

	// Written without SSLVerifyClient, it is ON: the client without a certificate is out.
	w.modifyListener(t, "lbl-mtls0001", func(r *clbsdk.ModifyListenerRequest) { r.MultiCertInfo = multi("MUTUAL", "", rsa2, "ClientCA", ecc2) })
	if got := w.listenerBinding(t, "lbl-mtls0001").verify; got != "ON" {
		t.Errorf("SSLVerifyClient after a write without it: %q, want ON", got)
	}
	if _, err := w.get(t, "lbl-mtls0001", nil); err == nil {
		t.Error("a client without a certificate got through after SSLVerifyClient fell back to ON")
	}

	// Certificate replaces the whole binding: the ECC member and mutual TLS are gone.
	w.modifyListener(t, "lbl-mtls0001", func(r *clbsdk.ModifyListenerRequest) {
		r.Certificate = &clbsdk.CertificateInput{CertId: ptr(rsa2)}
	})
	if got := w.listenerBinding(t, "lbl-mtls0001"); !slices.Equal(got.certIDs, []string{rsa2}) || got.mode != "UNIDIRECTIONAL" || got.caID != "" || got.hasExt {
		t.Errorf("after a Certificate write: %+v, want %s alone, one-way", got, rsa2)
	}
	if _, err := w.leafOf(t, "lbl-mtls0001", "www.example.test", ecdsaOnly); err == nil {
		t.Error("an ECDSA-only client still got through after the ECC member was dropped")
	}

	// Every member of a pair is in use, whichever of them DescribeListeners calls CertId, and
	// so is a client CA.
	for _, id := range append(pair2, "ClientCA") {
		req := sslsdk.NewDeleteCertificateRequest()
		req.CertificateId = ptr(id)
		if _, err := w.ssl.DeleteCertificate(req); sdkCode(err) != codeDeleteResource {
			t.Errorf("DeleteCertificate %s: %v, want %s", id, err, codeDeleteResource)
		}
	}
}

func TestMultiCertInfoRefusals(t *testing.T) {
	w := newDualWorld(t)
	rsa2, ecc2 := w.upload(t, rsaLeaf(t, w.pki, apexNames...)), w.upload(t, w.pki.valid(t, apexNames...))
	listener := func(listenerID string, mod func(*clbsdk.ModifyListenerRequest)) func() error {
		return func() error {
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId, req.ListenerId = ptr("lb-dual0001"), ptr(listenerID)
			mod(req)
			_, err := w.gz.ModifyListener(req)
			return err
		}
	}
	withMulti := func(listenerID string, m *clbsdk.MultiCertInfo) func() error {
		return listener(listenerID, func(r *clbsdk.ModifyListenerRequest) { r.MultiCertInfo = m })
	}
	domain := func(listenerID, d string, m *clbsdk.MultiCertInfo) func() error {
		return func() error {
			req := clbsdk.NewModifyDomainAttributesRequest()
			req.LoadBalancerId, req.ListenerId, req.Domain, req.MultiCertInfo = ptr("lb-dual0001"), ptr(listenerID), ptr(d), m
			_, err := w.gz.ModifyDomainAttributes(req)
			return err
		}
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"two RSA certificates", withMulti("lbl-dual0001", multi("UNIDIRECTIONAL", "", rsa2, "Rsa00001")), codeInvalidParameterValue},
		{"a certificate twice", withMulti("lbl-dual0001", multi("UNIDIRECTIONAL", "", rsa2, rsa2)), codeInvalidParameterValue},
		{"MUTUAL without a CA", withMulti("lbl-dual0001", multi("MUTUAL", "", rsa2, ecc2)), codeInvalidParameter},
		{"MUTUAL with two CAs", withMulti("lbl-dual0001", multi("MUTUAL", "", rsa2, ecc2, "ClientCA", "OtherCA1")), codeInvalidParameter},
		{"a CA one-way", withMulti("lbl-dual0001", multi("UNIDIRECTIONAL", "", rsa2, ecc2, "ClientCA")), codeInvalidParameter},
		{"SSLVerifyClient one-way", withMulti("lbl-dual0001", multi("UNIDIRECTIONAL", "OPTIONAL", rsa2, ecc2)), codeInvalidParameter},
		{"unknown SSLVerifyClient", withMulti("lbl-dual0001", multi("MUTUAL", "OFF", rsa2, ecc2, "ClientCA")), codeInvalidParameterValue},
		{"no SSLMode", withMulti("lbl-dual0001", &clbsdk.MultiCertInfo{CertList: []*clbsdk.CertInfo{{CertId: ptr(rsa2)}}}), codeMissingParameter},
		{"no server certificate", withMulti("lbl-dual0001", multi("MUTUAL", "", "ClientCA")), codeInvalidParameter},
		{"empty CertList", withMulti("lbl-dual0001", multi("UNIDIRECTIONAL", "")), codeMissingParameter},
		{"unknown certificate", withMulti("lbl-dual0001", multi("UNIDIRECTIONAL", "", rsa2, "Nothere1")), codeInvalidParameter},
		{"inline certificate", withMulti("lbl-dual0001", &clbsdk.MultiCertInfo{SSLMode: ptr("UNIDIRECTIONAL"), CertList: []*clbsdk.CertInfo{{CertName: ptr("x"), CertContent: ptr("y"), CertKey: ptr("z")}}}), codeInvalidParameter},
		{"with Certificate", listener("lbl-dual0001", func(r *clbsdk.ModifyListenerRequest) {
			r.MultiCertInfo, r.Certificate = multi("UNIDIRECTIONAL", "", rsa2, ecc2), &clbsdk.CertificateInput{CertId: ptr(rsa2)}
		}), codeInvalidParameter},
		{"on an SNI listener", withMulti("lbl-sni00001", multi("UNIDIRECTIONAL", "", rsa2, ecc2)), codeInvalidParameter},
		{"on QUIC", withMulti("lbl-quic0001", multi("UNIDIRECTIONAL", "", rsa2, ecc2)), codeInvalidParameter},
		{"a domain of a listener without SNI", domain("lbl-dual0001", "www.example.test", multi("UNIDIRECTIONAL", "", rsa2, ecc2)), codeInvalidParameter},
		{"a domain, two ECC certificates", domain("lbl-sni00001", "www.example.test", multi("UNIDIRECTIONAL", "", ecc2, "Ecc00001")), codeInvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); sdkCode(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// Nothing changed, and no refusal left a task behind.
	if got := w.listenerBinding(t, "lbl-dual0001").certIDs; !slices.Equal(got, []string{"Ecc00001", "Rsa00001"}) {
		t.Errorf("a refused write changed the binding: %v", got)
	}
	w.modifyListener(t, "lbl-dual0001", func(r *clbsdk.ModifyListenerRequest) { r.MultiCertInfo = multi("UNIDIRECTIONAL", "", rsa2, ecc2) })
}

func TestEncryptAlgorithm(t *testing.T) {
	w := newDualWorld(t)
	req := sslsdk.NewDescribeCertificatesRequest()
	req.Limit = ptr(uint64(100))
	resp, err := w.ssl.DescribeCertificates(req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Rsa00001": "RSA", "Ecc00001": "ECC", "ClientCA": "ECC", "OtherCA1": "ECC"}
	for _, c := range resp.Response.Certificates {
		if got := deref(c.EncryptAlgorithm); got != want[*c.CertificateId] {
			t.Errorf("%s: EncryptAlgorithm %q, want %q", *c.CertificateId, got, want[*c.CertificateId])
		}
	}
	// DescribeCertificateDetail documents the field for SM certificates only.
	detail := sslsdk.NewDescribeCertificateDetailRequest()
	detail.CertificateId = ptr("Rsa00001")
	dr, err := w.ssl.DescribeCertificateDetail(detail)
	if err != nil {
		t.Fatal(err)
	}
	if dr.Response.EncryptAlgorithm != nil {
		t.Errorf("DescribeCertificateDetail EncryptAlgorithm = %q, want it left out", *dr.Response.EncryptAlgorithm)
	}
	for _, c := range w.s.Certificates() {
		if c.Algorithm != want[c.ID] {
			t.Errorf("Sim.Certificates %s: Algorithm %q, want %q", c.ID, c.Algorithm, want[c.ID])
		}
	}
}

func TestDualTopologyValidation(t *testing.T) {
	pki, clientPKI := newTestPKI(t), newTestPKI(t)
	certs := []CertSpec{
		rsaLeaf(t, pki, apexNames...).spec("Rsa00001"), pki.valid(t, apexNames...).spec("Ecc00001"),
		pki.valid(t, apexNames...).spec("Ecc00002"), {ID: "ClientCA", CertPEM: certPEM(clientPKI.root), Type: "CA"},
	}
	https := func(mod func(*ListenerSpec)) Options {
		l := ListenerSpec{ID: "lbl-top00001", Protocol: "HTTPS", CertID: "Rsa00001", Rules: []RuleSpec{{Domain: "www.example.test"}}}
		mod(&l)
		return Options{Certificates: certs, Topology: Topology{LoadBalancers: []LoadBalancerSpec{{ID: "lb-top00001", Region: gz, VIP: "127.0.0.62", Listeners: []ListenerSpec{l}}}}}
	}
	sni := func(rules ...RuleSpec) Options {
		return https(func(l *ListenerSpec) { l.CertID, l.SNI, l.Rules = "", true, rules })
	}
	tests := map[string]Options{
		"two ECC members":              https(func(l *ListenerSpec) { l.CertID, l.ExtCertIDs = "Ecc00001", []string{"Ecc00002"} }),
		"a member twice":               https(func(l *ListenerSpec) { l.ExtCertIDs = []string{"Rsa00001"} }),
		"ext without certId":           https(func(l *ListenerSpec) { l.CertID, l.ExtCertIDs = "", []string{"Ecc00001"} }),
		"ext not in the store":         https(func(l *ListenerSpec) { l.ExtCertIDs = []string{"Nothere1"} }),
		"a CA as a member":             https(func(l *ListenerSpec) { l.ExtCertIDs = []string{"ClientCA"} }),
		"unknown sslMode":              https(func(l *ListenerSpec) { l.SSLMode = "TWOWAY" }),
		"MUTUAL without CA":            https(func(l *ListenerSpec) { l.SSLMode = "MUTUAL" }),
		"MUTUAL with a server cert":    https(func(l *ListenerSpec) { l.SSLMode, l.CertCaID = "MUTUAL", "Ecc00001" }),
		"CA without MUTUAL":            https(func(l *ListenerSpec) { l.CertCaID = "ClientCA" }),
		"verify without MUTUAL":        https(func(l *ListenerSpec) { l.SSLVerifyClient = "OPTIONAL" }),
		"unknown verify":               https(func(l *ListenerSpec) { l.SSLMode, l.CertCaID, l.SSLVerifyClient = "MUTUAL", "ClientCA", "OFF" }),
		"QUIC pair":                    https(func(l *ListenerSpec) { l.Protocol, l.Rules, l.ExtCertIDs = "QUIC", nil, []string{"Ecc00001"} }),
		"sslMode on an SNI listener":   https(func(l *ListenerSpec) { l.CertID, l.SNI, l.SSLMode, l.Rules[0].CertID = "", true, "MUTUAL", "Rsa00001" }),
		"ext on a rule without SNI":    https(func(l *ListenerSpec) { l.Rules[0].ExtCertIDs = []string{"Ecc00001"} }),
		"domain with two bindings":     sni(RuleSpec{Domain: "www.example.test", CertID: "Rsa00001", ExtCertIDs: []string{"Ecc00001"}}, RuleSpec{Domain: "www.example.test", URL: "/v2", CertID: "Rsa00001"}),
		"domain pair of one algorithm": sni(RuleSpec{Domain: "www.example.test", CertID: "Ecc00001", ExtCertIDs: []string{"Ecc00002"}}),
		"CA with a key":                {Certificates: append(slices.Clone(certs[:3]), CertSpec{ID: "ClientCA", CertPEM: certs[3].CertPEM, KeyPEM: certs[1].KeyPEM, Type: "CA"})},
		"unknown certificate type":     {Certificates: append(slices.Clone(certs[:3]), CertSpec{ID: "ClientCA", CertPEM: certs[3].CertPEM, Type: "ROOT"})},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Start(opts)
			if err == nil {
				_ = s.Close()
				t.Fatal("Start accepted the options")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	ok := https(func(l *ListenerSpec) {
		l.ExtCertIDs, l.SSLMode, l.CertCaID, l.SSLVerifyClient = []string{"Ecc00001"}, "MUTUAL", "ClientCA", "OPTIONAL"
	})
	s := startSim(t, ok)
	if b, _ := s.Binding("lb-top00001", "lbl-top00001", ""); b.SSLVerifyClient != "OPTIONAL" || len(b.CertIDs) != 2 {
		t.Errorf("a valid dual mutual topology: %+v", b)
	}
}

// The SSL service's update of a dual binding's RSA member to an ECC certificate would leave
// two ECC certificates, which CLB never binds: that detail fails and the binding stays, while
// the single bindings of the old certificate move.
func TestUpdateKeepsDualBindingPaired(t *testing.T) {
	w := newDualWorld(t)
	ecc2 := w.upload(t, w.pki.valid(t, apexNames...))
	pw := &productWorld{s: w.s, ssl: w.ssl}
	id, _ := pw.update(t, updateRequest("Rsa00001", ecc2, "clb"))
	got := pw.settle(t, id)
	for name, status := range got {
		dual := strings.Contains(name, "lbl-dual0001") || strings.Contains(name, "lbl-mtls0001") ||
			strings.Contains(name, "lbl-tls00001") || strings.Contains(name, "www.example.test")
		if want := map[bool]string{true: "2", false: "1"}[dual]; !strings.HasPrefix(status, want) {
			t.Errorf("%s: status %s, want %s", name, status, want)
		}
	}
	if b, _ := w.s.Binding("lb-dual0001", "lbl-dual0001", ""); !slices.Equal(b.CertIDs, []string{"Ecc00001", "Rsa00001"}) {
		t.Errorf("the dual listener binds %v after a failed update, want it unchanged", b.CertIDs)
	}
	if got := w.s.ServedCert("lb-dual0001", "lbl-sni00001", "api.example.test"); got != ecc2 {
		t.Errorf("the single RSA SNI domain serves %s, want %s", got, ecc2)
	}
}
