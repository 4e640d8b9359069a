package ssl_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/internal/clocktest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

const (
	oldID   = "Old00001"
	newID   = "New00001"
	otherID = "Oth00001"
	thirdID = "Thr00001"
)

// topology: the old certificate on a CLB listener and SNI domain, two CDN domains, an EdgeOne
// host, a WAF domain and a COS domain; other.test's certificate on a CDN domain of its own.
func topology() tcsim.Topology {
	return tcsim.Topology{
		LoadBalancers: []tcsim.LoadBalancerSpec{{
			ID: "lb-ssl00001", Region: "ap-guangzhou",
			Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-plain001", Protocol: "HTTPS", CertID: oldID, Rules: []tcsim.RuleSpec{{Domain: "www.example.test"}}},
				{ID: "lbl-sni00001", Protocol: "HTTPS", SNI: true, Rules: []tcsim.RuleSpec{{Domain: "api.example.test", CertID: oldID}}},
			},
		}},
		CDNDomains: []tcsim.CDNDomainSpec{
			{Domain: "cdn.example.test", CertID: oldID},
			{Domain: "static.example.test", CertID: oldID},
			{Domain: "cdn.other.test", CertID: otherID},
		},
		EdgeOneZones: []tcsim.EdgeOneZoneSpec{{ID: "zone-ssl00001", Hosts: []tcsim.EdgeOneHostSpec{{Host: "edge.example.test", CertID: oldID}}}},
		WAFDomains:   []tcsim.WAFDomainSpec{{Domain: "shop.example.test", Region: "ap-shanghai", CertID: oldID}},
		Resources:    []tcsim.ResourceSpec{{Type: "cos", Region: "ap-guangzhou", InstanceID: "assets-1250000000", Domains: []string{"assets.example.test"}, CertID: oldID}},
	}
}

type world struct {
	sim    *tcsim.Sim
	clock  *clocktest.Clock
	client *ssl.Client
}

func newWorld(t *testing.T, top tcsim.Topology) *world {
	t.Helper()
	// The clock of both the client's polling and the simulator: the SSL service's
	// records advance exactly as far as the client waited.
	clock := clocktest.New(time.Now())
	sim := simtest.Start(t, tcsim.Options{
		Topology: top, Now: clock.Now, ProductTaskDelay: 3 * time.Second,
		Certificates: []tcsim.CertSpec{
			simtest.HandUploaded(t, oldID, "good-ecdsa", "example.test"),
			simtest.HandUploaded(t, newID, "good-ecdsa-2", "example.test"),
			simtest.HandUploaded(t, otherID, "other", "other.test"),
			simtest.HandUploaded(t, thirdID, "good-rsa", "example.test"),
		},
	})
	client, err := ssl.New(simtest.Config(t, sim), ssl.Options{Poll: time.Second, MaxPoll: 4 * time.Second, Timeout: time.Minute, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return &world{sim: sim, clock: clock, client: client}
}

func names(rs []ssl.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String()+" @"+r.CertID)
	}
	slices.Sort(out)
	return out
}

func TestBindings(t *testing.T) {
	w := newWorld(t, topology())
	got, err := w.client.Bindings(context.Background(), []string{oldID, otherID})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"cdn cdn.example.test @Old00001", "cdn cdn.other.test @Oth00001", "cdn static.example.test @Old00001",
		"clb ap-guangzhou lb-ssl00001/lbl-plain001 @Old00001", "clb ap-guangzhou lb-ssl00001/lbl-sni00001/api.example.test @Old00001",
		"cos ap-guangzhou assets-1250000000/assets.example.test @Old00001",
		"teo zone-ssl00001/edge.example.test @Old00001", "waf ap-shanghai shop.example.test @Old00001",
	}
	if n := names(got); !slices.Equal(n, want) {
		t.Errorf("Bindings:\n%s\nwant\n%s", strings.Join(n, "\n"), strings.Join(want, "\n"))
	}
	if w.sim.Calls("DescribeCertificateBindResourceTaskResult") < 2 {
		t.Errorf("the task was read before it ended: %d looks", w.sim.Calls("DescribeCertificateBindResourceTaskResult"))
	}
}

// A certificate on more resources than a detail page holds is listed in full, whether its
// product's list names domains (vod) or instances (tke).
func TestBindingsPages(t *testing.T) {
	for _, tt := range []struct {
		typ      string
		resource func(i int) tcsim.ResourceSpec
	}{
		{"vod", func(i int) tcsim.ResourceSpec {
			return tcsim.ResourceSpec{Type: "vod", Domains: []string{fmt.Sprintf("v%d.example.test", i)}, CertID: oldID}
		}},
		{"tke", func(i int) tcsim.ResourceSpec {
			return tcsim.ResourceSpec{Type: "tke", Region: "ap-guangzhou", InstanceID: fmt.Sprintf("cls-%08d", i), Namespace: "web", Secret: "tls", CertID: oldID}
		}},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			top := tcsim.Topology{}
			for i := range 130 {
				top.Resources = append(top.Resources, tt.resource(i))
			}
			w := newWorld(t, top)
			got, err := w.client.Bindings(context.Background(), []string{oldID})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 130 {
				t.Fatalf("%d resources, want 130", len(got))
			}
			if w.sim.Calls("DescribeCertificateBindResourceTaskDetail") != 2 {
				t.Errorf("%d detail pages, want 2", w.sim.Calls("DescribeCertificateBindResourceTaskDetail"))
			}
		})
	}
}

// others are the bindings of the old certificate that are not on CLB.
func others(t *testing.T, w *world) []ssl.Resource {
	t.Helper()
	all, err := w.client.Bindings(context.Background(), []string{oldID})
	if err != nil {
		t.Fatal(err)
	}
	var out []ssl.Resource
	for _, r := range all {
		if r.Type != "clb" {
			out = append(out, r)
		}
	}
	if len(out) != 5 {
		t.Fatalf("%d resources besides CLB: %v", len(out), names(out))
	}
	return out
}

func statuses(out []ssl.Outcome) map[string]string {
	m := map[string]string{}
	for _, o := range out {
		m[o.Resource.String()] = string(o.Status) + o.Error
		if o.Before != oldID {
			m[o.Resource.String()] += " before " + o.Before
		}
	}
	return m
}

func wantAll(t *testing.T, out []ssl.Outcome, status ssl.Status, n int) {
	t.Helper()
	if len(out) != n {
		t.Errorf("%d outcomes, want %d: %v", len(out), n, statuses(out))
	}
	for k, v := range statuses(out) {
		if v != string(status) {
			t.Errorf("%s: %s, want %s", k, v, status)
		}
	}
}

func TestMoveAcrossTypes(t *testing.T) {
	w := newWorld(t, topology())
	out, err := w.client.Move(context.Background(), oldID, newID, others(t, w))
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, out, ssl.StatusMoved, 5)
	for _, r := range w.sim.Resources() {
		want := newID
		if r.Domains[0] == "cdn.other.test" {
			want = otherID
		}
		if r.CertID != want {
			t.Errorf("%s %s holds %s, want %s", r.Type, r.Domains[0], r.CertID, want)
		}
	}
	if got := w.sim.ServedCert("lb-ssl00001", "lbl-plain001", "www.example.test"); got != oldID {
		t.Errorf("CLB moved too: %s", got)
	}
	if !w.sim.ExpiryNoticesMuted(oldID) {
		t.Error("the old certificate's expiry notices are still on")
	}
	newLeaf := lineage.Fingerprint(simtest.Lineage(t, "good-ecdsa-2", "example.test").Leaf.Raw)
	for _, site := range [][2]string{{"cdn", "cdn.example.test"}, {"cdn", "static.example.test"}, {"teo", "edge.example.test"}} {
		if got := simtest.ServedLeaf(t, w.sim.ResourceAddr(site[0], site[1]), site[1]); got != newLeaf {
			t.Errorf("%s %s serves another leaf than the new certificate's", site[0], site[1])
		}
	}
	if w.sim.Calls("UpdateCertificateRecordRetry") != 0 {
		t.Errorf("nothing failed, but a retry was asked for")
	}
	var slept time.Duration
	for _, d := range w.clock.Slept() {
		slept += d
	}
	if slept > 2*time.Minute {
		t.Errorf("polling took %s of the clock", slept)
	}

	// Nothing to move is no call at all.
	again, err := w.client.Move(context.Background(), oldID, newID, nil)
	if err != nil || again != nil {
		t.Fatalf("moving nothing: %v %v", again, err)
	}
}

// A second run with the resources found before the first: they are already there.
func TestMoveAlreadyThere(t *testing.T) {
	w := newWorld(t, topology())
	rs := others(t, w)
	if _, err := w.client.Move(context.Background(), oldID, newID, rs); err != nil {
		t.Fatal(err)
	}
	out, err := w.client.Move(context.Background(), oldID, newID, rs)
	if err != nil {
		t.Fatalf("the second run failed: %v", err)
	}
	wantAll(t, out, ssl.StatusAlready, 5)
}

func TestMoveRetriesFailOnce(t *testing.T) {
	top := topology()
	top.CDNDomains[0].Fault = tcsim.FaultOnce
	w := newWorld(t, top)
	out, err := w.client.Move(context.Background(), oldID, newID, others(t, w))
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, out, ssl.StatusMoved, 5)
	if n := w.sim.Calls("UpdateCertificateRecordRetry"); n != 1 {
		t.Errorf("%d retries, want 1", n)
	}
	if n := w.sim.UploadCount(); n != 0 {
		t.Errorf("%d uploads: a move must use the certificate by id", n)
	}
}

func TestMoveReportsFailAlways(t *testing.T) {
	top := topology()
	top.CDNDomains[1].Fault = tcsim.FaultAlways
	w := newWorld(t, top)
	rs := others(t, w)
	out, err := w.client.Move(context.Background(), oldID, newID, rs)
	var me *ssl.MoveError
	if !errors.As(err, &me) || len(me.Failed) != 1 || me.Failed[0].Resource.Domain != "static.example.test" {
		t.Fatalf("err = %v, want a MoveError naming static.example.test", err)
	}
	for _, want := range []string{"cdn static.example.test", "injected failure", oldID, "run again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	st := statuses(out)
	if st["cdn cdn.example.test"] != "moved" || !strings.HasPrefix(st["cdn static.example.test"], "failed") {
		t.Errorf("outcomes %v", st)
	}
	if n := w.sim.Calls("UpdateCertificateRecordRetry"); n != 1 {
		t.Errorf("%d retries, want exactly 1", n)
	}

	// Once the fault clears, a run with what still holds the old certificate finishes it.
	if err := w.sim.SetResourceFault("cdn", "static.example.test", tcsim.FaultNone); err != nil {
		t.Fatal(err)
	}
	left, err := w.client.Bindings(context.Background(), []string{oldID})
	if err != nil {
		t.Fatal(err)
	}
	var rest []ssl.Resource
	for _, r := range left {
		if r.Type != "clb" {
			rest = append(rest, r)
		}
	}
	if n := names(rest); !slices.Equal(n, []string{"cdn static.example.test @Old00001"}) {
		t.Fatalf("after the first run the old certificate is on %v", n)
	}
	out, err = w.client.Move(context.Background(), oldID, newID, rest)
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, out, ssl.StatusMoved, 1)
	if got := w.sim.ResourceCert("cdn", "static.example.test"); got != newID {
		t.Errorf("static.example.test holds %s", got)
	}
}

func TestRoleMissing(t *testing.T) {
	top := topology()
	top.SSLRoleMissing = true
	w := newWorld(t, top)
	_, err := w.client.Bindings(context.Background(), []string{oldID})
	for _, want := range []string{ssl.RoleName, "CAM", "RoleNotFoundAuthorization", oldID} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Bindings: %v; want it to say %q", err, want)
		}
	}
	rs := []ssl.Resource{{Type: "cdn", Domain: "cdn.example.test", CertID: oldID}}
	_, err = w.client.Move(context.Background(), oldID, newID, rs)
	if err == nil || !strings.Contains(err.Error(), ssl.RoleName) || !strings.Contains(err.Error(), "authorisation") {
		t.Errorf("Move: %v", err)
	}
	if got := w.sim.ResourceCert("cdn", "cdn.example.test"); got != oldID {
		t.Errorf("the CDN domain moved without the role: %s", got)
	}
}

// startUpdate creates a record through the SDK the way another client would.
func startUpdate(t *testing.T, w *world, newCert string, typ string) {
	t.Helper()
	cfg := simtest.Config(t, w.sim)
	api := simtest.SSL(t, cfg)
	req := sslsdk.NewUpdateCertificateInstanceRequest()
	req.OldCertificateId, req.CertificateId, req.ResourceTypes = common.StringPtr(oldID), common.StringPtr(newCert), common.StringPtrs([]string{typ})
	req.ExpiringNotificationSwitch = common.Uint64Ptr(1)
	for range 2 {
		resp, err := api.UpdateCertificateInstance(req)
		if err != nil {
			t.Fatal(err)
		}
		if *resp.Response.DeployRecordId != 0 {
			return
		}
	}
	t.Fatal("no record after two calls")
}

// The same update started by another client is followed, not refused.
func TestMoveFollowsARunningUpdate(t *testing.T) {
	top := topology()
	top.WAFDomains, top.Resources, top.EdgeOneZones = nil, nil, nil
	w := newWorld(t, top)
	rs := []ssl.Resource{{Type: "cdn", Domain: "cdn.example.test", CertID: oldID}, {Type: "cdn", Domain: "static.example.test", CertID: oldID}}
	startUpdate(t, w, newID, "cdn")
	out, err := w.client.Move(context.Background(), oldID, newID, rs)
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, out, ssl.StatusMoved, 2)
	if n := w.sim.Calls("UpdateCertificateInstance"); n != 3 {
		t.Errorf("%d UpdateCertificateInstance calls, want 3 (two by the other client, one answered with its record)", n)
	}
}

// Another update of the old certificate is waited for; what it moved to our certificate is
// already there, what it moved elsewhere is reported.
func TestMoveWaitsForAnotherUpdate(t *testing.T) {
	w := newWorld(t, topology())
	rs := others(t, w)
	startUpdate(t, w, newID, "teo")
	out, err := w.client.Move(context.Background(), oldID, newID, rs)
	if err != nil {
		t.Fatal(err)
	}
	st := statuses(out)
	if st["teo zone-ssl00001/edge.example.test"] != "already" || st["cdn cdn.example.test"] != "moved" || len(st) != 5 {
		t.Errorf("outcomes %v", st)
	}

	w2 := newWorld(t, topology())
	rs2 := others(t, w2)
	startUpdate(t, w2, thirdID, "cdn")
	_, err = w2.client.Move(context.Background(), oldID, newID, rs2)
	var me *ssl.MoveError
	if !errors.As(err, &me) || len(me.Failed) != 2 || !strings.Contains(err.Error(), "neither the old nor the new") {
		t.Fatalf("CDN moved to a third certificate by someone else: %v", err)
	}
}

func TestMoveGivesUpOnAnUpdateThatDoesNotEnd(t *testing.T) {
	w := newWorld(t, topology())
	client, err := ssl.New(simtest.Config(t, w.sim), ssl.Options{Poll: time.Second, Timeout: 2 * time.Second, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	startUpdate(t, w, thirdID, "cdn")
	_, err = client.Move(context.Background(), oldID, newID, []ssl.Resource{{Type: "teo", Domain: "edge.example.test"}})
	if err == nil || !strings.Contains(err.Error(), "another update of certificate "+oldID) || !strings.Contains(err.Error(), "deploy records") {
		t.Fatalf("err = %v", err)
	}
}
