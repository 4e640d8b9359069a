package tcsim

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/internal/clocktest"
)

func TestSSLProductsParamsMatchSDK(t *testing.T) {
	checkParamsMatchSDK(t, [][2]any{
		{createBindTaskParams{}, sslsdk.CreateCertificateBindResourceSyncTaskRequestParams{}},
		{bindTaskResultParams{}, sslsdk.DescribeCertificateBindResourceTaskResultRequestParams{}},
		{bindTaskDetailParams{}, sslsdk.DescribeCertificateBindResourceTaskDetailRequestParams{}},
		{updateCertificateInstanceParams{}, sslsdk.UpdateCertificateInstanceRequestParams{}},
		{resourceTypeRegions{}, sslsdk.ResourceTypeRegions{}},
		{hostUpdateRecordDetailParams{}, sslsdk.DescribeHostUpdateRecordDetailRequestParams{}},
		{recordRetryParams{}, sslsdk.UpdateCertificateRecordRetryRequestParams{}},
		{recordRollbackParams{}, sslsdk.UpdateCertificateRecordRollbackRequestParams{}},
	}, [][2]any{
		{createBindTaskResponse{}, sslsdk.CreateCertificateBindResourceSyncTaskResponseParams{}},
		{certTaskID{}, sslsdk.CertTaskId{}},
		{bindTaskResultResponse{}, sslsdk.DescribeCertificateBindResourceTaskResultResponseParams{}},
		{syncTaskResult{}, sslsdk.SyncTaskBindResourceResult{}},
		{bindResourceResult{}, sslsdk.BindResourceResult{}},
		{bindRegionResult{}, sslsdk.BindResourceRegionResult{}},
		{sslError{}, sslsdk.Error{}},
		{bindTaskDetailResponse{}, sslsdk.DescribeCertificateBindResourceTaskDetailResponseParams{}},
		{bindCertificate{}, sslsdk.Certificate{}},
		{clbListenerRule{}, sslsdk.ClbListenerRule{}},
		{clbBoundListener{}, sslsdk.ClbListener{}},
		{clbInstanceDetail{}, sslsdk.ClbInstanceDetail{}},
		{regionList[clbInstanceDetail]{}, sslsdk.ClbInstanceList{}},
		{cdnInstanceDetail{}, sslsdk.CdnInstanceDetail{}},
		{globalList[cdnInstanceDetail]{}, sslsdk.CdnInstanceList{}},
		{wafInstanceDetail{}, sslsdk.WafInstanceDetail{}},
		{regionList[wafInstanceDetail]{}, sslsdk.WafInstanceList{}},
		{teoInstanceDetail{}, sslsdk.TeoInstanceDetail{}},
		{globalList[teoInstanceDetail]{}, sslsdk.TeoInstanceList{}},
		{ddosInstanceDetail{}, sslsdk.DdosInstanceDetail{}},
		{globalList[ddosInstanceDetail]{}, sslsdk.DdosInstanceList{}},
		{liveInstanceDetail{}, sslsdk.LiveInstanceDetail{}},
		{globalList[liveInstanceDetail]{}, sslsdk.LiveInstanceList{}},
		{vodInstanceDetail{}, sslsdk.VodInstanceDetail{}},
		{globalList[vodInstanceDetail]{}, sslsdk.VODInstanceList{}},
		{apiGatewayInstanceDetail{}, sslsdk.ApiGatewayInstanceDetail{}},
		{regionList[apiGatewayInstanceDetail]{}, sslsdk.ApiGatewayInstanceList{}},
		{cosInstanceDetail{}, sslsdk.CosInstanceDetail{}},
		{regionList[cosInstanceDetail]{}, sslsdk.COSInstanceList{}},
		{scfInstanceDetail{}, sslsdk.SCFInstanceDetail{}},
		{regionList[scfInstanceDetail]{}, sslsdk.SCFInstanceList{}},
		{tkeIngressDetail{}, sslsdk.TkeIngressDetail{}},
		{tkeSecretDetail{}, sslsdk.TkeSecretDetail{}},
		{tkeNamespaceDetail{}, sslsdk.TkeNameSpaceDetail{}},
		{tkeInstanceDetail{}, sslsdk.TkeInstanceDetail{}},
		{regionList[tkeInstanceDetail]{}, sslsdk.TkeInstanceList{}},
		{tcbEnvironment{}, sslsdk.TCBEnvironment{}},
		{tcbAccessInstance{}, sslsdk.TCBAccessInstance{}},
		{tcbAccessService{}, sslsdk.TCBAccessService{}},
		{tcbHostInstance{}, sslsdk.TCBHostInstance{}},
		{tcbHostService{}, sslsdk.TCBHostService{}},
		{tcbEnvironments{}, sslsdk.TCBEnvironments{}},
		{tcbInstanceList{}, sslsdk.TCBInstanceList{}},
		{gatewayCertificate{}, sslsdk.GatewayCertificate{}},
		{tseInstanceDetail{}, sslsdk.TSEInstanceDetail{}},
		{regionList[tseInstanceDetail]{}, sslsdk.TSEInstanceList{}},
		{tdmqInstanceDetail{}, sslsdk.TDMQInstanceDetail{}},
		{regionList[tdmqInstanceDetail]{}, sslsdk.TDMQInstanceList{}},
		{mqttInstanceDetail{}, sslsdk.MQTTInstanceDetail{}},
		{regionList[mqttInstanceDetail]{}, sslsdk.MQTTInstanceList{}},
		{gaapListenerDetail{}, sslsdk.GAAPListenerDetail{}},
		{gaapInstanceDetail{}, sslsdk.GAAPInstanceDetail{}},
		{globalList[gaapInstanceDetail]{}, sslsdk.GAAPInstanceList{}},
		{updateCertificateInstanceResponse{}, sslsdk.UpdateCertificateInstanceResponseParams{}},
		{updateSyncProgress{}, sslsdk.UpdateSyncProgress{}},
		{updateSyncProgressRegion{}, sslsdk.UpdateSyncProgressRegion{}},
		{hostUpdateRecordDetailResponse{}, sslsdk.DescribeHostUpdateRecordDetailResponseParams{}},
		{updateRecordDetails{}, sslsdk.UpdateRecordDetails{}},
		{updateRecordDetail{}, sslsdk.UpdateRecordDetail{}},
		{recordRollbackResponse{}, sslsdk.UpdateCertificateRecordRollbackResponseParams{}},
	})
}

func TestProductsTopologyIsChecked(t *testing.T) {
	pki := newTestPKI(t)
	old := pki.valid(t, "example.test", "*.example.test").spec("Old00001")
	tests := []struct {
		name string
		top  Topology
		want string
	}{
		{"CDN domain upper case", Topology{CDNDomains: []CDNDomainSpec{{Domain: "CDN.example.test", CertID: "Old00001"}}}, "lower-case"},
		{"CDN domain twice", Topology{CDNDomains: []CDNDomainSpec{{Domain: "a.example.test", CertID: "Old00001"}, {Domain: "a.example.test", CertID: "Old00001"}}}, "listed twice"},
		{"CDN VIP not loopback", Topology{CDNDomains: []CDNDomainSpec{{Domain: "a.example.test", CertID: "Old00001", VIP: "10.0.0.1"}}}, "not a loopback"},
		{"unknown fault", Topology{CDNDomains: []CDNDomainSpec{{Domain: "a.example.test", CertID: "Old00001", Fault: "sometimes"}}}, "fault"},
		{"CDN without certificate", Topology{CDNDomains: []CDNDomainSpec{{Domain: "a.example.test"}}}, "needs certId"},
		{"unknown certificate", Topology{CDNDomains: []CDNDomainSpec{{Domain: "a.example.test", CertID: "Nope0001"}}}, "not in Options.Certificates"},
		{"zone id", Topology{EdgeOneZones: []EdgeOneZoneSpec{{ID: "z1", Hosts: []EdgeOneHostSpec{{Host: "a.example.test", CertID: "Old00001"}}}}}, "zone-abc12345"},
		{"WAF without region", Topology{WAFDomains: []WAFDomainSpec{{Domain: "a.example.test", CertID: "Old00001"}}}, "region"},
		{"generic CDN", Topology{Resources: []ResourceSpec{{Type: "cdn", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "own topology section"},
		{"generic unknown type", Topology{Resources: []ResourceSpec{{Type: "ssl", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "not one tcsim simulates"},
		{"tke without secret", Topology{Resources: []ResourceSpec{{Type: "tke", Region: "ap-guangzhou", Namespace: "default", CertID: "Old00001"}}}, "need both"},
		{"secret on cos", Topology{Resources: []ResourceSpec{{Type: "cos", Region: "ap-guangzhou", Namespace: "a", Secret: "b", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "for tke resources"},
		{"gaap without listener", Topology{Resources: []ResourceSpec{{Type: "gaap", CertID: "Old00001"}}}, "need one"},
		{"tcb service unknown", Topology{Resources: []ResourceSpec{{Type: "tcb", Region: "ap-guangzhou", Service: "cdn", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "is not"},
		{"mqtt with domains", Topology{Resources: []ResourceSpec{{Type: "mqtt", Region: "ap-guangzhou", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "by instance"},
		{"tke secret twice", Topology{Resources: []ResourceSpec{
			{Type: "tke", Region: "ap-guangzhou", InstanceID: "cls-1", Namespace: "default", Secret: "tls", CertID: "Old00001"},
			{Type: "tke", Region: "ap-guangzhou", InstanceID: "cls-1", Namespace: "default", Secret: "tls", CertID: "Old00001"},
		}}, "listed twice"},
		{"unread list of an unknown type", Topology{UnreadLists: []ListSpec{{Type: "dns"}}}, "not one the SSL service lists"},
		{"unread regional list without region", Topology{UnreadLists: []ListSpec{{Type: "tke"}}}, "needs a Tencent Cloud region"},
		{"unread list with a region it has not", Topology{UnreadLists: []ListSpec{{Type: "cdn", Region: "ap-guangzhou"}}}, "has no region"},
		{"COS without region", Topology{Resources: []ResourceSpec{{Type: "cos", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "needs a Tencent Cloud region"},
		{"live with region", Topology{Resources: []ResourceSpec{{Type: "live", Region: "ap-guangzhou", Domains: []string{"a.example.test"}, CertID: "Old00001"}}}, "has no region"},
		{"generic without domains", Topology{Resources: []ResourceSpec{{Type: "vod", CertID: "Old00001"}}}, "at least one domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(Options{Topology: tt.top, Certificates: []CertSpec{old}})
			if err == nil {
				s.Close()
				t.Fatalf("Start accepted the topology")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// productWorld is a simulator whose old certificate for example.test sits on CLB (a listener
// and an SNI domain), two CDN domains, an EdgeOne host, a WAF domain and a COS domain, with a
// CDN domain of other.test on another certificate.
type productWorld struct {
	s        *Sim
	ssl      *sslsdk.Client
	pki      *testPKI
	old, oth testLeaf
	next     testLeaf
}

const (
	oldCertID   = "Old00001"
	otherCertID = "Other001"
)

func productTopology() Topology {
	return Topology{
		LoadBalancers: []LoadBalancerSpec{{
			ID: "lb-prod0001", Region: "ap-guangzhou",
			Listeners: []ListenerSpec{
				{ID: "lbl-plain001", Protocol: protoHTTPS, CertID: oldCertID, Rules: []RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni00001", Protocol: protoHTTPS, SNI: true, Rules: []RuleSpec{
					{Domain: "api.example.test", CertID: oldCertID}, {Domain: "other.test", CertID: otherCertID},
				}},
			},
		}},
		CDNDomains: []CDNDomainSpec{
			{Domain: "cdn.example.test", CertID: oldCertID},
			{Domain: "static.example.test", CertID: oldCertID, VIP: "127.0.0.2"},
			{Domain: "cdn.other.test", CertID: otherCertID},
		},
		EdgeOneZones: []EdgeOneZoneSpec{{ID: "zone-prod0001", Name: "example.test", Hosts: []EdgeOneHostSpec{{Host: "edge.example.test", CertID: oldCertID}}}},
		WAFDomains:   []WAFDomainSpec{{Domain: "shop.example.test", Region: "ap-shanghai", InstanceID: "waf_prod0001", CertID: oldCertID}},
		Resources:    []ResourceSpec{{Type: "cos", Region: "ap-guangzhou", InstanceID: "assets-1250000000", Domains: []string{"assets.example.test"}, CertID: oldCertID}},
	}
}

func newProductWorld(t *testing.T, opts Options) *productWorld {
	t.Helper()
	pki := newTestPKI(t)
	w := &productWorld{pki: pki, old: pki.valid(t, "example.test", "*.example.test"), oth: pki.valid(t, "other.test", "*.other.test")}
	w.next = pki.valid(t, "example.test", "*.example.test")
	if opts.Topology.LoadBalancers == nil && opts.Topology.CDNDomains == nil && opts.Topology.Resources == nil {
		opts.Topology = productTopology()
	}
	opts.Certificates = append(opts.Certificates, w.old.spec(oldCertID), w.oth.spec(otherCertID))
	w.s = startSim(t, opts)
	w.ssl = sslClient(t, w.s)
	return w
}

func (w *productWorld) bindTask(t *testing.T, cache uint64, ids ...string) []string {
	t.Helper()
	req := sslsdk.NewCreateCertificateBindResourceSyncTaskRequest()
	req.CertificateIds, req.IsCache = ptrs(ids...), ptr(cache)
	resp, err := w.ssl.CreateCertificateBindResourceSyncTask(req)
	if err != nil {
		t.Fatalf("CreateCertificateBindResourceSyncTask: %v", err)
	}
	var out []string
	for _, ct := range resp.Response.CertTaskIds {
		out = append(out, *ct.TaskId)
	}
	return out
}

func (w *productWorld) taskResult(t *testing.T, id string) *sslsdk.SyncTaskBindResourceResult {
	t.Helper()
	req := sslsdk.NewDescribeCertificateBindResourceTaskResultRequest()
	req.TaskIds = ptrs(id)
	resp, err := w.ssl.DescribeCertificateBindResourceTaskResult(req)
	if err != nil {
		t.Fatalf("DescribeCertificateBindResourceTaskResult: %v", err)
	}
	return resp.Response.SyncTaskBindResourceResult[0]
}

func (w *productWorld) taskDetail(t *testing.T, id string, limit, offset int) *sslsdk.DescribeCertificateBindResourceTaskDetailResponseParams {
	t.Helper()
	req := sslsdk.NewDescribeCertificateBindResourceTaskDetailRequest()
	req.TaskId, req.Limit, req.Offset = ptr(id), ptr(strconv.Itoa(limit)), ptr(strconv.Itoa(offset))
	resp, err := w.ssl.DescribeCertificateBindResourceTaskDetail(req)
	if err != nil {
		t.Fatalf("DescribeCertificateBindResourceTaskDetail: %v", err)
	}
	return resp.Response
}

// boundPlaces flattens a detail answer into "type region name" lines.
func boundPlaces(d *sslsdk.DescribeCertificateBindResourceTaskDetailResponseParams) []string {
	var out []string
	for _, l := range d.CLB {
		for _, in := range l.InstanceList {
			for _, li := range in.Listeners {
				if li.Certificate != nil {
					out = append(out, "clb "+*l.Region+" "+*in.LoadBalancerId+"/"+*li.ListenerId)
				}
				for _, r := range li.Rules {
					out = append(out, "clb "+*l.Region+" "+*in.LoadBalancerId+"/"+*li.ListenerId+"/"+*r.Domain)
				}
			}
		}
	}
	for _, l := range d.CDN {
		for _, in := range l.InstanceList {
			out = append(out, "cdn - "+*in.Domain)
		}
	}
	for _, l := range d.TEO {
		for _, in := range l.InstanceList {
			out = append(out, "teo - "+*in.ZoneId+"/"+*in.Host)
		}
	}
	for _, l := range d.WAF {
		for _, in := range l.InstanceList {
			out = append(out, "waf "+*l.Region+" "+*in.Domain)
		}
	}
	for _, l := range d.COS {
		for _, in := range l.InstanceList {
			out = append(out, "cos "+*l.Region+" "+*in.Bucket+"/"+*in.Domain)
		}
	}
	slices.Sort(out)
	return out
}

func TestBindResourceTask(t *testing.T) {
	w := newProductWorld(t, Options{})
	ids := w.bindTask(t, 0, oldCertID)
	if len(ids) != 1 {
		t.Fatalf("task ids %v", ids)
	}
	// A task runs until it is asked about once; a second create reuses the running task.
	if r := w.taskResult(t, ids[0]); *r.Status != bindTaskRunning {
		t.Fatalf("first look: status %d, want running", *r.Status)
	}
	if again := w.bindTask(t, 0, oldCertID); again[0] != ids[0] {
		t.Errorf("a running task was not reused: %s, then %s", ids[0], again[0])
	}
	r := w.taskResult(t, ids[0])
	if *r.Status != bindTaskDone || r.CacheTime == nil || *r.CacheTime == "" {
		t.Fatalf("second look: status %d, want done with a cache time", *r.Status)
	}
	counts := map[string]uint64{}
	for _, br := range r.BindResourceResult {
		for _, rr := range br.BindResourceRegionResult {
			counts[*br.ResourceType+" "+deref(rr.Region)] += *rr.TotalCount
		}
	}
	want := map[string]uint64{"clb ap-guangzhou": 1, "cdn ": 2, "teo ": 1, "waf ap-shanghai": 1, "cos ap-guangzhou": 1, "ddos ": 0, "live ": 0, "vod ": 0}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("count of %q = %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}

	wantPlaces := []string{
		"cdn - cdn.example.test", "cdn - static.example.test",
		"clb ap-guangzhou lb-prod0001/lbl-plain001", "clb ap-guangzhou lb-prod0001/lbl-sni00001/api.example.test",
		"cos ap-guangzhou assets-1250000000/assets.example.test", "teo - zone-prod0001/edge.example.test",
		"waf ap-shanghai shop.example.test",
	}
	if got := boundPlaces(w.taskDetail(t, ids[0], 100, 0)); !slices.Equal(got, wantPlaces) {
		t.Errorf("detail lists\n%v\nwant\n%v", got, wantPlaces)
	}
	// Limit pages each type's list: two pages of one give both CDN domains.
	p1, p2 := w.taskDetail(t, ids[0], 1, 0), w.taskDetail(t, ids[0], 1, 1)
	if len(p1.CDN[0].InstanceList) != 1 || len(p2.CDN[0].InstanceList) != 1 || *p1.CDN[0].TotalCount != 2 ||
		*p1.CDN[0].InstanceList[0].Domain == *p2.CDN[0].InstanceList[0].Domain {
		t.Errorf("paging CDN by 1: %v / %v", boundPlaces(p1), boundPlaces(p2))
	}
	// Filters by type and region.
	req := sslsdk.NewDescribeCertificateBindResourceTaskDetailRequest()
	req.TaskId, req.ResourceTypes, req.Regions = ptr(ids[0]), ptrs("waf", "clb"), ptrs("ap-shanghai")
	resp, err := w.ssl.DescribeCertificateBindResourceTaskDetail(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := boundPlaces(resp.Response); !slices.Equal(got, []string{"waf ap-shanghai shop.example.test"}) {
		t.Errorf("filtered detail %v", got)
	}

	// A change after the task ended: IsCache=1 answers the old task (stale), IsCache=0 a new one.
	if err := w.s.SetResourceFault("cdn", "cdn.example.test", FaultNone); err != nil {
		t.Fatal(err)
	}
	w.s.cloud.mu.Lock()
	w.s.cloud.findResourceLocked("cdn", "cdn.example.test").CertID = otherCertID
	w.s.cloud.mu.Unlock()
	if cached := w.bindTask(t, 1, oldCertID); cached[0] != ids[0] {
		t.Errorf("IsCache=1 within 30 minutes started task %s instead of reusing %s", cached[0], ids[0])
	}
	fresh := w.bindTask(t, 0, oldCertID)
	if fresh[0] == ids[0] {
		t.Fatalf("IsCache=0 reused task %s", ids[0])
	}
	w.taskResult(t, fresh[0])
	if got := boundPlaces(w.taskDetail(t, fresh[0], 100, 0)); slices.Contains(got, "cdn - cdn.example.test") || len(got) != len(wantPlaces)-1 {
		t.Errorf("fresh task still lists the moved CDN domain: %v", got)
	}
}

func TestBindResourceTaskCacheExpires(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newProductWorld(t, Options{Now: clock.Now, ProductTaskDelay: 2 * time.Second})
	first := w.bindTask(t, 1, oldCertID)[0]
	if r := w.taskResult(t, first); *r.Status != bindTaskRunning {
		t.Fatalf("status %d before the delay", *r.Status)
	}
	clock.Advance(2 * time.Second)
	if r := w.taskResult(t, first); *r.Status != bindTaskDone {
		t.Fatalf("status %d after the delay", *r.Status)
	}
	// The cache is answered for 30 minutes. Moving the test clock that far would break the
	// signatures, so the task's end is moved back instead.
	if again := w.bindTask(t, 1, oldCertID)[0]; again != first {
		t.Errorf("IsCache=1: new task %s, want cached %s", again, first)
	}
	w.s.cloud.mu.Lock()
	w.s.cloud.prod.bindTasks[first].doneAt = clock.Now().Add(-bindTaskCacheFor - time.Second)
	w.s.cloud.mu.Unlock()
	if later := w.bindTask(t, 1, oldCertID)[0]; later == first {
		t.Errorf("IsCache=1 answered a task that ended over 30 minutes ago")
	}
}

func TestBindResourceTaskErrors(t *testing.T) {
	w := newProductWorld(t, Options{Topology: Topology{
		CDNDomains:     []CDNDomainSpec{{Domain: "cdn.example.test", CertID: oldCertID}},
		SSLRoleMissing: true,
	}})
	create := func(ids []*string, cache *uint64) error {
		req := sslsdk.NewCreateCertificateBindResourceSyncTaskRequest()
		req.CertificateIds, req.IsCache = ids, cache
		_, err := w.ssl.CreateCertificateBindResourceSyncTask(req)
		return err
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = oldCertID
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"no ids", create(nil, nil), codeMissingParameter},
		{"unknown certificate", create(ptrs("Nope0001"), nil), codeCertNotFound},
		{"IsCache 2", create(ptrs(oldCertID), ptr(uint64(2))), codeSSLInvalidParam},
		{"101 ids", create(ptrs(many...), nil), codeSSLInvalidParam},
	} {
		if got := sdkCode(tt.err); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	res := sslsdk.NewDescribeCertificateBindResourceTaskResultRequest()
	res.TaskIds = ptrs("999")
	if _, err := w.ssl.DescribeCertificateBindResourceTaskResult(res); sdkCode(err) != codeSyncTaskIDInvalid {
		t.Errorf("unknown task: %v", err)
	}
	det := sslsdk.NewDescribeCertificateBindResourceTaskDetailRequest()
	if _, err := w.ssl.DescribeCertificateBindResourceTaskDetail(det); sdkCode(err) != codeMissingParameter {
		t.Errorf("detail without TaskId: %v", err)
	}

	// Without the SSL service's role the task fails, and its detail says why.
	id := w.bindTask(t, 0, oldCertID)[0]
	w.taskResult(t, id)
	r := w.taskResult(t, id)
	if *r.Status != bindTaskFailed || r.Error == nil || *r.Error.Code != codeRoleNotAuthorised {
		t.Fatalf("role missing: status %d error %v", *r.Status, r.Error)
	}
	det.TaskId = ptr(id)
	if _, err := w.ssl.DescribeCertificateBindResourceTaskDetail(det); sdkCode(err) != codeRoleNotAuthorised {
		t.Errorf("detail with the role missing: %v", err)
	}
	// Limit and Offset are strings of digits; a bad one is named.
	for _, tt := range []struct{ limit, offset, names string }{
		{"101", "0", "`Limit`"}, {"abc", "0", "`Limit`"}, {"10", "-1", "`Offset`"}, {"10", "1e3", "`Offset`"},
	} {
		det.Limit, det.Offset = ptr(tt.limit), ptr(tt.offset)
		_, err := w.ssl.DescribeCertificateBindResourceTaskDetail(det)
		if sdkCode(err) != codeSSLInvalidParam || !strings.Contains(fmt.Sprint(err), tt.names) {
			t.Errorf("Limit %s Offset %s: %v, want %s naming %s", tt.limit, tt.offset, err, codeSSLInvalidParam, tt.names)
		}
	}
}

func updateRequest(oldID, newID string, types ...string) *sslsdk.UpdateCertificateInstanceRequest {
	req := sslsdk.NewUpdateCertificateInstanceRequest()
	req.OldCertificateId, req.CertificateId, req.ResourceTypes = ptr(oldID), ptr(newID), ptrs(types...)
	req.ExpiringNotificationSwitch = ptr(uint64(1))
	for _, typ := range types {
		switch typ {
		case "waf":
			req.ResourceTypesRegions = append(req.ResourceTypesRegions, &sslsdk.ResourceTypeRegions{ResourceType: ptr(typ), Regions: ptrs("ap-shanghai")})
		case "clb", "cos":
			req.ResourceTypesRegions = append(req.ResourceTypesRegions, &sslsdk.ResourceTypeRegions{ResourceType: ptr(typ), Regions: ptrs("ap-guangzhou")})
		}
	}
	return req
}

// update calls UpdateCertificateInstance until it answers a record id, as the contract says.
func (w *productWorld) update(t *testing.T, req *sslsdk.UpdateCertificateInstanceRequest) (uint64, int64) {
	t.Helper()
	for range 3 {
		resp, err := w.ssl.UpdateCertificateInstance(req)
		if err != nil {
			t.Fatalf("UpdateCertificateInstance: %v", err)
		}
		if id := *resp.Response.DeployRecordId; id != 0 {
			return id, *resp.Response.DeployStatus
		}
	}
	t.Fatal("UpdateCertificateInstance answered DeployRecordId 0 three times")
	return 0, 0
}

// details is DescribeHostUpdateRecordDetail's list by "type name": its status and error.
func (w *productWorld) details(t *testing.T, id uint64) (map[string]string, *sslsdk.DescribeHostUpdateRecordDetailResponseParams) {
	t.Helper()
	req := sslsdk.NewDescribeHostUpdateRecordDetailRequest()
	req.DeployRecordId, req.Limit = ptr(strconv.FormatUint(id, 10)), ptr("200")
	resp, err := w.ssl.DescribeHostUpdateRecordDetail(req)
	if err != nil {
		t.Fatalf("DescribeHostUpdateRecordDetail: %v", err)
	}
	out := map[string]string{}
	for _, group := range resp.Response.RecordDetailList {
		for _, d := range group.List {
			name := strings.Join(derefAll(d.Domains), ",")
			if *d.ResourceType == "clb" {
				name = *d.InstanceId + "/" + *d.ListenerId + "/" + name
			}
			out[*d.ResourceType+" "+name] = strconv.FormatUint(*d.Status, 10) + deref(d.ErrorMsg)
		}
	}
	return out, resp.Response
}

// settle polls a record until no detail is pending or deploying.
func (w *productWorld) settle(t *testing.T, id uint64) map[string]string {
	t.Helper()
	for range 10 {
		got, resp := w.details(t, id)
		if *resp.PendingTotalCount == 0 && *resp.RunningTotalCount == 0 {
			return got
		}
	}
	t.Fatalf("record %d did not end in 10 polls", id)
	return nil
}

func TestUpdateCertificateInstance(t *testing.T) {
	w := newProductWorld(t, Options{})
	newID := upload(t, w.ssl, w.next, "next")
	req := updateRequest(oldCertID, newID, "cdn", "teo", "waf", "cos")

	resp, err := w.ssl.UpdateCertificateInstance(req)
	if err != nil {
		t.Fatal(err)
	}
	if *resp.Response.DeployRecordId != 0 {
		t.Fatalf("first call: record %d, want 0 (being created: call again)", *resp.Response.DeployRecordId)
	}
	id, status := w.update(t, req)
	if status != 1 {
		t.Errorf("the call that creates the record: DeployStatus %d, want 1", status)
	}
	if again, status := w.update(t, req); again != id || status != 0 {
		t.Errorf("same arguments while it runs: record %d status %d, want %d status 0", again, status, id)
	}
	other := updateRequest(oldCertID, newID, "cdn")
	if _, err := w.ssl.UpdateCertificateInstance(other); sdkCode(err) != codeDeployHasPending {
		t.Errorf("other arguments while it runs: %v", err)
	}

	// The CDN domain serves the old certificate until its detail succeeds.
	cdnAddr := w.s.ResourceAddr("cdn", "cdn.example.test")
	oldSerial := w.old.cert.SerialNumber
	if got := handshake(t, cdnAddr, "cdn.example.test", w.pki.pool()); got.SerialNumber.Cmp(oldSerial) != 0 {
		t.Fatalf("CDN serves %v before the update, want the old certificate", got.SerialNumber)
	}
	first, _ := w.details(t, id)
	for k, v := range first {
		if v != "3" {
			t.Errorf("first poll: %s is %q, want 3 (deploying)", k, v)
		}
	}
	got := w.settle(t, id)
	want := map[string]string{
		"cdn cdn.example.test": "1", "cdn static.example.test": "1", "teo edge.example.test": "1",
		"waf shop.example.test": "1", "cos assets.example.test": "1",
	}
	if !mapsEqual(got, want) {
		t.Errorf("details %v, want %v", got, want)
	}
	for _, name := range []string{"cdn.example.test", "static.example.test"} {
		if leaf := handshake(t, w.s.ResourceAddr("cdn", name), name, w.pki.pool()); leaf.SerialNumber.Cmp(w.next.cert.SerialNumber) != 0 {
			t.Errorf("CDN %s serves serial %v after the update, want the new certificate", name, leaf.SerialNumber)
		}
	}
	if leaf := handshake(t, w.s.ResourceAddr("teo", "edge.example.test"), "edge.example.test", w.pki.pool()); leaf.SerialNumber.Cmp(w.next.cert.SerialNumber) != 0 {
		t.Errorf("EdgeOne serves the old certificate after the update")
	}
	if c := w.s.ResourceCert("cdn", "cdn.other.test"); c != otherCertID {
		t.Errorf("cdn.other.test moved to %s", c)
	}
	if c := w.s.ServedCert("lb-prod0001", "lbl-plain001", "www.example.test"); c != oldCertID {
		t.Errorf("CLB was not in ResourceTypes but serves %s", c)
	}
	if !w.s.ExpiryNoticesMuted(oldCertID) {
		t.Errorf("ExpiringNotificationSwitch=1 left the old certificate's notices on")
	}
	// Nothing holds the old certificate any more: the service says so.
	if _, err := w.ssl.UpdateCertificateInstance(updateRequest(oldCertID, newID, "cdn")); sdkCode(err) != codeDeployInstanceEmpty {
		t.Errorf("update with nothing left: %v", err)
	}

	// Rollback puts every resource back, through a record of its own.
	rb := sslsdk.NewUpdateCertificateRecordRollbackRequest()
	rb.DeployRecordId = ptr(int64(id))
	rbResp, err := w.ssl.UpdateCertificateRecordRollback(rb)
	if err != nil {
		t.Fatal(err)
	}
	back := uint64(*rbResp.Response.DeployRecordId)
	if back == id {
		t.Fatalf("rollback answered the record it rolls back")
	}
	for k, v := range w.settle(t, back) {
		if v != "1" {
			t.Errorf("rollback of %s: %q", k, v)
		}
	}
	if c := w.s.ResourceCert("waf", "shop.example.test"); c != oldCertID {
		t.Errorf("WAF holds %s after the rollback", c)
	}
	for k, v := range w.settle(t, id) {
		if v != "4" {
			t.Errorf("after the rollback the original detail %s is %q, want 4", k, v)
		}
	}
	if _, err := w.ssl.UpdateCertificateRecordRollback(rb); sdkCode(err) != codeRollbackStatusInvalid {
		t.Errorf("second rollback: %v", err)
	}
}

func TestUpdateCertificateInstanceCLB(t *testing.T) {
	w := newProductWorld(t, Options{})
	newID := upload(t, w.ssl, w.next, "next")
	id, _ := w.update(t, updateRequest(oldCertID, newID, "clb"))
	got := w.settle(t, id)
	want := map[string]string{"clb lb-prod0001/lbl-plain001/": "1", "clb lb-prod0001/lbl-sni00001/api.example.test": "1"}
	if !mapsEqual(got, want) {
		t.Errorf("details %v, want %v", got, want)
	}
	if c := w.s.ServedCert("lb-prod0001", "lbl-sni00001", "api.example.test"); c != newID {
		t.Errorf("SNI domain serves %s", c)
	}
	if c := w.s.ServedCert("lb-prod0001", "lbl-sni00001", "other.test"); c != otherCertID {
		t.Errorf("other.test moved to %s", c)
	}
	if c := w.s.ResourceCert("cdn", "cdn.example.test"); c != oldCertID {
		t.Errorf("CDN moved with ResourceTypes [clb]")
	}
}

func TestUpdateCertificateInstanceFaults(t *testing.T) {
	top := productTopology()
	top.CDNDomains[0].Fault = FaultOnce
	top.CDNDomains[1].Fault = FaultAlways
	w := newProductWorld(t, Options{Topology: top})
	newID := upload(t, w.ssl, w.next, "next")
	id, _ := w.update(t, updateRequest(oldCertID, newID, "cdn", "teo"))
	got := w.settle(t, id)
	if !strings.HasPrefix(got["cdn cdn.example.test"], "2") || !strings.HasPrefix(got["cdn static.example.test"], "2") || got["teo edge.example.test"] != "1" {
		t.Fatalf("details %v: want both CDN domains failed, EdgeOne done", got)
	}
	if !strings.Contains(got["cdn static.example.test"], "injected") {
		t.Errorf("a failed detail has no ErrorMsg: %q", got["cdn static.example.test"])
	}
	if c := w.s.ResourceCert("cdn", "cdn.example.test"); c != oldCertID {
		t.Errorf("a failed detail moved the domain to %s", c)
	}
	retry := sslsdk.NewUpdateCertificateRecordRetryRequest()
	retry.DeployRecordId = ptr(int64(id))
	if _, err := w.ssl.UpdateCertificateRecordRetry(retry); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ssl.UpdateCertificateRecordRetry(retry); sdkCode(err) != codeDeployHasPending {
		t.Errorf("retry while the retry runs: %v", err)
	}
	got = w.settle(t, id)
	if got["cdn cdn.example.test"] != "1" || !strings.HasPrefix(got["cdn static.example.test"], "2") {
		t.Fatalf("after the retry: %v; want the fail-once domain done, the fail-always one failed", got)
	}
	// Retrying one detail by its id, after the fault is cleared.
	if err := w.s.SetResourceFault("cdn", "static.example.test", FaultNone); err != nil {
		t.Fatal(err)
	}
	_, resp := w.details(t, id)
	var failedID uint64
	for _, g := range resp.RecordDetailList {
		for _, d := range g.List {
			if *d.Status == detailFailed {
				failedID = *d.Id
			}
		}
	}
	one := sslsdk.NewUpdateCertificateRecordRetryRequest()
	one.DeployRecordDetailId = ptr(int64(failedID))
	if _, err := w.ssl.UpdateCertificateRecordRetry(one); err != nil {
		t.Fatal(err)
	}
	if got := w.settle(t, id); got["cdn static.example.test"] != "1" {
		t.Errorf("detail retry: %v", got)
	}
	if _, err := w.ssl.UpdateCertificateRecordRetry(retry); sdkCode(err) != codeRetryStatusInvalid {
		t.Errorf("retry with nothing failed: %v", err)
	}
}

func TestUpdateCertificateInstanceErrors(t *testing.T) {
	w := newProductWorld(t, Options{})
	newID := upload(t, w.ssl, w.next, "next")
	noRegions := updateRequest(oldCertID, newID, "cdn")
	noRegions.ResourceTypes = ptrs("cdn", "waf")
	badType := updateRequest(oldCertID, newID, "cdn")
	badType.ResourceTypes = ptrs("cdn", "ftp")
	noTypes := updateRequest(oldCertID, newID)
	both := updateRequest(oldCertID, newID, "cdn")
	both.CertificatePublicKey, both.CertificatePrivateKey = ptr(w.next.fullchain), ptr(w.next.keyPEM)
	neither := updateRequest(oldCertID, newID, "cdn")
	neither.CertificateId = nil
	regionsOfCDN := updateRequest(oldCertID, newID, "cdn")
	regionsOfCDN.ResourceTypesRegions = []*sslsdk.ResourceTypeRegions{{ResourceType: ptr("cdn"), Regions: ptrs("ap-guangzhou")}}
	muteTwo := updateRequest(oldCertID, newID, "cdn")
	muteTwo.ExpiringNotificationSwitch = ptr(uint64(2))
	noOld := updateRequest(oldCertID, newID, "cdn")
	noOld.OldCertificateId = nil
	for _, tt := range []struct {
		name string
		req  *sslsdk.UpdateCertificateInstanceRequest
		want string
	}{
		{"regional type without regions", noRegions, codeWithDetailReason},
		{"unknown type", badType, codeHostResourceTypeInvalid},
		{"no types", noTypes, codeMissingParameter},
		{"id and PEMs", both, codeWithDetailReason},
		{"neither id nor PEMs", neither, codeMissingParameter},
		{"regions of a type without", regionsOfCDN, codeWithDetailReason},
		{"switch 2", muteTwo, codeSSLInvalidParam},
		{"no old id", noOld, codeMissingParameter},
		{"unknown old", updateRequest("Nope0001", newID, "cdn"), codeCertNotFound},
		{"unknown new", updateRequest(oldCertID, "Nope0001", "cdn"), codeCertNotFound},
		{"old is new", updateRequest(oldCertID, oldCertID, "cdn"), codeSSLInvalidParam},
		{"nothing of the types holds it", updateRequest(oldCertID, newID, "live"), codeDeployInstanceEmpty},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.ssl.UpdateCertificateInstance(tt.req); sdkCode(err) != tt.want {
				t.Errorf("%v, want %s", err, tt.want)
			}
		})
	}
	w.s.SetSSLRole(false)
	if _, err := w.ssl.UpdateCertificateInstance(updateRequest(oldCertID, newID, "cdn")); sdkCode(err) != codeRoleNotAuthorised {
		t.Errorf("role missing: %v", err)
	}
	w.s.SetSSLRole(true)

	detail := sslsdk.NewDescribeHostUpdateRecordDetailRequest()
	detail.DeployRecordId = ptr("12345")
	if _, err := w.ssl.DescribeHostUpdateRecordDetail(detail); sdkCode(err) != codeDeployNotExist {
		t.Errorf("unknown record: %v", err)
	}
	detail.DeployRecordId = ptr("abc")
	if _, err := w.ssl.DescribeHostUpdateRecordDetail(detail); sdkCode(err) != codeSSLInvalidParam {
		t.Errorf("record id abc: %v", err)
	}
	if _, err := w.ssl.UpdateCertificateRecordRetry(sslsdk.NewUpdateCertificateRecordRetryRequest()); sdkCode(err) != codeMissingParameter {
		t.Errorf("retry without ids: %v", err)
	}
	// A certificate a CDN domain holds cannot be deleted.
	del := sslsdk.NewDeleteCertificateRequest()
	del.CertificateId = ptr(otherCertID)
	if _, err := w.ssl.DeleteCertificate(del); sdkCode(err) != codeDeleteResource {
		t.Errorf("deleting a certificate CDN holds: %v", err)
	}
}

// DeleteCertificate's refusal names what holds the certificate, whichever product it is.
func TestDeleteCertificateNamesProductHolders(t *testing.T) {
	w := newProductWorld(t, Options{Topology: Topology{
		CDNDomains: []CDNDomainSpec{{Domain: "cdn.example.test", CertID: oldCertID}},
		Resources:  []ResourceSpec{{Type: "live", Domains: []string{"live.example.test"}, CertID: oldCertID}},
	}})
	del := sslsdk.NewDeleteCertificateRequest()
	del.CertificateId = ptr(oldCertID)
	_, err := w.ssl.DeleteCertificate(del)
	if sdkCode(err) != codeDeleteResource {
		t.Fatalf("deleting a certificate CDN holds: %v", err)
	}
	for _, want := range []string{"cdn cdn.example.test", "live live.example.test"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %s", err, want)
		}
	}
}

func TestUpdateCertificateInstanceInline(t *testing.T) {
	w := newProductWorld(t, Options{})
	req := updateRequest(oldCertID, "", "cdn")
	req.CertificateId, req.CertificatePublicKey, req.CertificatePrivateKey = nil, ptr(w.next.fullchain), ptr(w.next.keyPEM)
	before := w.s.UploadCount()
	id, _ := w.update(t, req)
	w.settle(t, id)
	newID := w.s.ResourceCert("cdn", "cdn.example.test")
	if newID == oldCertID || w.s.UploadCount() != before+1 {
		t.Errorf("inline PEMs: CDN holds %s, %d uploads (was %d)", newID, w.s.UploadCount(), before)
	}
}

func TestUpdateDetailsMoveWithTime(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newProductWorld(t, Options{Now: clock.Now, ProductTaskDelay: 5 * time.Second})
	newID := upload(t, w.ssl, w.next, "next")
	id, _ := w.update(t, updateRequest(oldCertID, newID, "cdn"))
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "0"}, {4 * time.Second, "0"}, {time.Second, "3"}, {5 * time.Second, "1"}} {
		clock.Advance(step.advance)
		got, _ := w.details(t, id)
		if got["cdn cdn.example.test"] != step.want {
			t.Fatalf("after +%s: %v, want %s", step.advance, got, step.want)
		}
	}
	// The data plane sees the change without anyone polling the record.
	clock2 := clocktest.New(time.Now())
	w2 := newProductWorld(t, Options{Now: clock2.Now, ProductTaskDelay: 5 * time.Second})
	next2 := upload(t, w2.ssl, w2.next, "next")
	w2.update(t, updateRequest(oldCertID, next2, "cdn"))
	clock2.Advance(10 * time.Second)
	if leaf := handshake(t, w2.s.ResourceAddr("cdn", "cdn.example.test"), "cdn.example.test", w2.pki.pool()); leaf.SerialNumber.Cmp(w2.next.cert.SerialNumber) != 0 {
		t.Errorf("CDN serves the old certificate once the detail's time has passed")
	}
}

// A CLB listener and SNI domain an update moves serve the new certificate, and the old one
// can be deleted, once the details' time has passed: no one has to poll the record.
func TestUpdateOfCLBMovesWithTime(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newProductWorld(t, Options{Now: clock.Now, ProductTaskDelay: 5 * time.Second})
	newID := upload(t, w.ssl, w.next, "next")
	w.update(t, updateRequest(oldCertID, newID, "clb", "cdn", "teo", "waf", "cos"))
	clock.Advance(10 * time.Second)
	for _, at := range [][3]string{{"lb-prod0001", "lbl-plain001", ""}, {"lb-prod0001", "lbl-sni00001", "api.example.test"}} {
		if got := w.s.ServedCert(at[0], at[1], at[2]); got != newID {
			t.Errorf("%s/%s %s serves %s once the detail's time has passed, want %s", at[0], at[1], at[2], got, newID)
		}
	}
	if leaf := handshake(t, w.s.ListenerAddr("lb-prod0001", "lbl-plain001"), "www.example.test", w.pki.pool()); leaf.SerialNumber.Cmp(w.next.cert.SerialNumber) != 0 {
		t.Errorf("the listener's handshake gets the old certificate once the detail's time has passed")
	}
	req := sslsdk.NewDeleteCertificateRequest()
	req.CertificateId = ptr(oldCertID)
	if _, err := w.ssl.DeleteCertificate(req); err != nil {
		t.Errorf("DeleteCertificate of the certificate the update moved every resource off: %v", err)
	}
}

func TestProductDataPlane(t *testing.T) {
	w := newProductWorld(t, Options{})
	addr := w.s.ResourceAddr("cdn", "static.example.test")
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.2" {
		t.Errorf("static.example.test serves on %s, want its VIP 127.0.0.2", addr)
	}
	if a, b := w.s.ResourceAddr("cdn", "cdn.example.test"), w.s.ResourceAddr("cdn", "cdn.other.test"); a == b || a == "" {
		t.Errorf("CDN domains share address %s", a)
	}
	if w.s.ResourceAddr("waf", "shop.example.test") != "" {
		t.Errorf("a WAF domain has a data plane address")
	}
	for _, sni := range []string{"", "other.test", "www.example.test"} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
			t.Errorf("SNI %q: a handshake for a name the domain does not serve succeeded", sni)
		}
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "static.example.test", RootCAs: w.pki.pool()}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "cdn static.example.test") {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
}

func ptrs(s ...string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		out[i] = ptr(s[i])
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// instanceTopology puts the old certificate on a resource of each type the SSL service lists
// by cluster, environment, gateway or instance; a second tke secret and a gaap listener hold
// the other certificate, which the old certificate's task must not list.
func instanceTopology() Topology {
	return Topology{Resources: []ResourceSpec{
		{Type: "tke", Region: "ap-guangzhou", InstanceID: "cls-prod0001", Namespace: "web", Secret: "www-tls", Domains: []string{"www.example.test"}, CertID: oldCertID},
		{Type: "tke", Region: "ap-guangzhou", InstanceID: "cls-prod0001", Namespace: "web", Secret: "other-tls", CertID: otherCertID},
		{Type: "tcb", Region: "ap-shanghai", InstanceID: "env-prod0001", Domains: []string{"app.example.test"}, CertID: oldCertID},
		{Type: "tcb", Region: "ap-shanghai", InstanceID: "env-prod0001", Service: "host", Domains: []string{"static.example.test"}, CertID: oldCertID},
		{Type: "tse", Region: "ap-guangzhou", InstanceID: "gateway-prod0001", Domains: []string{"gw.example.test"}, CertID: oldCertID},
		{Type: "tdmq", Region: "ap-guangzhou", InstanceID: "amqp-prod0001", CertID: oldCertID},
		{Type: "mqtt", Region: "ap-beijing", InstanceID: "mqtt-prod0001", CertID: oldCertID},
		{Type: "gaap", InstanceID: "link-prod0001", Listener: "listener-a", CertID: oldCertID},
		{Type: "gaap", InstanceID: "link-prod0001", Listener: "listener-b", CertID: otherCertID},
	}}
}

func TestBindResourceTaskInstanceTypes(t *testing.T) {
	w := newProductWorld(t, Options{Topology: instanceTopology()})
	id := w.bindTask(t, 0, oldCertID)[0]
	w.taskResult(t, id)
	d := w.taskDetail(t, id, 100, 0)
	var got []string
	for _, l := range d.TKE {
		for _, c := range l.InstanceList {
			for _, ns := range c.NamespaceList {
				for _, s := range ns.SecretList {
					got = append(got, "tke "+*l.Region+" "+*c.ClusterId+"/"+*ns.Name+"/"+*s.Name+" "+*s.CertId+" "+strings.Join(derefAll(s.IngressList[0].TlsDomains), ","))
				}
			}
		}
	}
	for _, l := range d.TCB {
		for _, e := range l.Environments {
			for _, in := range e.AccessService.InstanceList {
				got = append(got, "tcb "+*l.Region+" "+*e.Environment.ID+" access "+*in.Domain)
			}
			for _, in := range e.HostService.InstanceList {
				got = append(got, "tcb "+*l.Region+" "+*e.Environment.ID+" host "+*in.Domain)
			}
		}
	}
	for _, l := range d.TSE {
		for _, g := range l.InstanceList {
			for _, c := range g.CertificateList {
				got = append(got, "tse "+*l.Region+" "+*g.GatewayId+" "+*c.CertId+" "+strings.Join(derefAll(c.BindDomains), ","))
			}
		}
	}
	for _, l := range d.TDMQ {
		for _, in := range l.InstanceList {
			got = append(got, "tdmq "+*l.Region+" "+*in.InstanceId+" "+*in.CertId)
		}
	}
	for _, l := range d.MQTT {
		for _, in := range l.InstanceList {
			got = append(got, "mqtt "+*l.Region+" "+*in.InstanceId+" "+strings.Join(derefAll(in.ServerCertIdList), ","))
		}
	}
	for _, l := range d.GAAP {
		for _, in := range l.InstanceList {
			for _, li := range in.ListenerList {
				got = append(got, "gaap "+*in.InstanceId+"/"+*li.ListenerId+" "+strings.Join(derefAll(li.CertIdList), ","))
			}
		}
	}
	slices.Sort(got)
	want := []string{
		"gaap link-prod0001/listener-a " + oldCertID,
		"mqtt ap-beijing mqtt-prod0001 " + oldCertID,
		"tcb ap-shanghai env-prod0001 access app.example.test",
		"tcb ap-shanghai env-prod0001 host static.example.test",
		"tdmq ap-guangzhou amqp-prod0001 " + oldCertID,
		"tke ap-guangzhou cls-prod0001/web/www-tls " + oldCertID + " www.example.test",
		"tse ap-guangzhou gateway-prod0001 " + oldCertID + " gw.example.test",
	}
	if !slices.Equal(got, want) {
		t.Errorf("detail lists\n%v\nwant\n%v", got, want)
	}
	if len(d.TCB) != 1 || len(d.TCB[0].Environments) != 1 || len(d.TKE[0].InstanceList) != 1 {
		t.Errorf("one environment and one cluster are listed once each: %d tcb lists, tke %d clusters", len(d.TCB), len(d.TKE[0].InstanceList))
	}

	// Both secrets of the cluster hold their certificates: the other task lists the second.
	other := w.bindTask(t, 0, otherCertID)[0]
	w.taskResult(t, other)
	if od := w.taskDetail(t, other, 100, 0); len(od.TKE) != 1 || *od.TKE[0].InstanceList[0].NamespaceList[0].SecretList[0].Name != "other-tls" {
		t.Errorf("the other certificate's task lists tke %+v", od.TKE)
	}

	// The update moves them and its details name the secret, the listener and the environment.
	newID := upload(t, w.ssl, w.next, "next")
	req := sslsdk.NewUpdateCertificateInstanceRequest()
	req.OldCertificateId, req.CertificateId, req.ResourceTypes = ptr(oldCertID), ptr(newID), ptrs("tke", "gaap", "tcb")
	req.ResourceTypesRegions = []*sslsdk.ResourceTypeRegions{
		{ResourceType: ptr("tke"), Regions: ptrs("ap-guangzhou")}, {ResourceType: ptr("tcb"), Regions: ptrs("ap-shanghai")},
	}
	rec, _ := w.update(t, req)
	w.settle(t, rec)
	_, resp := w.details(t, rec)
	var named []string
	for _, g := range resp.RecordDetailList {
		for _, det := range g.List {
			named = append(named, *det.ResourceType+" "+deref(det.InstanceId)+" "+deref(det.Namespace)+"/"+deref(det.SecretName)+" "+deref(det.ListenerId)+" "+deref(det.EnvId)+" "+deref(det.TCBType))
		}
	}
	slices.Sort(named)
	wantNamed := []string{
		"gaap link-prod0001 / listener-a  ",
		"tcb env-prod0001 /  env-prod0001 access",
		"tcb env-prod0001 /  env-prod0001 host",
		"tke cls-prod0001 web/www-tls   ",
	}
	if !slices.Equal(named, wantNamed) {
		t.Errorf("record details\n%q\nwant\n%q", named, wantNamed)
	}
	if got := w.s.ResourceCert("gaap", "link-prod0001"); got != newID {
		t.Errorf("gaap holds %s after the update, want %s", got, newID)
	}
}

func TestBindResourceTaskUnreadList(t *testing.T) {
	top := instanceTopology()
	top.CDNDomains = []CDNDomainSpec{{Domain: "cdn.example.test", CertID: oldCertID}}
	top.UnreadLists = []ListSpec{{Type: "tke", Region: "ap-guangzhou"}, {Type: "tke", Region: "ap-hongkong"}, {Type: "cdn"}}
	w := newProductWorld(t, Options{Topology: top})
	id := w.bindTask(t, 0, oldCertID)[0]
	w.taskResult(t, id)
	d := w.taskDetail(t, id, 100, 0)
	var tke []string
	for _, l := range d.TKE {
		tke = append(tke, fmt.Sprintf("%s %d %d %v", *l.Region, len(l.InstanceList), *l.TotalCount, l.Error != nil && *l.Error != ""))
	}
	slices.Sort(tke)
	if want := []string{"ap-guangzhou 0 0 true", "ap-hongkong 0 0 true"}; !slices.Equal(tke, want) {
		t.Errorf("tke lists %v, want %v", tke, want)
	}
	if len(d.CDN) != 1 || d.CDN[0].Error == nil || len(d.CDN[0].InstanceList) != 0 {
		t.Errorf("cdn lists %+v, want one with Error and no domains", d.CDN)
	}
	if len(d.MQTT) != 1 || d.MQTT[0].Error != nil || len(d.MQTT[0].InstanceList) != 1 {
		t.Errorf("mqtt, which reads, lists %+v", d.MQTT)
	}
	// A region filter keeps only the unread lists of its regions; a fixed list reads again.
	req := sslsdk.NewDescribeCertificateBindResourceTaskDetailRequest()
	req.TaskId, req.Regions = ptr(id), ptrs("ap-hongkong")
	resp, err := w.ssl.DescribeCertificateBindResourceTaskDetail(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Response.TKE) != 1 || *resp.Response.TKE[0].Region != "ap-hongkong" {
		t.Errorf("tke lists in ap-hongkong: %+v", resp.Response.TKE)
	}
	if err := w.s.SetListUnread("tke", "ap-guangzhou", false); err != nil {
		t.Fatal(err)
	}
	if err := w.s.SetListUnread("tke", "", true); err == nil {
		t.Error("SetListUnread took a tke list without a region")
	}
	fresh := w.bindTask(t, 0, oldCertID)[0]
	w.taskResult(t, fresh)
	for _, l := range w.taskDetail(t, fresh, 100, 0).TKE {
		if *l.Region == "ap-guangzhou" && (l.Error != nil || len(l.InstanceList) != 1) {
			t.Errorf("tke ap-guangzhou after the fix: error %v, %d clusters", deref(l.Error), len(l.InstanceList))
		}
	}
}
