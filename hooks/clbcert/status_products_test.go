package main

import (
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// A lineage deployed by a hook run with --product all, and no products in
// the config file, is still listed on every product it went to: status
// takes the products a deployment recorded in the state dir.
func TestStatusListsRecordedProducts(t *testing.T) {
	certbot := t.TempDir()
	now := time.Now()
	day := 24 * time.Hour
	old := simtest.IssueLineage(t, t.TempDir(), "example.test", now.Add(-80*day), now.Add(10*day), "example.test", "*.example.test")
	dir := simtest.Issue(t, certbot, "example.test", now.Add(-time.Hour), now.Add(90*day), "example.test", "*.example.test")
	opts := simtest.ThreeTargets(simtest.UploadedByHand("OldCrt01", old))
	opts.Topology.CDNDomains = []tcsim.CDNDomainSpec{{Domain: "cdn.example.test", CertID: "OldCrt01"}}
	sim := simtest.Start(t, opts)
	env := append(simtest.HookEnv(t, sim), "CLBCERT_CERTBOT_DIR="+certbot, "CLBCERT_REGIONS=ap-guangzhou,ap-shanghai")

	if r := runOps(t, env, "clbcert-deploy", "--lineage", dir, "--product", "all"); r.Code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	r := runOps(t, env, "clbcert", "status")
	if r.Code != 0 || !strings.Contains(r.Stdout, "\n  served  cdn cdn.example.test\n") {
		t.Fatalf("status: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// A product list the SSL service could not read counts against a lineage only when the lineage
// goes to that product: an unread TKE list leaves a CDN-only lineage OK, an unread CDN list
// makes it UNKNOWN, naming the list.
func TestStatusUnreadProductList(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	for _, tt := range []struct {
		name   string
		unread tcsim.ListSpec
		code   int
		want   string
	}{
		{"another product's list", tcsim.ListSpec{Type: "tke", Region: "ap-guangzhou"}, 0, "\n  served  cdn cdn.example.test\n"},
		{"its product's list", tcsim.ListSpec{Type: "cdn"}, 3, "could not read the resources of cdn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			certbot := t.TempDir()
			lin := simtest.IssueLineage(t, certbot, "example.test", now.Add(-time.Hour), now.Add(90*day), "example.test")
			opts := simtest.ThreeTargets(simtest.UploadedByHand("NewCrt01", lin))
			opts.Topology.CDNDomains = []tcsim.CDNDomainSpec{{Domain: "cdn.example.test", CertID: "NewCrt01"}}
			opts.Topology.UnreadLists = []tcsim.ListSpec{tt.unread}
			sim := simtest.Start(t, opts)
			cfg := configtest.Write(t, "products = [\"clb\", \"cdn\"]\n", 0o600)
			env := append(simtest.HookEnv(t, sim), "CLBCERT_CERTBOT_DIR="+certbot, "CLBCERT_CONFIG="+cfg, "CLBCERT_REGIONS=ap-guangzhou")

			r := runOps(t, env, "clbcert", "status")
			if r.Code != tt.code || !strings.Contains(r.Stdout+r.Stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s%s", r.Code, tt.code, tt.want, r.Stdout, r.Stderr)
			}
		})
	}
}
