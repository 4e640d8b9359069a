package doctor

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/clbcert/clbcert/pkg/clb"
)

// Severity is how urgently a finding needs a person.
type Severity int

// The severities, least urgent first.
const (
	// Info is worth knowing and needs nothing now, or could not be checked
	// from this host.
	Info Severity = iota
	// Warning is a setting against good practice, or a problem that will
	// become critical.
	Warning
	// Critical is something clients see now, or will within days.
	Critical
)

func (s Severity) String() string {
	switch s {
	case Critical:
		return "critical"
	case Warning:
		return "warning"
	}
	return "info"
}

// MarshalJSON writes the severity's name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// The checks, as Finding.Check names them.
const (
	CheckCertDates    = "certificate-dates" // served certificates expired, expiring or not yet valid
	CheckLineage      = "lineage"           // a local certbot lineage fails validation (chain, key, dates)
	CheckServedChain  = "served-chain"      // the chain a listener presents does not link
	CheckNames        = "names"             // SNI and name coverage of listeners and domains
	CheckHandshake    = "handshake"         // a listener serves another certificate than the bound one
	CheckDualMembers  = "dual-certificate"  // the members of a dual binding cover different names or are not renewed together
	CheckClientCA     = "client-ca"         // the client CA of mutual TLS expired or expiring
	CheckTLSProtocols = "tls-protocols"     // TLS below 1.2 allowed
	CheckHealthCheck  = "health-check"      // health check off or badly set
	CheckBackends     = "backends"          // dead targets, no targets
)

// Where is the place a finding is about; the fields that do not apply are
// empty.
type Where struct {
	// Address is the load balancer, listener, SNI domain (Domain alone) or
	// forwarding rule (LocationID and Domain, with URL).
	clb.Address
	Protocol string `json:"protocol,omitempty"`
	Port     int64  `json:"port,omitempty"`
	URL      string `json:"url,omitempty"`
	// CertificateID is the certificate a finding about dates is about, and
	// Targets where it is served ("lb-id/lbl-id[/domain]").
	CertificateID string   `json:"certificateId,omitempty"`
	Targets       []string `json:"targets,omitempty"`
	// Lineage is a local certbot lineage's directory.
	Lineage string `json:"lineage,omitempty"`
}

// String is the place for people, e.g. "ap-guangzhou lb-abc/lbl-1
// www.example.com/api", "certificate Abc12345 (lb-abc/lbl-1)" or
// "lineage /etc/letsencrypt/live/example.com".
func (w Where) String() string {
	switch {
	case w.Lineage != "":
		return "lineage " + w.Lineage
	case w.CertificateID != "":
		s := "certificate " + w.CertificateID
		if len(w.Targets) > 0 {
			s += " on " + strings.Join(w.Targets, ", ")
		}
		return s
	}
	s := w.Region
	if w.LoadBalancerID != "" {
		s += " " + w.LoadBalancerID
	}
	if w.ListenerID != "" {
		s += "/" + w.ListenerID
	}
	if w.Protocol != "" {
		s += fmt.Sprintf(" (%s:%d)", w.Protocol, w.Port)
	}
	if w.Domain != "" {
		s += " " + w.Domain
	}
	if w.URL != "" {
		s += w.URL
	}
	return strings.TrimSpace(s)
}

// Finding is one thing doctor found, with what to do about it.
type Finding struct {
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Where    Where    `json:"where"`
	Problem  string   `json:"problem"`
	// Fix is what to do: a command to run, or a step for a person.
	Fix string `json:"fix"`
	// Safe marks a fix that --fix applies (through clbcert tune); the
	// others are only advised, because they could break a working site.
	Safe bool `json:"safe"`

	// change is the safe fix in tune's terms; nil unless Safe.
	change *change
}

// sortFindings orders findings most severe first, then by place and check,
// so that reports compare between runs.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			a.Where.Listener().Compare(b.Where.Listener()),
			cmp.Compare(a.Where.Domain, b.Where.Domain),
			cmp.Compare(a.Where.URL, b.Where.URL),
			cmp.Compare(a.Where.CertificateID, b.Where.CertificateID),
			cmp.Compare(a.Where.Lineage, b.Where.Lineage),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Problem, b.Problem),
		)
	})
}
