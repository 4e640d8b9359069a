package deploy

import (
	"strings"
	"testing"

	"github.com/clbcert/clbcert/pkg/clb"
)

func TestReportWords(t *testing.T) {
	long := "clb:ModifyListener failed (InternalError: " + strings.Repeat("the service had a very long day, ", 10) + "RequestId 1234): try again later"
	target := func(lb, status, err string) TargetResult {
		return TargetResult{Planned: Planned{Address: clb.Address{Region: "ap-guangzhou", LoadBalancerID: lb, ListenerID: "lbl-1"}, Protocol: "HTTPS", Current: "Old1"}, Status: status, Error: err}
	}
	tests := []struct {
		name     string
		rep      Report
		want     []string
		wantNot  []string
		maxWidth int
	}{
		{
			name:    "one failed target, none done",
			rep:     Report{Targets: []TargetResult{target("lb-a", StatusFailed, long)}},
			want:    []string{"1 of 1 target failed (ap-guangzhou lb-a/lbl-1): the report says why: fix the cause"},
			wantNot: []string{"other", "targets", long},
		},
		{
			name:    "a region could not be read",
			rep:     Report{Failures: []Failure{{Region: "ap-nowhere", Error: "no such region"}}},
			want:    []string{"1 region could not be read (ap-nowhere (every load balancer))"},
			wantNot: []string{"load balancers", "others", "no such region"},
		},
		{
			name: "two failed, one done",
			rep: Report{Targets: []TargetResult{target("lb-a", StatusFailed, long), target("lb-b", StatusFailed, "it broke"), target("lb-c", StatusUpdated, "")},
				Failures: []Failure{{Region: "ap-guangzhou", LoadBalancerID: "lb-d", Error: "e1"}, {Region: "ap-guangzhou", LoadBalancerID: "lb-e", Error: "e2"}}},
			want:    []string{"2 of 3 targets failed", "and 2 load balancers could not be read (ap-guangzhou lb-d; ap-guangzhou lb-e)", "the other target is done"},
			wantNot: []string{long},
		},
		{
			name: "two done",
			rep:  Report{Targets: []TargetResult{target("lb-a", StatusFailed, "it broke"), target("lb-c", StatusUpdated, ""), target("lb-d", StatusUnchanged, "")}},
			want: []string{"1 of 3 targets failed", "the other 2 targets are done"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rep.Lineage, tt.rep.Fingerprint, tt.rep.CertID = "example.test", strings.Repeat("ab", 32), "New1"
			err := tt.rep.Err()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(err.Error(), w) {
					t.Errorf("%q has %q", err, w)
				}
			}
			var b strings.Builder
			if err := tt.rep.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			for _, tr := range tt.rep.Targets {
				if tr.Error != "" && strings.Count(b.String(), tr.Error) != 1 {
					t.Errorf("the table does not list %q once below it:\n%s", tr.Error, b.String())
				}
			}
			for _, line := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(line, "ap-") && len(line) > 100 {
					t.Errorf("row of %d characters: %s", len(line), line)
				}
			}
		})
	}
}
