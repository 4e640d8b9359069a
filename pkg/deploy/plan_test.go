package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/inventory"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    clb.Address
		wantErr bool
	}{
		{in: "lb-abc/lbl-123", want: clb.Address{LoadBalancerID: "lb-abc", ListenerID: "lbl-123"}},
		{in: " lb-abc/lbl-456/API.example.com ", want: clb.Address{LoadBalancerID: "lb-abc", ListenerID: "lbl-456", Domain: "api.example.com"}},
		{in: "lb-abc", wantErr: true},
		{in: "lbl-1/lb-2", wantErr: true},
		{in: "lb-abc/lbl-1/", wantErr: true},
		{in: "lb-abc/lbl-1/a/b", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "lb-ID/lbl-ID") {
				t.Errorf("ParseTarget(%q) err = %v", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

// A re-run after a kill must keep the certificate the target had before the
// first run: that is the one to roll back to.
func TestRecordBindingKeepsTheOriginalPrevious(t *testing.T) {
	var s lineageState
	tg := clb.Address{Region: "ap-guangzhou", LoadBalancerID: "lb-1", ListenerID: "lbl-1"}
	now := time.Now()
	one := func(id string) certbinding.Binding {
		return certbinding.Binding{Members: []certbinding.Member{{CertID: id, Algorithm: certbinding.ECC}}}
	}
	s.recordBinding(tg, one("old"), one("new"), now)
	s.recordBinding(tg, one("new"), one("new"), now.Add(time.Minute))
	if b := s.Bindings["ap-guangzhou/lb-1/lbl-1"]; b.Previous != "old" || b.Current != "new" {
		t.Fatalf("binding = %+v", b)
	}
	s.recordBinding(tg, one("new"), one("newer"), now.Add(time.Hour))
	if b := s.Bindings["ap-guangzhou/lb-1/lbl-1"]; b.Previous != "new" || b.Current != "newer" {
		t.Fatalf("after the next renewal: %+v", b)
	}
	s.addUpload(upload{CertID: "c1", Fingerprint: "f1"})
	s.addUpload(upload{CertID: "c1", Fingerprint: "f1"})
	if len(s.Uploads) != 1 || s.uploadOf("f1") != "c1" || s.uploadOf("f2") != "" {
		t.Fatalf("uploads = %+v", s.Uploads)
	}
}

// Which certificates of the SSL service an ECDSA lineage takes the place of on other
// products' resources.
func TestReplacesOnProducts(t *testing.T) {
	const day = 24 * time.Hour
	now := time.Now()
	certbotDir := t.TempDir()
	lin := simtest.IssueLineage(t, certbotDir, "example.test", now.Add(-day), now.Add(90*day), "example.test", "*.example.test")
	p := &Plan{Lineage: lin, partners: map[string]bool{}}
	sooner, later := now.Add(10*day), now.Add(100*day)
	for _, tt := range []struct {
		name string
		c    inventory.Certificate
		want bool
	}{
		{"an ECC certificate of its names that ends sooner", inventory.Certificate{Names: lin.Names(), Algorithm: "ECC", NotAfter: sooner}, true},
		{"an RSA one no other lineage renews (a migration)", inventory.Certificate{Names: lin.Names(), Algorithm: "RSA", NotAfter: sooner}, true},
		{"an SM2 one: its clients need it", inventory.Certificate{Names: lin.Names(), Algorithm: "SM2", NotAfter: sooner}, false},
		{"one that ends later", inventory.Certificate{Names: lin.Names(), Algorithm: "ECC", NotAfter: later}, false},
		{"one with a name the lineage lacks", inventory.Certificate{Names: []string{"example.test", "other.test"}, Algorithm: "ECC", NotAfter: sooner}, false},
		{"one without names", inventory.Certificate{Algorithm: "ECC", NotAfter: sooner}, false},
	} {
		if got := p.replacesOnProducts(tt.c); got != tt.want {
			t.Errorf("%s: replacesOnProducts = %v, want %v", tt.name, got, tt.want)
		}
	}
}
