package ssl_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// Each type the SSL service lists is found, in its own shape; what holds another certificate
// in the same cluster, environment, gateway or proxy is not.
func TestBindingsEveryType(t *testing.T) {
	gz, sh := "ap-guangzhou", "ap-shanghai"
	tests := []struct {
		typ  string
		res  []tcsim.ResourceSpec
		want []string
	}{
		{"tke", []tcsim.ResourceSpec{
			{Type: "tke", Region: gz, InstanceID: "cls-ssl00001", Namespace: "web", Secret: "www-tls", Domains: []string{"www.example.test"}, CertID: oldID},
			{Type: "tke", Region: gz, InstanceID: "cls-ssl00001", Namespace: "web", Secret: "old-tls", CertID: otherID},
			{Type: "tke", Region: sh, InstanceID: "cls-ssl00002", Namespace: "default", Secret: "api-tls", CertID: oldID},
		}, []string{"tke ap-guangzhou cls-ssl00001/web/www-tls", "tke ap-shanghai cls-ssl00002/default/api-tls"}},
		{"tcb", []tcsim.ResourceSpec{
			{Type: "tcb", Region: sh, InstanceID: "env-ssl00001", Domains: []string{"app.example.test"}, CertID: oldID},
			{Type: "tcb", Region: sh, InstanceID: "env-ssl00001", Service: "host", Domains: []string{"static.example.test"}, CertID: oldID},
			{Type: "tcb", Region: sh, InstanceID: "env-ssl00001", Service: "host", Domains: []string{"other.example.test"}, CertID: otherID},
		}, []string{"tcb ap-shanghai env-ssl00001/app.example.test", "tcb ap-shanghai env-ssl00001/static.example.test"}},
		{"tse", []tcsim.ResourceSpec{
			{Type: "tse", Region: gz, InstanceID: "gateway-ssl00001", Domains: []string{"gw.example.test", "gw2.example.test"}, CertID: oldID},
			{Type: "tse", Region: gz, InstanceID: "gateway-ssl00001", Domains: []string{"gw3.example.test"}, CertID: otherID},
		}, []string{"tse ap-guangzhou gateway-ssl00001/gw.example.test", "tse ap-guangzhou gateway-ssl00001/gw2.example.test"}},
		{"tdmq", []tcsim.ResourceSpec{
			{Type: "tdmq", Region: gz, InstanceID: "amqp-ssl00001", CertID: oldID},
			{Type: "tdmq", Region: gz, InstanceID: "amqp-ssl00002", CertID: otherID},
		}, []string{"tdmq ap-guangzhou amqp-ssl00001"}},
		{"mqtt", []tcsim.ResourceSpec{
			{Type: "mqtt", Region: "ap-beijing", InstanceID: "mqtt-ssl00001", CertID: oldID},
		}, []string{"mqtt ap-beijing mqtt-ssl00001"}},
		{"gaap", []tcsim.ResourceSpec{
			{Type: "gaap", InstanceID: "link-ssl00001", Listener: "listener-a", CertID: oldID},
			{Type: "gaap", InstanceID: "link-ssl00001", Listener: "listener-b", CertID: otherID},
		}, []string{"gaap link-ssl00001/listener-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			w := newWorld(t, tcsim.Topology{Resources: tt.res})
			got, err := w.client.Bindings(context.Background(), []string{oldID})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, s := range tt.want {
				want = append(want, s+" @"+oldID)
			}
			if n := names(got); !slices.Equal(n, want) {
				t.Errorf("Bindings:\n%s\nwant\n%s", strings.Join(n, "\n"), strings.Join(want, "\n"))
			}

			// The SSL service moves them, and each outcome is matched to its resource.
			out, err := w.client.Move(context.Background(), oldID, newID, got)
			if err != nil {
				t.Fatal(err)
			}
			wantAll(t, out, ssl.StatusMoved, len(tt.want))
			for _, r := range w.sim.Resources() {
				if r.CertID == oldID {
					t.Errorf("%s %s still holds the old certificate", r.Type, r.InstanceID)
				}
			}
		})
	}
}

// A list the SSL service could not read is an error naming it, never an empty list; the
// lists it read come with the error.
func TestBindingsUnreadList(t *testing.T) {
	top := topology()
	top.Resources = append(top.Resources, tcsim.ResourceSpec{Type: "tke", Region: "ap-guangzhou", InstanceID: "cls-ssl00001", Namespace: "web", Secret: "www-tls", CertID: oldID})
	top.UnreadLists = []tcsim.ListSpec{{Type: "tke", Region: "ap-guangzhou"}, {Type: "live"}}
	w := newWorld(t, top)
	got, err := w.client.Bindings(context.Background(), []string{oldID, otherID})
	var unread *ssl.UnreadError
	if !errors.As(err, &unread) {
		t.Fatalf("err = %v, want an UnreadError", err)
	}
	var lists []string
	for _, u := range unread.Lists {
		lists = append(lists, u.Type+" "+u.Region)
	}
	if want := []string{"live ", "tke ap-guangzhou"}; !slices.Equal(lists, want) {
		t.Errorf("unread lists %q, want %q (once each, for two certificates)", lists, want)
	}
	for _, want := range []string{"tke in ap-guangzhou", "live (", "unknown", "run again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if slices.ContainsFunc(got, func(r ssl.Resource) bool { return r.Type == "tke" }) || len(got) != 8 {
		t.Errorf("the lists read: %v", names(got))
	}
	if !unread.Covers(ssl.Resource{Type: "tke", Region: "ap-guangzhou"}) || unread.Covers(ssl.Resource{Type: "tke", Region: "ap-beijing"}) ||
		!unread.Covers(ssl.Resource{Type: "live", Domain: "l.example.test"}) {
		t.Error("Covers does not match the unread lists")
	}
	// Narrowed to the types a caller looks at.
	if err := ssl.UnreadOf(err, []string{"cdn", "teo"}); err != nil {
		t.Errorf("UnreadOf(cdn, teo) = %v, want nil", err)
	}
	if err := ssl.UnreadOf(err, []string{"cdn", "tke"}); !errors.As(err, &unread) || len(unread.Lists) != 1 {
		t.Errorf("UnreadOf(cdn, tke) = %v, want the tke list", err)
	}
	other := errors.New("boom")
	if ssl.UnreadOf(other, []string{"cdn"}) != other {
		t.Error("UnreadOf changed another error")
	}
}

// A resource the update left out is checked on the new certificate; when its list cannot be
// read, it is a failure that says so, not "holds neither".
func TestMoveLeftOutResourceInAnUnreadList(t *testing.T) {
	w := newWorld(t, topology())
	rs := others(t, w)
	startUpdate(t, w, newID, "teo")
	if err := w.sim.SetListUnread("teo", "", true); err != nil {
		t.Fatal(err)
	}
	out, err := w.client.Move(context.Background(), oldID, newID, rs)
	var me *ssl.MoveError
	if !errors.As(err, &me) || len(me.Failed) != 1 || me.Failed[0].Resource.Type != "teo" {
		t.Fatalf("err = %v, want a MoveError for the teo host", err)
	}
	if e := me.Failed[0].Error; !strings.Contains(e, "unknown") || !strings.Contains(e, "teo (") || strings.Contains(e, "neither") {
		t.Errorf("the teo host's error %q", e)
	}
	if st := statuses(out); st["cdn cdn.example.test"] != "moved" || len(st) != 5 {
		t.Errorf("outcomes %v", st)
	}
}
