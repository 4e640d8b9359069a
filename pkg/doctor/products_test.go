package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/simtest"
	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/doctor"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/ssl"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// An older certificate of a lineage's names still bound on a product the
// lineage's deployment leaves alone is a warning with the config line that
// takes the product in; a product the deployment covers is not; a missing
// SSL service role is a warning that says how to grant it; a list the SSL service could not
// read is a failure, and what it did read is still judged.
func TestProductFindings(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	certbot := t.TempDir()
	simtest.Issue(t, certbot, "example.test", now.Add(-day), now.Add(89*day), "example.test", "*.example.test")
	old := simtest.HandUploadedBetween(t, "OldCrt01", certbinding.ECC, now.Add(-80*day), now.Add(10*day), "example.test", "*.example.test")
	tests := []struct {
		name        string
		products    []string
		roleMissing bool
		unread      []tcsim.ListSpec
		want        []string // substrings of the products findings, in order; none when empty
		wantFailure string   // a substring of a failure; none when empty
	}{
		{name: "clb only: the CDN domain is named, with the line", want: []string{
			`cdn cdn.example.test still serves OldCrt01, an older certificate of example.test's names`,
			`add products = ["cdn", "clb"] to the config file's [[deploy]] entry for lineage "example.test"`}},
		{name: "cdn chosen: nothing to say", products: []string{"cdn", "clb"}},
		{name: "the role is missing", roleMissing: true, want: []string{ssl.RoleName, "authorise the role"}},
		{name: "a TKE list unread: a failure, and the CDN domain still named", unread: []tcsim.ListSpec{{Type: "tke", Region: region}},
			want:        []string{`cdn cdn.example.test still serves OldCrt01`},
			wantFailure: "could not read the resources of tke in " + region},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tcsim.Options{Certificates: []tcsim.CertSpec{old}}
			opts.Topology.CDNDomains = []tcsim.CDNDomainSpec{{Domain: "cdn.example.test", CertID: "OldCrt01"}}
			opts.Topology.SSLRoleMissing = tt.roleMissing
			opts.Topology.UnreadLists = tt.unread
			sim := simtest.Start(t, opts)
			inv, err := inventory.New(config(t, sim), inventory.Options{Fingerprints: true})
			if err != nil {
				t.Fatal(err)
			}
			certs, err := ssl.New(config(t, sim), ssl.Options{Poll: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			d, err := doctor.New(doctor.Options{Regions: []string{region}, CertbotDir: certbot, Products: map[string][]string{"example.test": tt.products}}, inv, certs)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := d.Examine(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				if f.Check == doctor.CheckProducts {
					if f.Severity != doctor.Warning {
						t.Errorf("%s is %v, want a warning", f.Problem, f.Severity)
					}
					got = append(got, f.Problem+" | "+f.Fix)
				}
			}
			var failures []string
			for _, f := range rep.Failures {
				failures = append(failures, f.Error)
			}
			if fs := strings.Join(failures, "\n"); (tt.wantFailure == "") != (fs == "") || !strings.Contains(fs, tt.wantFailure) {
				t.Errorf("failures %q, want one saying %q", fs, tt.wantFailure)
			}
			all := strings.Join(got, "\n")
			if len(tt.want) == 0 && len(got) != 0 {
				t.Fatalf("findings %q, want none", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("the products findings do not say %q:\n%s", w, all)
				}
			}
		})
	}
}
