package tune_test

import (
	"testing"

	"github.com/clbcert/clbcert/internal/golden"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tune"
)

// TestPlanJSONGolden pins `clbcert tune --json`: scripts read it.
func TestPlanJSONGolden(t *testing.T) {
	wrr := "WRR"
	rule := tune.Change{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1", LocationID: "loc-1", Domain: "www.example.com"}, Kind: tune.KindRule, LoadBalancerName: "web", Protocol: "HTTPS", Port: 443, URL: "/", Fields: []tune.FieldChange{{Name: "scheduler", Before: "IP_HASH", After: "WRR"}}}
	tls := tune.Change{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1"}, Kind: tune.KindTLS, Fields: []tune.FieldChange{{Name: "tls protocols", Before: "TLSv1 TLSv1.2", After: "TLSv1.2"}},
		Config: &tune.ConfigChange{Action: tune.ConfigUpdate, ID: "pz-1", SharedWith: []string{"lb-gz2"}, Before: "ssl_protocols TLSv1 TLSv1.2;", After: "ssl_protocols TLSv1.2;"}}
	plan := tune.Plan{Settings: tune.Settings{Scheduler: &wrr}, Changes: []tune.Change{rule, tls}, Unchanged: 2,
		Skipped:  []tune.Skipped{{Target: "lb-gz1/lbl-udp1", Reason: "UDP"}},
		Refused:  []tune.Refused{{Target: "lb-gz1/lbl-tcp1", Reason: "fix it"}},
		Failures: []inventory.Failure{{Region: "ap-shanghai", Error: "denied"}}}
	golden.JSON(t, "plan.json", plan)
	rep := tune.Report{Results: []tune.Result{{Change: rule, Status: tune.StatusChanged}, {Change: tls, Status: tune.StatusFailed, Error: "it broke"}}}
	golden.JSON(t, "report.json", rep)
}
