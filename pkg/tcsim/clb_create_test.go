package tcsim

import (
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/internal/clocktest"
)

// dualVIP is lb-dual0001's VIP.
const dualVIP = "127.0.0.61"

// freePort is a port the kernel hands out on vip (":0"), released for a listener to take.
func freePort(t *testing.T, vip string) int64 {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(vip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return int64(ln.Addr().(*net.TCPAddr).Port)
}

// heldPort is a port another program holds on vip for the whole test.
func heldPort(t *testing.T, vip string) int64 {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(vip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return int64(ln.Addr().(*net.TCPAddr).Port)
}

func createListenerReq(protocol string, ports ...int64) *clbsdk.CreateListenerRequest {
	req := clbsdk.NewCreateListenerRequest()
	req.LoadBalancerId, req.Protocol = ptr("lb-dual0001"), ptr(protocol)
	for _, p := range ports {
		req.Ports = append(req.Ports, ptr(p))
	}
	return req
}

// create runs a CreateListener to its end: the new listeners are neither described nor
// served while the task runs, and are once it has succeeded.
func (w *dualWorld) create(t *testing.T, req *clbsdk.CreateListenerRequest) []string {
	t.Helper()
	resp, err := w.gz.CreateListener(req)
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	ids := derefAll(resp.Response.ListenerIds)
	if len(ids) != len(req.Ports) {
		t.Fatalf("CreateListener answered ListenerIds %v for %d ports", ids, len(req.Ports))
	}
	for _, id := range ids {
		if _, ok := w.listeners(t)[id]; ok || w.s.ListenerAddr("lb-dual0001", id) != "" {
			t.Errorf("listener %s exists before its task completed", id)
		}
	}
	if st := taskStatus(t, w.gz, *resp.Response.RequestId); st != taskSucceeded {
		t.Fatalf("task status %d", st)
	}
	for i, id := range ids {
		want := net.JoinHostPort(dualVIP, strconv.FormatInt(*req.Ports[i], 10))
		if got := w.s.ListenerAddr("lb-dual0001", id); got != want {
			t.Errorf("listener %s serves on %q, want %s", id, got, want)
		}
	}
	return ids
}

func TestCreateListener(t *testing.T) {
	w := newDualWorld(t)
	pair := []string{"Ecc00001", "Rsa00001"}

	// A dual HTTPS listener: each client type gets the member its handshake supports.
	req := createListenerReq("HTTPS", freePort(t, dualVIP))
	req.ListenerNames = []*string{ptr("dual-new")}
	req.MultiCertInfo = multi("UNIDIRECTIONAL", "", "Rsa00001", "Ecc00001")
	dual := w.create(t, req)[0]
	l := w.listeners(t)[dual]
	if deref(l.Protocol) != "HTTPS" || *l.Port != *req.Ports[0] || deref(l.ListenerName) != "dual-new" || *l.SniSwitch != 0 {
		t.Errorf("described %s %d %q SNI %d", deref(l.Protocol), *l.Port, deref(l.ListenerName), *l.SniSwitch)
	}
	if got := describe(l.Certificate); !slices.Equal(got.certIDs, pair) || !got.hasExt || got.mode != "UNIDIRECTIONAL" {
		t.Errorf("binding described %+v, want %v", got, pair)
	}
	for _, tt := range []struct {
		name string
		cfg  *tls.Config
		want string
	}{{"ECDSA-only", ecdsaOnly, "Ecc00001"}, {"RSA-only", rsaOnly, "Rsa00001"}} {
		if got, err := w.leafOf(t, dual, "www.example.test", tt.cfg); err != nil || got != tt.want {
			t.Errorf("%s client: served %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}

	// TCP_SSL on two ports: one listener each, with the layer-4 balancing asked for.
	req = createListenerReq("TCP_SSL", freePort(t, dualVIP), freePort(t, dualVIP))
	req.Certificate = &clbsdk.CertificateInput{CertId: ptr("Rsa00001")}
	req.Scheduler, req.HealthCheck = ptr("LEAST_CONN"), &clbsdk.HealthCheck{HealthSwitch: ptr(int64(0))}
	for _, id := range w.create(t, req) {
		l := w.listeners(t)[id]
		if deref(l.Scheduler) != "LEAST_CONN" || *l.HealthCheck.HealthSwitch != 0 || deref(l.ListenerName) != "" {
			t.Errorf("%s: scheduler %s, health switch %d, name %q", id, deref(l.Scheduler), *l.HealthCheck.HealthSwitch, deref(l.ListenerName))
		}
		if got, err := w.leafOf(t, id, "www.example.test", rsaOnly); err != nil || got != "Rsa00001" {
			t.Errorf("%s served %s, %v", id, got, err)
		}
	}

	// Mutual TLS as written: OPTIONAL lets a client without a certificate in; left out, it is ON.
	req = createListenerReq("HTTPS", freePort(t, dualVIP))
	req.MultiCertInfo = multi("MUTUAL", "OPTIONAL", "Rsa00001", "ClientCA", "Ecc00001")
	optional := w.create(t, req)[0]
	if got := w.listenerBinding(t, optional); got.mode != "MUTUAL" || got.caID != "ClientCA" || got.verify != "OPTIONAL" || !slices.Equal(got.certIDs, pair) {
		t.Errorf("mutual pair described %+v", got)
	}
	if _, err := w.get(t, optional, nil); err != nil {
		t.Errorf("OPTIONAL refused a client without a certificate: %v", err)
	}
	req = createListenerReq("HTTPS", freePort(t, dualVIP))
	req.Certificate = &clbsdk.CertificateInput{SSLMode: ptr("MUTUAL"), CertId: ptr("Ecc00001"), CertCaId: ptr("ClientCA")}
	on := w.create(t, req)[0]
	if got := w.listenerBinding(t, on).verify; got != "ON" {
		t.Errorf("SSLVerifyClient left out: %q, want ON", got)
	}
	if _, err := w.get(t, on, nil); err == nil {
		t.Error("ON let a client without a certificate in")
	}
	if status, err := w.get(t, on, &w.good); err != nil || status != http.StatusNotFound {
		t.Errorf("ON with a client certificate of the CA: %d, %v; want 404 (no rule yet)", status, err)
	}

	// SNI on: no listener certificate; the domains bring theirs.
	req = createListenerReq("HTTPS", freePort(t, dualVIP))
	req.SniSwitch = ptr(int64(1))
	sniID := w.create(t, req)[0]
	sni := w.listeners(t)[sniID]
	if *sni.SniSwitch != 1 || sni.Certificate != nil {
		t.Errorf("SNI listener described SNI %d, certificate %v", *sni.SniSwitch, sni.Certificate)
	}
}

func TestCreateListenerRefusals(t *testing.T) {
	w := newDualWorld(t)
	rsa2 := w.upload(t, rsaLeaf(t, w.pki, apexNames...))
	existing, _ := strconv.ParseInt(w.s.ListenerAddr("lb-dual0001", "lbl-dual0001")[len(dualVIP)+1:], 10, 64)
	free, held := freePort(t, dualVIP), heldPort(t, dualVIP)
	cert := func(protocol string, ports ...int64) *clbsdk.CreateListenerRequest {
		req := createListenerReq(protocol, ports...)
		req.Certificate = &clbsdk.CertificateInput{CertId: ptr("Rsa00001")}
		return req
	}
	with := func(req *clbsdk.CreateListenerRequest, mod func(*clbsdk.CreateListenerRequest)) *clbsdk.CreateListenerRequest {
		mod(req)
		return req
	}
	tests := []struct {
		name string
		req  *clbsdk.CreateListenerRequest
		want string
	}{
		{"no ports", cert("HTTPS"), codeMissingParameter},
		{"port 0", cert("HTTPS", 0), codeValueRange},
		{"port 65536", cert("HTTPS", 65536), codeValueRange},
		{"a port twice", cert("HTTPS", free, free), codePortCheckFailed},
		{"the port of another listener", cert("HTTPS", existing), codePortCheckFailed},
		{"a port another program holds", cert("HTTPS", held), codePortCheckFailed},
		{"no protocol", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.Protocol = nil }), codeMissingParameter},
		{"unknown protocol", cert("SCTP", free), codeInvalidParameterValue},
		{"UDP", createListenerReq("UDP", free), codeInvalidParameter},
		{"HTTPS without a certificate", createListenerReq("HTTPS", free), codeMissingParameter},
		{"TCP_SSL without a certificate", createListenerReq("TCP_SSL", free), codeMissingParameter},
		{"QUIC without a certificate", createListenerReq("QUIC", free), codeMissingParameter},
		{"Certificate and MultiCertInfo", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) {
			r.MultiCertInfo = multi("UNIDIRECTIONAL", "", "Rsa00001", "Ecc00001")
		}), codeInvalidParameter},
		{"two RSA certificates", with(createListenerReq("HTTPS", free), func(r *clbsdk.CreateListenerRequest) {
			r.MultiCertInfo = multi("UNIDIRECTIONAL", "", "Rsa00001", rsa2)
		}), codeInvalidParameterValue},
		{"MUTUAL without a CA", with(createListenerReq("HTTPS", free), func(r *clbsdk.CreateListenerRequest) {
			r.MultiCertInfo = multi("MUTUAL", "", "Rsa00001", "Ecc00001")
		}), codeInvalidParameter},
		{"MUTUAL with two CAs", with(createListenerReq("TCP_SSL", free), func(r *clbsdk.CreateListenerRequest) {
			r.MultiCertInfo = multi("MUTUAL", "", "Rsa00001", "ClientCA", "OtherCA1")
		}), codeInvalidParameter},
		{"MultiCertInfo on QUIC", with(createListenerReq("QUIC", free), func(r *clbsdk.CreateListenerRequest) {
			r.MultiCertInfo = multi("UNIDIRECTIONAL", "", "Rsa00001", "Ecc00001")
		}), codeInvalidParameter},
		{"an unknown certificate", with(createListenerReq("HTTPS", free), func(r *clbsdk.CreateListenerRequest) {
			r.Certificate = &clbsdk.CertificateInput{CertId: ptr("Nothere1")}
		}), codeInvalidParameter},
		{"a certificate on HTTP", cert("HTTP", free), codeInvalidParameter},
		{"a certificate on TCP", cert("TCP", free), codeInvalidParameter},
		{"a certificate with SNI on", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.SniSwitch = ptr(int64(1)) }), codeInvalidParameter},
		{"SNI on TCP_SSL", with(cert("TCP_SSL", free), func(r *clbsdk.CreateListenerRequest) { r.SniSwitch = ptr(int64(1)) }), codeInvalidParameter},
		{"SniSwitch 2", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.SniSwitch = ptr(int64(2)) }), codeInvalidParameterValue},
		{"a health check on HTTPS", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.HealthCheck = &clbsdk.HealthCheck{} }), codeInvalidParameter},
		{"a scheduler on HTTP", with(createListenerReq("HTTP", free), func(r *clbsdk.CreateListenerRequest) { r.Scheduler = ptr("WRR") }), codeInvalidParameter},
		{"session persistence on HTTPS", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.SessionExpireTime = ptr(int64(60)) }), codeInvalidParameter},
		{"session persistence on TCP_SSL", with(cert("TCP_SSL", free), func(r *clbsdk.CreateListenerRequest) { r.SessionExpireTime = ptr(int64(60)) }), codeInvalidParameter},
		{"a health check timing out after its interval", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{TimeOut: ptr(int64(10)), IntervalTime: ptr(int64(5))}
		}), codeInvalidParameterValue},
		{"session persistence with LEAST_CONN", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) {
			r.Scheduler, r.SessionExpireTime = ptr("LEAST_CONN"), ptr(int64(60))
		}), codeInvalidParameter},
		{"IP_HASH", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) { r.Scheduler = ptr("IP_HASH") }), codeInvalidParameterValue},
		{"an unknown scheduler", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) { r.Scheduler = ptr("RANDOM") }), codeInvalidParameterValue},
		{"fewer names than ports", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.ListenerNames = []*string{ptr("a"), ptr("b")} }), codeInvalidParameter},
		{"an empty name", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.ListenerNames = []*string{ptr("")} }), codeValueLength},
		{"a port range", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) { r.EndPort = ptr(uint64(free + 10)) }), codeInvalidParameter},
		{"TCP_SSL without SSL", with(cert("TCP_SSL", free), func(r *clbsdk.CreateListenerRequest) { r.SslCloseSwitch = ptr(true) }), codeInvalidParameter},
		{"a target group", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) { r.TargetType = ptr("TARGETGROUP") }), codeInvalidParameter},
		{"an unknown target type", with(createListenerReq("TCP", free), func(r *clbsdk.CreateListenerRequest) { r.TargetType = ptr("POD") }), codeInvalidParameterValue},
		{"an unknown load balancer", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.LoadBalancerId = ptr("lb-nothere1") }), codeLBIDNotFound},
		{"a malformed load balancer id", with(cert("HTTPS", free), func(r *clbsdk.CreateListenerRequest) { r.LoadBalancerId = ptr("LB_1") }), codeFormatError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.gz.CreateListener(tt.req); sdkCode(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// A load balancer of another region is not found.
	if _, err := clbClient(t, w.s, sh).CreateListener(cert("HTTPS", free)); sdkCode(err) != codeLBIDNotFound {
		t.Errorf("from another region: %v, want %s", err, codeLBIDNotFound)
	}
	if got := len(w.listeners(t)); got != 6 {
		t.Errorf("%d listeners after refusals, want the topology's 6", got)
	}
	// A port the host cannot give refuses the whole call and keeps none of its ports: the
	// free one makes a listener right after.
	if _, err := w.gz.CreateListener(cert("HTTPS", free, held)); sdkCode(err) != codePortCheckFailed {
		t.Errorf("a free port and a held one: %v, want %s", err, codePortCheckFailed)
	}
	w.create(t, cert("HTTPS", free))
}

func TestCreateListenerBusy(t *testing.T) {
	w := newDualWorld(t)
	fresh := w.upload(t, w.pki.valid(t, apexNames...))
	req := createListenerReq("HTTPS", freePort(t, dualVIP))
	req.Certificate = &clbsdk.CertificateInput{CertId: ptr(fresh)}
	resp, err := w.gz.CreateListener(req)
	if err != nil {
		t.Fatal(err)
	}

	// While the task runs the load balancer takes no other change, and the certificate the
	// new listener will serve is in use.
	if _, err := w.gz.CreateListener(createListenerReq("TCP", freePort(t, dualVIP))); sdkCode(err) != codeResourceInOperating {
		t.Errorf("second CreateListener: %v, want %s", err, codeResourceInOperating)
	}
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-dual0001", "lbl-dual0001", fresh)); sdkCode(err) != codeResourceInOperating {
		t.Errorf("ModifyListener: %v, want %s", err, codeResourceInOperating)
	}
	del := sslsdk.NewDeleteCertificateRequest()
	del.CertificateId = ptr(fresh)
	if _, err := w.ssl.DeleteCertificate(del); sdkCode(err) != codeDeleteResource || !strings.Contains(err.Error(), *resp.Response.RequestId) {
		t.Errorf("DeleteCertificate of the certificate being bound: %v, want %s naming the task", err, codeDeleteResource)
	}

	if st := taskStatus(t, w.gz, *resp.Response.RequestId); st != taskSucceeded {
		t.Fatalf("task status %d", st)
	}
	id := *resp.Response.ListenerIds[0]
	if got, err := w.leafOf(t, id, "www.example.test", nil); err != nil || got != fresh {
		t.Errorf("new listener served %s, %v; want %s", got, err, fresh)
	}
	w.create(t, createListenerReq("TCP", freePort(t, dualVIP)))
}

func TestCreateListenerTaskDelay(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newCLBWorld(t, Options{Now: clock.Now, TaskDelay: 3 * time.Second})
	req := clbsdk.NewCreateListenerRequest()
	req.LoadBalancerId, req.Protocol, req.Ports = ptr("lb-web00001"), ptr("TCP_SSL"), []*int64{ptr(freePort(t, "127.0.0.31"))}
	req.Certificate = &clbsdk.CertificateInput{CertId: ptr("WwwOld01")}
	resp, err := w.gz.CreateListener(req)
	if err != nil {
		t.Fatal(err)
	}
	id := *resp.Response.ListenerIds[0]
	clock.Advance(2 * time.Second)
	if st := taskStatus(t, w.gz, *resp.Response.RequestId); st != taskRunning || w.s.ListenerAddr("lb-web00001", id) != "" {
		t.Fatalf("before TaskDelay: task status %d, listener at %q", st, w.s.ListenerAddr("lb-web00001", id))
	}
	// Due, the listener serves without another API call.
	clock.Advance(time.Second)
	if got := w.servedLeaf(t, "lb-web00001", id, "www.example.test"); got != "WwwOld01" {
		t.Errorf("served %s, want WwwOld01", got)
	}
	if st := taskStatus(t, w.gz, *resp.Response.RequestId); st != taskSucceeded {
		t.Errorf("task status %d after TaskDelay", st)
	}
}
