package main

import (
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// A lineage deployed by a hook run with --product all, and no products in
// the config file, is still listed on every product it went to: status
// takes the products a deployment recorded in the state dir.
func TestStatusListsRecordedProducts(t *testing.T) {
	certbot := t.TempDir()
	now := time.Now()
	day := 24 * time.Hour
	old, err := lineage.Load(simtest.Issue(t, t.TempDir(), "example.test", now.Add(-80*day), now.Add(10*day), "example.test", "*.example.test"), now)
	if err != nil {
		t.Fatal(err)
	}
	dir := simtest.Issue(t, certbot, "example.test", now.Add(-time.Hour), now.Add(90*day), "example.test", "*.example.test")
	opts := opsAccount(certSpec("OldCrt01", old))
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
