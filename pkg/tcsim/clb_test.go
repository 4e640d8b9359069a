package tcsim

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/internal/clocktest"
)

const (
	gz = "ap-guangzhou"
	sh = "ap-shanghai"
)

func TestCLBParamsMatchSDK(t *testing.T) {
	checkParamsMatchSDK(t, [][2]any{
		{describeLoadBalancersParams{}, clbsdk.DescribeLoadBalancersRequestParams{}},
		{clbFilter{}, clbsdk.Filter{}},
		{describeListenersParams{}, clbsdk.DescribeListenersRequestParams{}},
		{createListenerParams{}, clbsdk.CreateListenerRequestParams{}},
		{modifyListenerParams{}, clbsdk.ModifyListenerRequestParams{}},
		{clbHealthCheck{}, clbsdk.HealthCheck{}},
		{certificateInput{}, clbsdk.CertificateInput{}},
		{multiCertInfo{}, clbsdk.MultiCertInfo{}},
		{certInfo{}, clbsdk.CertInfo{}},
		{modifyDomainAttributesParams{}, clbsdk.ModifyDomainAttributesRequestParams{}},
		{describeTaskStatusParams{}, clbsdk.DescribeTaskStatusRequestParams{}},
		{describeLoadBalancerListByCertIDParams{}, clbsdk.DescribeLoadBalancerListByCertIdRequestParams{}},
		{modifyRuleParams{}, clbsdk.ModifyRuleRequestParams{}},
		{oAuth{}, clbsdk.OAuth{}},
		{targetsParams{}, clbsdk.RegisterTargetsRequestParams{}},
		{targetsParams{}, clbsdk.DeregisterTargetsRequestParams{}},
		{clbTarget{}, clbsdk.Target{}},
		{modifyTargetWeightParams{}, clbsdk.ModifyTargetWeightRequestParams{}},
		{describeTargetsParams{}, clbsdk.DescribeTargetsRequestParams{}},
		{describeTargetHealthParams{}, clbsdk.DescribeTargetHealthRequestParams{}},
		{setCustomizedConfigParams{}, clbsdk.SetCustomizedConfigForLoadBalancerRequestParams{}},
		{describeCustomizedConfigListParams{}, clbsdk.DescribeCustomizedConfigListRequestParams{}},
		{describeCustomizedConfigAssociateListParams{}, clbsdk.DescribeCustomizedConfigAssociateListRequestParams{}},
	}, [][2]any{
		{describeLoadBalancersResponse{}, clbsdk.DescribeLoadBalancersResponseParams{}},
		{loadBalancerOutput{}, clbsdk.LoadBalancer{}},
		{describeListenersResponse{}, clbsdk.DescribeListenersResponseParams{}},
		{listenerOutput{}, clbsdk.Listener{}},
		{createListenerResponse{}, clbsdk.CreateListenerResponseParams{}},
		{ruleOutput{}, clbsdk.RuleOutput{}},
		{certificateOutput{}, clbsdk.CertificateOutput{}},
		{describeTaskStatusResponse{}, clbsdk.DescribeTaskStatusResponseParams{}},
		{describeLoadBalancerListByCertIDResponse{}, clbsdk.DescribeLoadBalancerListByCertIdResponseParams{}},
		{certIDRelatedWithLoadBalancers{}, clbsdk.CertIdRelatedWithLoadBalancers{}},
		{clbHealthCheck{}, clbsdk.HealthCheck{}},
		{describeTargetsResponse{}, clbsdk.DescribeTargetsResponseParams{}},
		{listenerBackend{}, clbsdk.ListenerBackend{}},
		{ruleTargets{}, clbsdk.RuleTargets{}},
		{backendOutput{}, clbsdk.Backend{}},
		{describeTargetHealthResponse{}, clbsdk.DescribeTargetHealthResponseParams{}},
		{loadBalancerHealth{}, clbsdk.LoadBalancerHealth{}},
		{listenerHealth{}, clbsdk.ListenerHealth{}},
		{ruleHealth{}, clbsdk.RuleHealth{}},
		{targetHealthOutput{}, clbsdk.TargetHealth{}},
		{setCustomizedConfigResponse{}, clbsdk.SetCustomizedConfigForLoadBalancerResponseParams{}},
		{describeCustomizedConfigListResponse{}, clbsdk.DescribeCustomizedConfigListResponseParams{}},
		{configListItem{}, clbsdk.ConfigListItem{}},
		{describeCustomizedConfigAssociateListResponse{}, clbsdk.DescribeCustomizedConfigAssociateListResponseParams{}},
		{bindDetailItem{}, clbsdk.BindDetailItem{}},
	})
}

// clbWorld is a simulator with three load balancers (two in Guangzhou, one in Shanghai) and
// the certificates they serve:
//
//	lb-web00001 (gz, 127.0.0.31): lbl-https001 HTTPS www.example.test [WwwOld01]
//	                              lbl-sni00001 HTTPS SNI api.example.test [ApiOld01] (two rules),
//	                                           *.example.test [WildOld1]
//	                              lbl-http0001 HTTP, lbl-tls00001 TCP_SSL [WwwOld01]
//	lb-web00002 (gz, 127.0.0.32): lbl-https002 HTTPS [WwwOld01]
//	lb-sh000001 (sh, 127.0.0.33): lbl-https003 HTTPS [WwwOld01]
//
// Expired1 is an expired certificate nothing uses.
type clbWorld struct {
	s     *Sim
	pki   *testPKI
	leafs map[string]testLeaf
	ssl   *sslsdk.Client
	gz    *clbsdk.Client
	sh    *clbsdk.Client
}

func newCLBWorld(t *testing.T, opts Options) *clbWorld {
	t.Helper()
	pki := newTestPKI(t)
	now := time.Now()
	leafs := map[string]testLeaf{
		"WwwOld01": pki.valid(t, "www.example.test"),
		"ApiOld01": pki.valid(t, "api.example.test"),
		"WildOld1": pki.valid(t, "*.example.test"),
		"Expired1": pki.issue(t, now.Add(-90*24*time.Hour), now.Add(-time.Hour), "www.example.test"),
	}
	for _, id := range []string{"WwwOld01", "ApiOld01", "WildOld1", "Expired1"} {
		opts.Certificates = append(opts.Certificates, leafs[id].spec(id))
	}
	opts.Topology = Topology{LoadBalancers: []LoadBalancerSpec{
		{ID: "lb-web00001", Name: "web-1", Region: gz, VIP: "127.0.0.31", Listeners: []ListenerSpec{
			{ID: "lbl-https001", Name: "https", Protocol: "HTTPS", CertID: "WwwOld01", Rules: []RuleSpec{{Domain: "www.example.test"}}},
			{ID: "lbl-sni00001", Name: "sni", Protocol: "HTTPS", SNI: true, Rules: []RuleSpec{
				{LocationID: "loc-api00001", Domain: "api.example.test", CertID: "ApiOld01"},
				{LocationID: "loc-wild0001", Domain: "*.example.test", CertID: "WildOld1"},
				{LocationID: "loc-api00002", Domain: "api.example.test", URL: "/v2"},
			}},
			{ID: "lbl-http0001", Name: "http", Protocol: "HTTP", Rules: []RuleSpec{{Domain: "www.example.test"}}},
			{ID: "lbl-tls00001", Name: "tls", Protocol: "TCP_SSL", CertID: "WwwOld01"},
		}},
		{ID: "lb-web00002", Name: "web-2", Region: gz, VIP: "127.0.0.32", Listeners: []ListenerSpec{
			{ID: "lbl-https002", Protocol: "HTTPS", CertID: "WwwOld01", Rules: []RuleSpec{{Domain: "www.example.test"}}},
		}},
		{ID: "lb-sh000001", Name: "web-sh", Region: sh, VIP: "127.0.0.33", Listeners: []ListenerSpec{
			{ID: "lbl-https003", Protocol: "HTTPS", CertID: "WwwOld01", Rules: []RuleSpec{{Domain: "www.example.test"}}},
		}},
	}}
	s := startSim(t, opts)
	return &clbWorld{s: s, pki: pki, leafs: leafs, ssl: sslClient(t, s), gz: clbClient(t, s, gz), sh: clbClient(t, s, sh)}
}

// addCert uploads a new certificate for names and remembers its leaf under the new id.
func (w *clbWorld) addCert(t *testing.T, names ...string) string {
	t.Helper()
	l := w.pki.valid(t, names...)
	id := upload(t, w.ssl, l, names[0])
	w.leafs[id] = l
	return id
}

// servedLeaf dials a listener with server name sni, verifies the chain against the test root
// and returns the id of the certificate whose leaf came back.
func (w *clbWorld) servedLeaf(t *testing.T, lbID, listenerID, sni string) string {
	t.Helper()
	leaf := handshake(t, w.s.ListenerAddr(lbID, listenerID), sni, w.pki.pool())
	for id, l := range w.leafs {
		if l.cert.Equal(leaf) {
			return id
		}
	}
	t.Fatalf("%s/%s served an unknown leaf %s", lbID, listenerID, leaf.Subject)
	return ""
}

func modifyListenerCert(lbID, listenerID, certID string) *clbsdk.ModifyListenerRequest {
	req := clbsdk.NewModifyListenerRequest()
	req.LoadBalancerId, req.ListenerId = ptr(lbID), ptr(listenerID)
	req.Certificate = &clbsdk.CertificateInput{SSLMode: ptr("UNIDIRECTIONAL"), CertId: ptr(certID)}
	return req
}

func modifyDomainCert(lbID, listenerID, domain, certID string) *clbsdk.ModifyDomainAttributesRequest {
	req := clbsdk.NewModifyDomainAttributesRequest()
	req.LoadBalancerId, req.ListenerId, req.Domain = ptr(lbID), ptr(listenerID), ptr(domain)
	req.Certificate = &clbsdk.CertificateInput{CertId: ptr(certID)}
	return req
}

func taskStatus(t *testing.T, c *clbsdk.Client, taskID string) int64 {
	t.Helper()
	req := clbsdk.NewDescribeTaskStatusRequest()
	req.TaskId = ptr(taskID)
	resp, err := c.DescribeTaskStatus(req)
	if err != nil {
		t.Fatalf("DescribeTaskStatus: %v", err)
	}
	return *resp.Response.Status
}

func listenerCert(t *testing.T, c *clbsdk.Client, lbID, listenerID string) string {
	t.Helper()
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId, req.ListenerIds = ptr(lbID), []*string{ptr(listenerID)}
	resp, err := c.DescribeListeners(req)
	if err != nil || len(resp.Response.Listeners) != 1 {
		t.Fatalf("DescribeListeners: %v", err)
	}
	return *resp.Response.Listeners[0].Certificate.CertId
}

func TestModifyListenerTask(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newCLBWorld(t, Options{Now: clock.Now, TaskDelay: 3 * time.Second})
	newID := w.addCert(t, "www.example.test")
	if got := w.servedLeaf(t, "lb-web00001", "lbl-https001", "www.example.test"); got != "WwwOld01" {
		t.Fatalf("before: served %s", got)
	}

	resp, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-https001", newID))
	if err != nil {
		t.Fatal(err)
	}
	task := *resp.Response.RequestId
	if got := taskStatus(t, w.gz, task); got != 2 {
		t.Errorf("status %d right after the call, want 2 (running)", got)
	}
	rename := clbsdk.NewModifyListenerRequest()
	rename.LoadBalancerId, rename.ListenerId, rename.ListenerName = ptr("lb-web00001"), ptr("lbl-tls00001"), ptr("renamed")
	if _, err := w.gz.ModifyListener(rename); sdkCode(err) != codeResourceInOperating {
		t.Errorf("second change of a busy load balancer: %v, want %s", err, codeResourceInOperating)
	}
	if _, err := w.gz.ModifyDomainAttributes(modifyDomainCert("lb-web00001", "lbl-sni00001", "api.example.test", newID)); sdkCode(err) != codeResourceInOperating {
		t.Errorf("ModifyDomainAttributes on a busy load balancer: %v", err)
	}
	other, err := w.gz.ModifyListener(modifyListenerCert("lb-web00002", "lbl-https002", newID))
	if err != nil {
		t.Errorf("another load balancer is not busy: %v", err)
	}
	if got := listenerCert(t, w.gz, "lb-web00001", "lbl-https001"); got != "WwwOld01" {
		t.Errorf("DescribeListeners shows %s while the task runs", got)
	}
	if got := w.servedLeaf(t, "lb-web00001", "lbl-https001", "www.example.test"); got != "WwwOld01" {
		t.Errorf("served %s while the task runs", got)
	}
	del := sslsdk.NewDeleteCertificateRequest()
	del.CertificateId = ptr(newID)
	if _, err := w.ssl.DeleteCertificate(del); sdkCode(err) != codeDeleteResource {
		t.Errorf("deleting a certificate a running task binds: %v", err)
	}

	clock.Advance(3 * time.Second)
	if got := w.servedLeaf(t, "lb-web00001", "lbl-https001", "www.example.test"); got != newID {
		t.Errorf("served %s once the task is due, want %s", got, newID)
	}
	req := clbsdk.NewDescribeTaskStatusRequest()
	req.TaskId = ptr(task)
	st, err := w.gz.DescribeTaskStatus(req)
	if err != nil || *st.Response.Status != 0 || len(st.Response.LoadBalancerIds) != 1 || *st.Response.LoadBalancerIds[0] != "lb-web00001" {
		t.Errorf("DescribeTaskStatus after the delay: %v %+v", err, st)
	}
	if got := listenerCert(t, w.gz, "lb-web00001", "lbl-https001"); got != newID {
		t.Errorf("DescribeListeners shows %s, want %s", got, newID)
	}
	if got := taskStatus(t, w.gz, *other.Response.RequestId); got != 0 {
		t.Errorf("the other load balancer's task: %d", got)
	}
	if _, err := w.gz.ModifyListener(rename); err != nil {
		t.Errorf("the load balancer is idle again: %v", err)
	}
	for _, c := range w.s.Certificates() {
		if c.ID == newID && !slices.Equal(c.BoundTo, []string{"lb-web00001/lbl-https001", "lb-web00002/lbl-https002"}) {
			t.Errorf("BoundTo %v", c.BoundTo)
		}
	}
}

func TestTaskCompletesOnPoll(t *testing.T) {
	w := newCLBWorld(t, Options{})
	newID := w.addCert(t, "www.example.test")
	resp, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-tls00001", newID))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.s.ServedCert("lb-web00001", "lbl-tls00001", ""); got != "WwwOld01" {
		t.Errorf("with TaskDelay 0 the change waits for DescribeTaskStatus; served %s", got)
	}
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-https001", newID)); sdkCode(err) != codeResourceInOperating {
		t.Errorf("a client that does not wait for its task must fail: %v", err)
	}
	if got := taskStatus(t, w.gz, *resp.Response.RequestId); got != 0 {
		t.Errorf("first poll: %d, want 0", got)
	}
	if got := w.servedLeaf(t, "lb-web00001", "lbl-tls00001", "www.example.test"); got != newID {
		t.Errorf("TCP_SSL served %s after the task, want %s", got, newID)
	}
	if got := taskStatus(t, w.gz, *resp.Response.RequestId); got != 0 {
		t.Errorf("second poll: %d", got)
	}
	other := clbsdk.NewDescribeTaskStatusRequest()
	other.TaskId = resp.Response.RequestId
	if _, err := w.sh.DescribeTaskStatus(other); sdkCode(err) != codeInvalidParameter {
		t.Errorf("a task of another region: %v", err)
	}
}

func TestSNIListener(t *testing.T) {
	w := newCLBWorld(t, Options{})
	tests := []struct{ sni, want string }{
		{"api.example.test", "ApiOld01"},
		{"API.Example.Test", "ApiOld01"},
		{"shop.example.test", "WildOld1"},
		{"a.b.example.test", "ApiOld01"}, // a wildcard covers one label; else the first rule's
		{"other.test", "ApiOld01"},
		{"", "ApiOld01"},
	}
	for _, tt := range tests {
		if got := w.s.ServedCert("lb-web00001", "lbl-sni00001", tt.sni); got != tt.want {
			t.Errorf("ServedCert(%q) = %s, want %s", tt.sni, got, tt.want)
		}
		leaf := handshake(t, w.s.ListenerAddr("lb-web00001", "lbl-sni00001"), tt.sni, nil)
		if !leaf.Equal(w.leafs[tt.want].cert) {
			t.Errorf("handshake with SNI %q got %v, want %s", tt.sni, leaf.DNSNames, tt.want)
		}
	}

	newAPI := w.addCert(t, "api.example.test")
	resp, err := w.gz.ModifyDomainAttributes(modifyDomainCert("lb-web00001", "lbl-sni00001", "api.example.test", newAPI))
	if err != nil {
		t.Fatal(err)
	}
	if taskStatus(t, w.gz, *resp.Response.RequestId) != 0 {
		t.Fatal("task not done")
	}
	if got := w.servedLeaf(t, "lb-web00001", "lbl-sni00001", "api.example.test"); got != newAPI {
		t.Errorf("api served %s, want %s", got, newAPI)
	}
	if got := w.servedLeaf(t, "lb-web00001", "lbl-sni00001", "shop.example.test"); got != "WildOld1" {
		t.Errorf("the wildcard domain changed too: %s", got)
	}
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId, req.Protocol = ptr("lb-web00001"), ptr("HTTPS")
	lresp, err := w.gz.DescribeListeners(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lresp.Response.Listeners {
		if *l.ListenerId != "lbl-sni00001" {
			continue
		}
		if *l.SniSwitch != 1 || l.Certificate != nil || len(l.Rules) != 3 {
			t.Fatalf("SNI listener %+v", *l)
		}
		for _, r := range l.Rules {
			want := map[string]string{"api.example.test": newAPI, "*.example.test": "WildOld1"}[*r.Domain]
			if *r.Certificate.CertId != want {
				t.Errorf("rule %s %s has %s, want %s (the rules of a domain share its certificate)", *r.Domain, *r.Url, *r.Certificate.CertId, want)
			}
		}
	}

	wild := w.addCert(t, "*.example.test", "example.test")
	resp, err = w.gz.ModifyDomainAttributes(modifyDomainCert("lb-web00001", "lbl-sni00001", "*.example.test", wild))
	if err != nil || taskStatus(t, w.gz, *resp.Response.RequestId) != 0 {
		t.Fatalf("wildcard domain: %v", err)
	}
	if got := w.servedLeaf(t, "lb-web00001", "lbl-sni00001", "shop.example.test"); got != wild {
		t.Errorf("wildcard served %s, want %s", got, wild)
	}
}

func TestCLBRefusals(t *testing.T) {
	w := newCLBWorld(t, Options{})
	fresh := w.addCert(t, "www.example.test")
	ca := sslsdk.NewUploadCertificateRequest()
	ca.CertificatePublicKey, ca.CertificateType = ptr(certPEM(w.pki.root)), ptr("CA")
	caResp, err := w.ssl.UploadCertificate(ca)
	if err != nil {
		t.Fatal(err)
	}
	caID := *caResp.Response.CertificateId

	withCert := func(lb, l string, in *clbsdk.CertificateInput) func(*clbsdk.Client) error {
		return func(c *clbsdk.Client) error {
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId, req.ListenerId, req.Certificate = ptr(lb), ptr(l), in
			_, err := c.ModifyListener(req)
			return err
		}
	}
	modify := func(mod func(*clbsdk.ModifyListenerRequest)) func(*clbsdk.Client) error {
		return func(c *clbsdk.Client) error {
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId, req.ListenerId = ptr("lb-web00001"), ptr("lbl-https001")
			mod(req)
			_, err := c.ModifyListener(req)
			return err
		}
	}
	domain := func(l, d, certID string) func(*clbsdk.Client) error {
		return func(c *clbsdk.Client) error {
			_, err := c.ModifyDomainAttributes(modifyDomainCert("lb-web00001", l, d, certID))
			return err
		}
	}
	tests := []struct {
		name string
		call func(*clbsdk.Client) error
		want string
	}{
		{"listener cert on an SNI listener", withCert("lb-web00001", "lbl-sni00001", &clbsdk.CertificateInput{CertId: ptr(fresh)}), codeInvalidParameter},
		{"cert on an HTTP listener", withCert("lb-web00001", "lbl-http0001", &clbsdk.CertificateInput{CertId: ptr(fresh)}), codeInvalidParameter},
		{"unknown certificate", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr("nothere1")}), codeInvalidParameter},
		{"expired certificate", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr("Expired1")}), codeInvalidParameter},
		{"CA certificate", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr(caID)}), codeInvalidParameter},
		{"mutual TLS without a client CA", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{SSLMode: ptr("MUTUAL"), CertId: ptr(fresh)}), codeMissingParameter},
		{"mutual TLS with a server certificate as CA", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{SSLMode: ptr("MUTUAL"), CertId: ptr(fresh), CertCaId: ptr(fresh)}), codeInvalidParameter},
		{"client CA without mutual TLS", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr(fresh), CertCaId: ptr(caID)}), codeInvalidParameter},
		{"SSLVerifyClient without mutual TLS", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr(fresh), SSLVerifyClient: ptr("OPTIONAL")}), codeInvalidParameter},
		{"unknown SSLVerifyClient", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{SSLMode: ptr("MUTUAL"), CertId: ptr(fresh), CertCaId: ptr(caID), SSLVerifyClient: ptr("OFF")}), codeInvalidParameterValue},
		{"unknown SSLMode", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{SSLMode: ptr("ONEWAY"), CertId: ptr(fresh)}), codeInvalidParameterValue},
		{"inline certificate", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{CertContent: ptr("x"), CertKey: ptr("y")}), codeInvalidParameter},
		{"no CertId", withCert("lb-web00001", "lbl-https001", &clbsdk.CertificateInput{SSLMode: ptr("UNIDIRECTIONAL")}), codeMissingParameter},
		{"unknown listener", withCert("lb-web00001", "lbl-nothere1", &clbsdk.CertificateInput{CertId: ptr(fresh)}), codeListenerIDNotFound},
		{"unknown load balancer", withCert("lb-nothere1", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr(fresh)}), codeLBIDNotFound},
		{"load balancer of another region", withCert("lb-sh000001", "lbl-https003", &clbsdk.CertificateInput{CertId: ptr(fresh)}), codeLBIDNotFound},
		{"malformed load balancer id", withCert("web-1", "lbl-https001", &clbsdk.CertificateInput{CertId: ptr(fresh)}), codeFormatError},
		{"health check of an HTTPS listener", modify(func(r *clbsdk.ModifyListenerRequest) {
			r.HealthCheck = &clbsdk.HealthCheck{HealthSwitch: ptr(int64(1))}
		}), codeInvalidParameter},
		{"switching SNI off", func(c *clbsdk.Client) error {
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId, req.ListenerId, req.SniSwitch = ptr("lb-web00001"), ptr("lbl-sni00001"), ptr(int64(0))
			_, err := c.ModifyListener(req)
			return err
		}, codeInvalidParameter},
		{"Certificate with MultiCertInfo", modify(func(r *clbsdk.ModifyListenerRequest) {
			r.Certificate = &clbsdk.CertificateInput{CertId: ptr(fresh)}
			r.MultiCertInfo = &clbsdk.MultiCertInfo{SSLMode: ptr("UNIDIRECTIONAL")}
		}), codeInvalidParameter},
		{"no ListenerId", func(c *clbsdk.Client) error {
			req := clbsdk.NewModifyListenerRequest()
			req.LoadBalancerId = ptr("lb-web00001")
			_, err := c.ModifyListener(req)
			return err
		}, codeMissingParameter},
		{"domain cert on a listener without SNI", domain("lbl-https001", "www.example.test", fresh), codeInvalidParameter},
		{"unknown domain", domain("lbl-sni00001", "shop.example.test", fresh), codeLocationNotFound},
		{"domains of a TCP_SSL listener", domain("lbl-tls00001", "www.example.test", fresh), codeInvalidParameter},
		{"unknown task", func(c *clbsdk.Client) error {
			req := clbsdk.NewDescribeTaskStatusRequest()
			req.TaskId = ptr("3d2b9c4e-0000-4000-8000-000000000000")
			_, err := c.DescribeTaskStatus(req)
			return err
		}, codeInvalidParameter},
		{"no task id", func(c *clbsdk.Client) error {
			_, err := c.DescribeTaskStatus(clbsdk.NewDescribeTaskStatusRequest())
			return err
		}, codeMissingParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(w.gz); sdkCode(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
	// No refusal may have left a task behind.
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-https001", fresh)); err != nil {
		t.Errorf("a refused call left the load balancer busy: %v", err)
	}
	if got := w.s.ServedCert("lb-web00001", "lbl-https001", ""); got != "WwwOld01" {
		t.Errorf("served %s", got)
	}
}

func TestCLBRegion(t *testing.T) {
	w := newCLBWorld(t, Options{})
	if _, err := clbClient(t, w.s, "").DescribeLoadBalancers(clbsdk.NewDescribeLoadBalancersRequest()); sdkCode(err) != codeMissingParameter ||
		!strings.Contains(err.Error(), "Region") {
		t.Errorf("no region: %v", err)
	}
	if _, err := clbClient(t, w.s, "ap-nowhere").DescribeLoadBalancers(clbsdk.NewDescribeLoadBalancersRequest()); sdkCode(err) != codeRegionNotFound {
		t.Errorf("invalid region: %v", err)
	}
	resp, err := clbClient(t, w.s, "ap-tokyo").DescribeLoadBalancers(clbsdk.NewDescribeLoadBalancersRequest())
	if err != nil || *resp.Response.TotalCount != 0 || len(resp.Response.LoadBalancerSet) != 0 {
		t.Errorf("a region without load balancers: %v %+v", err, resp)
	}
	if w.s.Calls("DescribeLoadBalancers") != 3 {
		t.Errorf("Calls %d, want 3 (refused regions count)", w.s.Calls("DescribeLoadBalancers"))
	}
}

func TestDescribeLoadBalancers(t *testing.T) {
	w := newCLBWorld(t, Options{})
	list := func(c *clbsdk.Client, mod func(*clbsdk.DescribeLoadBalancersRequest)) ([]string, uint64, error) {
		req := clbsdk.NewDescribeLoadBalancersRequest()
		if mod != nil {
			mod(req)
		}
		resp, err := c.DescribeLoadBalancers(req)
		if err != nil {
			return nil, 0, err
		}
		var ids []string
		for _, lb := range resp.Response.LoadBalancerSet {
			ids = append(ids, *lb.LoadBalancerId)
		}
		return ids, *resp.Response.TotalCount, nil
	}
	tests := []struct {
		name   string
		client *clbsdk.Client
		mod    func(*clbsdk.DescribeLoadBalancersRequest)
		want   []string
		total  uint64
		code   string
	}{
		{"region, newest first", w.gz, nil, []string{"lb-web00002", "lb-web00001"}, 2, ""},
		{"other region", w.sh, nil, []string{"lb-sh000001"}, 1, ""},
		{"oldest first", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) { r.OrderType = ptr(int64(0)) }, []string{"lb-web00001", "lb-web00002"}, 2, ""},
		{"by id", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) {
			r.LoadBalancerIds = []*string{ptr("lb-web00001"), ptr("lb-sh000001")}
		}, []string{"lb-web00001"}, 1, ""},
		{"page", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) { r.Offset, r.Limit = ptr(int64(1)), ptr(int64(1)) }, []string{"lb-web00001"}, 2, ""},
		{"by VIP", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) { r.LoadBalancerVips = []*string{ptr("127.0.0.32")} }, []string{"lb-web00002"}, 1, ""},
		{"by name", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) { r.LoadBalancerName = ptr("web-1") }, []string{"lb-web00001"}, 1, ""},
		{"filter vip-isp", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) {
			r.Filters = []*clbsdk.Filter{{Name: ptr("vip-isp"), Values: []*string{ptr("BGP")}}}
		}, []string{"lb-web00002", "lb-web00001"}, 2, ""},
		{"internal ones", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) { r.LoadBalancerType = ptr("INTERNAL") }, nil, 0, ""},
		{"unknown filter", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) {
			r.Filters = []*clbsdk.Filter{{Name: ptr("colour"), Values: []*string{ptr("red")}}}
		}, nil, 0, codeInvalidFilter},
		{"limit over 100", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) { r.Limit = ptr(int64(101)) }, nil, 0, codeValueRange},
		{"21 ids", w.gz, func(r *clbsdk.DescribeLoadBalancersRequest) {
			for i := range 21 {
				r.LoadBalancerIds = append(r.LoadBalancerIds, ptr("lb-x"+strconv.Itoa(i)))
			}
		}, nil, 0, codeValueLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := list(tt.client, tt.mod)
			if sdkCode(err) != tt.code {
				t.Fatalf("got %v, want %q", err, tt.code)
			}
			if err == nil && (!slices.Equal(got, tt.want) || total != tt.total) {
				t.Errorf("got %v (total %d), want %v (%d)", got, total, tt.want, tt.total)
			}
		})
	}
	req := clbsdk.NewDescribeLoadBalancersRequest()
	req.LoadBalancerIds = []*string{ptr("lb-web00002")}
	resp, err := w.gz.DescribeLoadBalancers(req)
	if err != nil {
		t.Fatal(err)
	}
	lb := resp.Response.LoadBalancerSet[0]
	if *lb.LoadBalancerName != "web-2" || *lb.LoadBalancerType != "OPEN" || *lb.Forward != 1 || *lb.Status != 1 ||
		len(lb.LoadBalancerVips) != 1 || *lb.LoadBalancerVips[0] != "127.0.0.32" {
		t.Errorf("load balancer %+v", *lb)
	}
}

func TestDescribeListeners(t *testing.T) {
	w := newCLBWorld(t, Options{})
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr("lb-web00001")
	resp, err := w.gz.DescribeListeners(req)
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Response.TotalCount != 4 || len(resp.Response.Listeners) != 4 {
		t.Fatalf("%d listeners", len(resp.Response.Listeners))
	}
	byID := map[string]*clbsdk.Listener{}
	for _, l := range resp.Response.Listeners {
		byID[*l.ListenerId] = l
		addr := w.s.ListenerAddr("lb-web00001", *l.ListenerId)
		if want := net.JoinHostPort("127.0.0.31", strconv.FormatInt(*l.Port, 10)); addr != want || *l.Port == 0 {
			t.Errorf("listener %s: Port %d, ListenerAddr %q", *l.ListenerId, *l.Port, addr)
		}
	}
	https, tls1, http1 := byID["lbl-https001"], byID["lbl-tls00001"], byID["lbl-http0001"]
	switch {
	case *https.Protocol != "HTTPS" || *https.ListenerName != "https" || *https.SniSwitch != 0 || *https.Certificate.SSLMode != "UNIDIRECTIONAL" || *https.Certificate.CertId != "WwwOld01":
		t.Errorf("HTTPS listener %+v", *https)
	case len(https.Rules) != 1 || *https.Rules[0].Domain != "www.example.test" || *https.Rules[0].Url != "/" || https.Rules[0].Certificate != nil ||
		!strings.HasPrefix(*https.Rules[0].LocationId, "loc-"):
		t.Errorf("HTTPS rule %+v", *https.Rules[0])
	case *tls1.Protocol != "TCP_SSL" || *tls1.Certificate.CertId != "WwwOld01" || len(tls1.Rules) != 0:
		t.Errorf("TCP_SSL listener %+v", *tls1)
	case *http1.Protocol != "HTTP" || http1.Certificate != nil || len(http1.Rules) != 1:
		t.Errorf("HTTP listener %+v", *http1)
	}

	req.Protocol, req.Port = ptr("TCP_SSL"), tls1.Port
	if resp, err := w.gz.DescribeListeners(req); err != nil || len(resp.Response.Listeners) != 1 {
		t.Errorf("Protocol and Port filter: %v", err)
	}
	req = clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr("lb-sh000001")
	if _, err := w.gz.DescribeListeners(req); sdkCode(err) != codeLBIDNotFound {
		t.Errorf("load balancer of another region: %v", err)
	}
	if _, err := w.gz.DescribeListeners(clbsdk.NewDescribeListenersRequest()); sdkCode(err) != codeMissingParameter {
		t.Errorf("no LoadBalancerId: %v", err)
	}
	for _, l := range []string{"lbl-http0001"} {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + w.s.ListenerAddr("lb-web00001", l) + "/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("HTTP listener answered %s", resp.Status)
		}
	}
}

func TestFailingLBs(t *testing.T) {
	w := newCLBWorld(t, Options{FailingLBs: []string{"lb-web00002"}})
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr("lb-web00002")
	if _, err := w.gz.DescribeListeners(req); sdkCode(err) != codeInternalError {
		t.Errorf("DescribeListeners: %v", err)
	}
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-web00002", "lbl-https002", "WwwOld01")); sdkCode(err) != codeInternalError {
		t.Errorf("ModifyListener: %v", err)
	}
	byID := clbsdk.NewDescribeLoadBalancersRequest()
	byID.LoadBalancerIds = []*string{ptr("lb-web00002")}
	if _, err := w.gz.DescribeLoadBalancers(byID); sdkCode(err) != codeInternalError {
		t.Errorf("DescribeLoadBalancers naming it: %v", err)
	}
	resp, err := w.gz.DescribeLoadBalancers(clbsdk.NewDescribeLoadBalancersRequest())
	if err != nil || *resp.Response.TotalCount != 2 {
		t.Errorf("the listing still shows it: %v", err)
	}
	req.LoadBalancerId = ptr("lb-web00001")
	if _, err := w.gz.DescribeListeners(req); err != nil {
		t.Errorf("the other load balancer works: %v", err)
	}
	if w.s.Calls("DescribeListeners") != 2 || w.s.Calls("ModifyListener") != 1 {
		t.Errorf("calls %v", w.s.CallCounts())
	}
	if got := w.servedLeaf(t, "lb-web00002", "lbl-https002", "www.example.test"); got != "WwwOld01" {
		t.Errorf("its listener still serves: %s", got)
	}
}

func TestDescribeLoadBalancerListByCertID(t *testing.T) {
	w := newCLBWorld(t, Options{})
	req := clbsdk.NewDescribeLoadBalancerListByCertIdRequest()
	req.CertIds = []*string{ptr("WwwOld01"), ptr("ApiOld01"), ptr("Expired1"), ptr("nothere1")}
	lbsOf := func(c *clbsdk.Client) map[string][]string {
		t.Helper()
		resp, err := c.DescribeLoadBalancerListByCertId(req)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, set := range resp.Response.CertSet {
			for _, lb := range set.LoadBalancers {
				out[*set.CertId] = append(out[*set.CertId], *lb.LoadBalancerId)
			}
		}
		return out
	}
	got := lbsOf(w.gz)
	if len(got) != 2 || !slices.Equal(got["WwwOld01"], []string{"lb-web00001", "lb-web00002"}) || !slices.Equal(got["ApiOld01"], []string{"lb-web00001"}) {
		t.Errorf("Guangzhou: %v", got)
	}
	if got := lbsOf(w.sh); len(got) != 1 || !slices.Equal(got["WwwOld01"], []string{"lb-sh000001"}) {
		t.Errorf("Shanghai: %v", got)
	}
	req.CertIds = nil
	for range 21 {
		req.CertIds = append(req.CertIds, ptr("WwwOld01"))
	}
	if _, err := w.gz.DescribeLoadBalancerListByCertId(req); sdkCode(err) != codeValueLength {
		t.Errorf("21 ids: %v", err)
	}
	req.CertIds = []*string{}
	if _, err := w.gz.DescribeLoadBalancerListByCertId(req); sdkCode(err) != codeMissingParameter {
		t.Errorf("no ids: %v", err)
	}
}

func TestDeleteCertificate(t *testing.T) {
	w := newCLBWorld(t, Options{})
	unused := w.addCert(t, "unused.example.test")
	del := func(id string, check *bool) (*sslsdk.DeleteCertificateResponseParams, error) {
		req := sslsdk.NewDeleteCertificateRequest()
		req.CertificateId, req.IsCheckResource = ptr(id), check
		resp, err := w.ssl.DeleteCertificate(req)
		if err != nil {
			return nil, err
		}
		return resp.Response, nil
	}
	for _, id := range []string{"WwwOld01", "ApiOld01", "WildOld1"} {
		if _, err := del(id, nil); sdkCode(err) != codeDeleteResource {
			t.Errorf("%s is served (listener or SNI domain, any region): %v", id, err)
		}
	}
	if _, err := del(unused, ptr(true)); sdkCode(err) != codeRoleNotAuthorised {
		t.Errorf("IsCheckResource: %v", err)
	}
	if resp, err := del(unused, nil); err != nil || !*resp.DeleteResult {
		t.Errorf("unused: %v", err)
	}
	if _, err := del(unused, nil); sdkCode(err) != codeCertNotFound {
		t.Errorf("twice: %v", err)
	}
	if _, err := del("Expired1", nil); err != nil {
		t.Errorf("an expired unbound certificate: %v", err)
	}
	if len(w.s.Certificates()) != 3 {
		t.Errorf("%d certificates left, want 3", len(w.s.Certificates()))
	}

	// Once a certificate is replaced everywhere it can go.
	wild := w.addCert(t, "*.example.test")
	resp, err := w.gz.ModifyDomainAttributes(modifyDomainCert("lb-web00001", "lbl-sni00001", "*.example.test", wild))
	if err != nil || taskStatus(t, w.gz, *resp.Response.RequestId) != 0 {
		t.Fatal(err)
	}
	if _, err := del("WildOld1", nil); err != nil {
		t.Errorf("after replacing it: %v", err)
	}
}

func TestCLBRateLimitAndFailNext(t *testing.T) {
	w := newCLBWorld(t, Options{RateLimits: map[string]int{"DescribeListeners": 1}})
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr("lb-web00001")
	if _, err := w.gz.DescribeListeners(req); err != nil {
		t.Fatal(err)
	}
	if _, err := w.gz.DescribeListeners(req); sdkCode(err) != codeRequestLimitExceeded {
		t.Errorf("over the limit: %v", err)
	}
	w.s.FailNext("ModifyListener", codeResourceInOperating, 1)
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-https001", "WwwOld01")); sdkCode(err) != codeResourceInOperating {
		t.Errorf("FailNext: %v", err)
	}
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-https001", "WwwOld01")); err != nil {
		t.Errorf("after FailNext: %v", err)
	}
}

// SetFailing breaks a load balancer between two calls and mends it again.
func TestSetFailing(t *testing.T) {
	w := newCLBWorld(t, Options{})
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr("lb-web00001")
	if err := w.s.SetFailing("lb-web00001", true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.gz.DescribeListeners(req); sdkCode(err) != codeInternalError {
		t.Errorf("failing: %v, want %s", err, codeInternalError)
	}
	if _, err := w.gz.ModifyListener(modifyListenerCert("lb-web00001", "lbl-https001", "WwwOld01")); sdkCode(err) != codeInternalError {
		t.Errorf("failing ModifyListener: %v, want %s", err, codeInternalError)
	}
	if err := w.s.SetFailing("lb-web00001", false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.gz.DescribeListeners(req); err != nil {
		t.Errorf("mended: %v", err)
	}
	if err := w.s.SetFailing("lb-nothere1", true); err == nil {
		t.Error("SetFailing accepted an unknown load balancer")
	}
}

func TestSampleTopology(t *testing.T) {
	top, err := LoadTopology(filepath.Join("..", "..", "testdata", "topologies", "two-regions.json"))
	if err != nil {
		t.Fatal(err)
	}
	pki := newTestPKI(t)
	leafs := map[string]testLeaf{
		"WwwCert1": pki.valid(t, "www.example.test"),
		"ApiCert1": pki.valid(t, "api.example.test"),
		"WildCrt1": pki.valid(t, "*.example.test"),
		"MqttCrt1": pki.valid(t, "mqtt.example.test"),
		"OtherCrt": pki.valid(t, "other.test"),
	}
	var certs []CertSpec
	for id, l := range leafs {
		certs = append(certs, l.spec(id))
	}
	s := startSim(t, Options{Topology: top, Certificates: certs})

	for region, want := range map[string]int{gz: 2, sh: 1} {
		resp, err := clbClient(t, s, region).DescribeLoadBalancers(clbsdk.NewDescribeLoadBalancersRequest())
		if err != nil || int(*resp.Response.TotalCount) != want {
			t.Errorf("%s: %v, want %d load balancers", region, err, want)
		}
	}
	tests := []struct{ lb, listener, sni, want string }{
		{"lb-gzweb001", "lbl-gzhttps1", "www.example.test", "WwwCert1"},
		{"lb-gzweb001", "lbl-gzsni001", "api.example.test", "ApiCert1"},
		{"lb-gzweb001", "lbl-gzsni001", "img.example.test", "WildCrt1"},
		{"lb-gzmq0001", "lbl-gztls001", "mqtt.example.test", "MqttCrt1"},
		{"lb-shweb001", "lbl-shother1", "other.test", "OtherCrt"},
	}
	for _, tt := range tests {
		leaf := handshake(t, s.ListenerAddr(tt.lb, tt.listener), tt.sni, pki.pool())
		if !leaf.Equal(leafs[tt.want].cert) || s.ServedCert(tt.lb, tt.listener, tt.sni) != tt.want {
			t.Errorf("%s/%s SNI %s: got %v, want %s", tt.lb, tt.listener, tt.sni, leaf.DNSNames, tt.want)
		}
	}
	if got := s.ServedCert("lb-gzmq0001", "lbl-gzquic01", "www.example.test"); got != "WwwCert1" {
		t.Errorf("QUIC listener certificate %s", got)
	}
	if addr := s.ListenerAddr("lb-gzmq0001", "lbl-gzquic01"); !strings.HasPrefix(addr, "127.0.0.12:") || strings.HasSuffix(addr, ":0") {
		t.Errorf("QUIC listener address %q", addr)
	}

	client := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pki.pool(), ServerName: "www.example.test"},
	}}
	resp, err := client.Get("https://" + s.ListenerAddr("lb-gzweb001", "lbl-gzhttps1") + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/1.1" || !strings.Contains(string(body), "lb-gzweb001/lbl-gzhttps1") {
		t.Errorf("HTTPS answer %s %s %q", resp.Proto, resp.Status, body)
	}
	dump, err := s.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(dump), "PRIVATE KEY") || !strings.Contains(string(dump), "lbl-gzsni001") {
		t.Errorf("Dump must show the load balancers and no private key")
	}
	for _, c := range s.Certificates() {
		if c.ID == "WwwCert1" && !slices.Equal(c.BoundTo, []string{"lb-gzweb001/lbl-gzhttps1", "lb-gzmq0001/lbl-gzquic01"}) {
			t.Errorf("WwwCert1 BoundTo %v", c.BoundTo)
		}
		if c.ID == "ApiCert1" && !slices.Equal(c.BoundTo, []string{"lb-gzweb001/lbl-gzsni001/api.example.test"}) {
			t.Errorf("ApiCert1 BoundTo %v", c.BoundTo)
		}
	}
}

func TestExplicitPortAndGeneratedIDs(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.41:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	_ = probe.Close()
	pki := newTestPKI(t)
	l := pki.valid(t, "www.example.test")
	s := startSim(t, Options{
		Certificates: []CertSpec{l.spec("Www00001")},
		Topology: Topology{LoadBalancers: []LoadBalancerSpec{{Region: gz, VIP: "127.0.0.41", Listeners: []ListenerSpec{
			{Protocol: "TCP_SSL", Port: port, CertID: "Www00001"},
			{Protocol: "TCP"},
		}}}},
	})
	resp, err := clbClient(t, s, gz).DescribeLoadBalancers(clbsdk.NewDescribeLoadBalancersRequest())
	if err != nil || len(resp.Response.LoadBalancerSet) != 1 {
		t.Fatal(err)
	}
	lbID := *resp.Response.LoadBalancerSet[0].LoadBalancerId
	if !isResourceID(lbID, "lb-") || len(lbID) != len("lb-")+8 || *resp.Response.LoadBalancerSet[0].LoadBalancerName != lbID {
		t.Errorf("generated id %q", lbID)
	}
	req := clbsdk.NewDescribeListenersRequest()
	req.LoadBalancerId = ptr(lbID)
	lresp, err := clbClient(t, s, gz).DescribeListeners(req)
	if err != nil {
		t.Fatal(err)
	}
	ls := lresp.Response.Listeners
	if len(ls) != 2 || *ls[0].Port != int64(port) || *ls[1].Port == int64(port) || !isResourceID(*ls[0].ListenerId, "lbl-") {
		t.Fatalf("listeners %+v %+v", *ls[0], *ls[1])
	}
	if leaf := handshake(t, net.JoinHostPort("127.0.0.41", strconv.Itoa(port)), "www.example.test", pki.pool()); !leaf.Equal(l.cert) {
		t.Errorf("explicit port serves %v", leaf.DNSNames)
	}
}

func TestTopologyValidation(t *testing.T) {
	pki := newTestPKI(t)
	good := pki.valid(t, "www.example.test").spec("Www00001")
	https := func(mod func(*ListenerSpec)) Topology {
		l := ListenerSpec{Protocol: "HTTPS", CertID: "Www00001", Rules: []RuleSpec{{Domain: "www.example.test"}}}
		mod(&l)
		return Topology{LoadBalancers: []LoadBalancerSpec{{ID: "lb-bad00001", Region: gz, VIP: "127.0.0.51", Listeners: []ListenerSpec{l}}}}
	}
	tests := map[string]Options{
		"unknown region":        {Topology: Topology{LoadBalancers: []LoadBalancerSpec{{Region: "ap-mars"}}}},
		"VIP not loopback":      {Topology: Topology{LoadBalancers: []LoadBalancerSpec{{Region: gz, VIP: "192.0.2.1"}}}},
		"malformed id":          {Topology: Topology{LoadBalancers: []LoadBalancerSpec{{ID: "web", Region: gz}}}},
		"id twice":              {Topology: Topology{LoadBalancers: []LoadBalancerSpec{{ID: "lb-a", Region: gz}, {ID: "lb-a", Region: sh}}}},
		"unknown protocol":      {Topology: https(func(l *ListenerSpec) { l.Protocol = "HTTP2" })},
		"HTTPS without cert":    {Topology: https(func(l *ListenerSpec) { l.CertID = "" })},
		"cert not in the store": {Topology: https(func(l *ListenerSpec) { l.CertID = "Nothere1" })},
		"SNI with listener cert": {Topology: https(func(l *ListenerSpec) {
			l.SNI = true
			l.Rules[0].CertID = "Www00001"
		})},
		"SNI domain without cert": {Topology: https(func(l *ListenerSpec) { l.SNI, l.CertID = true, "" })},
		"rule cert without SNI":   {Topology: https(func(l *ListenerSpec) { l.Rules[0].CertID = "Www00001" })},
		"SNI on TCP_SSL":          {Topology: https(func(l *ListenerSpec) { l.Protocol, l.SNI, l.Rules = "TCP_SSL", true, nil })},
		"rules on TCP_SSL":        {Topology: https(func(l *ListenerSpec) { l.Protocol = "TCP_SSL" })},
		"upper-case domain":       {Topology: https(func(l *ListenerSpec) { l.Rules[0].Domain = "WWW.example.test" })},
		"port out of range":       {Topology: https(func(l *ListenerSpec) { l.Port = 70000 })},
		"FailingLBs typo":         {FailingLBs: []string{"lb-nothere1"}},
		"bad certificate id":      {Certificates: []CertSpec{{ID: "a-b", CertPEM: good.CertPEM, KeyPEM: good.KeyPEM}}},
		"certificate without key": {Certificates: []CertSpec{{ID: "Nokey001", CertPEM: good.CertPEM}}},
		"negative task delay":     {TaskDelay: -time.Second},
		"rate limit on CLB typo":  {RateLimits: map[string]int{"ModifyListeners": 1}},
		"two listeners, one port": {Topology: Topology{LoadBalancers: []LoadBalancerSpec{{Region: gz, Listeners: []ListenerSpec{{Protocol: "TCP", Port: 9}, {Protocol: "HTTP", Port: 9}}}}}},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			opts.Certificates = append(opts.Certificates, good)
			if s, err := Start(opts); err == nil {
				_ = s.Close()
				t.Fatal("Start accepted the options")
			}
		})
	}

	dir := t.TempDir()
	for name, text := range map[string]string{
		"misspelt field": `{"loadBalancers":[{"region":"ap-guangzhou","listeners":[{"protocol":"TCP_SSL","certID":"x"}]}]}`,
		"trailing data":  `{"loadBalancers":[]} {}`,
		"bad protocol":   `{"loadBalancers":[{"region":"ap-guangzhou","listeners":[{"protocol":"SMTP"}]}]}`,
	} {
		path := filepath.Join(dir, "t.json")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTopology(path); err == nil {
			t.Errorf("%s: LoadTopology accepted it", name)
		}
	}
	if _, err := LoadTopology(filepath.Join(dir, "missing.json")); err == nil {
		t.Errorf("a missing file is an error")
	}
}

func TestCLBAndSSLRawRequests(t *testing.T) {
	w := newCLBWorld(t, Options{})
	cred := w.s.Credential()
	region := func(r *http.Request) { r.Header.Set("X-TC-Region", gz) }
	clbCall := func(action, body string) rawCall {
		return rawCall{action: action, version: clbVersion, service: clbService, body: body, cred: cred, edit: region}
	}
	sslCall := func(action, body string) rawCall {
		return rawCall{action: action, version: sslVersion, service: sslService, body: body, cred: cred}
	}
	tests := []struct {
		name string
		call rawCall
		want string
	}{
		{"null certificate id in a list", clbCall("DescribeLoadBalancerListByCertId", `{"CertIds":[null,"WwwOld01"]}`), ""},
		{"null filter", clbCall("DescribeLoadBalancers", `{"Filters":[null]}`), codeInvalidFilter},
		{"filter without values", clbCall("DescribeLoadBalancers", `{"Filters":[{"Name":"vip-isp"}]}`), codeMissingParameter},
		{"null load balancer id", clbCall("DescribeLoadBalancers", `{"LoadBalancerIds":[null]}`), codeFormatError},
		{"parameter in the wrong case", clbCall("DescribeListeners", `{"LoadBalancerID":"lb-web00001"}`), codeUnknownParameter},
		{"unknown nested parameter", clbCall("ModifyListener", `{"LoadBalancerId":"lb-web00001","ListenerId":"lbl-https001","Certificate":{"CertID":"WwwOld01"}}`), codeUnknownParameter},
		{"CLB signed for SSL", rawCall{action: "DescribeListeners", version: clbVersion, service: sslService, body: `{}`, cred: cred, edit: region}, codeAuthInvalidAuthorization},
		{"SSL with unknown parameter", sslCall("DescribeCertificates", `{"Keyword":"x"}`), codeUnknownParameter},
		{"SSL with a null tag", sslCall("DescribeCertificates", `{"Tags":[null]}`), codeMissingParameter},
		{"SSL list with null ids", sslCall("DescribeCertificates", `{"CertIds":[null]}`), ""},
		{"SSL wrong type", sslCall("DescribeCertificates", `{"Limit":"10"}`), codeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, code, body := tt.call.do(t, w.s); code != tt.want {
				t.Errorf("code %q, want %q: %s", code, tt.want, body)
			}
		})
	}
}

// TestDemoTopologyBalancing loads the README demo's topology: the balancing fields of rules
// and listeners are embedded (BalancingSpec) and must decode like the outer object's.
func TestDemoTopologyBalancing(t *testing.T) {
	top, err := LoadTopology(filepath.Join("..", "..", "testdata", "topologies", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	lb := top.LoadBalancers[0]
	rule, tcpSSL := lb.Listeners[0].Rules[0], lb.Listeners[1]
	switch {
	case len(top.Backends) != 2:
		t.Errorf("backends %+v, want web1 and web2", top.Backends)
	case len(rule.Targets) != 2 || rule.Targets[0].Backend != "web1":
		t.Errorf("rule targets %+v, want web1 and web2", rule.Targets)
	case rule.HealthCheck == nil || rule.HealthCheck.HTTPCheckPath != HealthPath || rule.HealthCheck.HTTPCode != 2:
		t.Errorf("rule health check %+v, want %s with 2xx healthy", rule.HealthCheck, HealthPath)
	case len(tcpSSL.Targets) != 2 || tcpSSL.HealthCheck == nil:
		t.Errorf("TCP_SSL listener balancing %+v, want two targets and a health check", tcpSSL.BalancingSpec)
	}
}
