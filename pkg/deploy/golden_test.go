package deploy

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/golden"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
)

var goldenAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func goldenPlanned() Planned {
	before := certbinding.Binding{Members: []certbinding.Member{{CertID: "Old1", Algorithm: "RSA"}}, SSLMode: "UNIDIRECTIONAL"}
	after := certbinding.Binding{Members: []certbinding.Member{{CertID: "New1", Algorithm: "RSA"}}, SSLMode: "UNIDIRECTIONAL"}
	return Planned{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1", Domain: "www.example.com"},
		LoadBalancerName: "web", Protocol: "HTTPS", Addr: "127.0.0.1:443", ServerName: "www.example.com", Current: "Old1",
		CurrentNames: []string{"www.example.com"}, Before: before, After: after, Outcome: certbinding.Replaced}
}

// TestReportJSONGolden pins the --json of deploy and rollback: scripts read it.
func TestReportJSONGolden(t *testing.T) {
	rep := Report{Lineage: "example.com", Names: []string{"www.example.com"}, Fingerprint: "ab:cd", CertID: "New1", Uploaded: true,
		Targets: []TargetResult{
			{Planned: goldenPlanned(), Status: StatusUpdated, Verified: "tls"},
			{Planned: Planned{Address: clb.Address{Region: "ap-shanghai", LoadBalancerID: "lb-sh1", ListenerID: "lbl-tcp1"}, Protocol: "TCP_SSL"}, Status: StatusFailed, Error: "it broke"},
		},
		Failures:  []Failure{{Region: "ap-guangzhou", LoadBalancerID: "lb-gz9", Error: "denied"}},
		Resources: []ResourceResult{{Resource: Resource{Type: "cdn", Domain: "cdn.example.com"}, Before: "Old1", Status: StatusUpdated}},
	}
	golden.JSON(t, "deploy-report.json", rep)

	rb := RollbackReport{Lineage: "example.com", Targets: []RollbackTarget{{TargetResult: TargetResult{Planned: goldenPlanned(), Status: StatusUpdated},
		To: "Old1", ToBinding: goldenPlanned().Before, ToNotAfter: goldenAt}}}
	golden.JSON(t, "rollback-report.json", rb)
}

// TestStateFileGolden pins the state file deploy writes: a newer clbcert
// must read what an older one wrote, and the other way round.
func TestStateFileGolden(t *testing.T) {
	p := goldenPlanned()
	var s lineageState
	s.addUpload(upload{CertID: "New1", Fingerprint: "ab:cd", NotAfter: goldenAt.AddDate(0, 3, 0), At: goldenAt})
	s.recordBinding(p.Address, p.Before, p.After, goldenAt)
	s.recordResource(Resource{Type: "cdn", Domain: "cdn.example.com"}, "Old1", "New1", goldenAt)
	golden.JSON(t, "state.json", s)
}

// TestStateFileOldShape loads a state file written before dual bindings
// (Previous and Current only) and reads the binding it names back.
func TestStateFileOldShape(t *testing.T) {
	raw, err := os.ReadFile("testdata/state-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var s lineageState
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("old state file does not load: %v", err)
	}
	b, ok := s.Bindings["ap-guangzhou/lb-gz1/lbl-https1/www.example.com"]
	if !ok {
		t.Fatalf("binding not found under its key; have %v", s.Bindings)
	}
	want := clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-gz1", ListenerID: "lbl-https1", Domain: "www.example.com"}
	if b.Target != want {
		t.Errorf("target = %+v, want %+v", b.Target, want)
	}
	prev, ok := b.previous(certbinding.Binding{SSLMode: "MUTUAL"})
	if !ok || len(prev.Members) != 1 || prev.Members[0].CertID != "Old1" || prev.SSLMode != "MUTUAL" {
		t.Errorf("previous = %+v, %v; want Old1 with the served mode", prev, ok)
	}
}
