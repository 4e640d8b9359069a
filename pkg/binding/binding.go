// Package binding decides what a CLB certificate binding (a listener without SNI, or an SNI
// domain) becomes when a certbot lineage is deployed to it, and how that binding is written.
// A binding holds one or more server certificates of distinct key algorithms (an RSA one for
// old clients beside an ECC one, say) and, with mutual TLS, the client CA and whether a client
// certificate is required. It is pure: values in, values out, no cloud, no SDK.
package binding

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"slices"
)

// Algorithm is a certificate's key algorithm as the SSL service names it (EncryptAlgorithm).
type Algorithm string

// The key algorithms CLB pairs. SM2 (国密) members are never replaced or dropped by a deploy:
// certbot cannot issue them, so whoever bound one manages it.
const (
	RSA Algorithm = "RSA"
	ECC Algorithm = "ECC"
	SM2 Algorithm = "SM2"
)

// CipherSuites are TLS 1.2 cipher suites that only a server certificate of algorithm a can
// serve. Offering only these is how a client offers only that algorithm: Go's client lets no
// one narrow its signature algorithms, and TLS 1.3 suites do not depend on the key. nil for
// SM2 (Go speaks none) and any other algorithm.
func (a Algorithm) CipherSuites() []uint16 {
	switch a {
	case RSA:
		return []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}
	case ECC:
		return []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	}
	return nil
}

// SSL modes and client verification settings, spelled as CLB spells them.
const (
	ModeOneWay     = "UNIDIRECTIONAL"
	ModeMutual     = "MUTUAL"
	VerifyOn       = "ON"
	VerifyOptional = "OPTIONAL"
)

// Member is one server certificate of a binding.
type Member struct {
	CertID    string    `json:"certId"`
	Algorithm Algorithm `json:"algorithm"`
}

// Binding is a listener's or SNI domain's certificate as DescribeListeners reports it:
// CertId and ExtCertIds are Members, a set (which one CLB reports as CertId is not
// documented).
type Binding struct {
	Members []Member `json:"members"`
	// SSLMode is UNIDIRECTIONAL or MUTUAL; "" is read as UNIDIRECTIONAL, CLB's default.
	SSLMode string `json:"sslMode,omitempty"`
	// CertCaID is the client CA of a MUTUAL binding.
	CertCaID string `json:"certCaId,omitempty"`
	// SSLVerifyClient is ON or OPTIONAL for a MUTUAL binding; "" is read as ON, CLB's default.
	SSLVerifyClient string `json:"sslVerifyClient,omitempty"`
}

// Mutual reports whether the binding verifies client certificates.
func (b Binding) Mutual() bool { return b.SSLMode == ModeMutual }

// Member is the member of algorithm alg, ok false when there is none.
func (b Binding) Member(alg Algorithm) (Member, bool) {
	i := slices.IndexFunc(b.Members, func(m Member) bool { return m.Algorithm == alg })
	if i < 0 {
		return Member{}, false
	}
	return b.Members[i], true
}

// CertIDs are the members' certificate ids, sorted: the binding's identity as a set.
func (b Binding) CertIDs() []string {
	ids := make([]string, 0, len(b.Members))
	for _, m := range b.Members {
		ids = append(ids, m.CertID)
	}
	slices.Sort(ids)
	return ids
}

// Equal reports whether a and b bind the same members with the same settings, in any order.
func Equal(a, b Binding) bool {
	return slices.Equal(a.CertIDs(), b.CertIDs()) && a.mode() == b.mode() &&
		a.caID() == b.caID() && a.verify() == b.verify()
}

func (b Binding) mode() string { return cmp.Or(b.SSLMode, ModeOneWay) }

func (b Binding) caID() string {
	if !b.Mutual() {
		return ""
	}
	return b.CertCaID
}

func (b Binding) verify() string {
	if !b.Mutual() {
		return ""
	}
	return cmp.Or(b.SSLVerifyClient, VerifyOn)
}

// Check refuses a binding a deploy cannot reason about: a member of unknown algorithm (look
// it up in DescribeCertificates or parse the certificate first), two members of one
// algorithm, a repeated certificate, or a MUTUAL binding without its CA.
func (b Binding) Check() error {
	seen := map[Algorithm]string{}
	ids := map[string]bool{}
	for _, m := range b.Members {
		switch {
		case m.CertID == "":
			return fmt.Errorf("binding: a member has no certificate id")
		case ids[m.CertID]:
			return fmt.Errorf("binding: certificate %s is a member twice", m.CertID)
		case m.Algorithm != RSA && m.Algorithm != ECC && m.Algorithm != SM2:
			return fmt.Errorf("binding: certificate %s has key algorithm %q, not RSA, ECC or SM2: look its EncryptAlgorithm up before planning", m.CertID, m.Algorithm)
		case seen[m.Algorithm] != "":
			return fmt.Errorf("binding: certificates %s and %s are both %s; CLB pairs certificates of distinct key algorithms", seen[m.Algorithm], m.CertID, m.Algorithm)
		}
		seen[m.Algorithm], ids[m.CertID] = m.CertID, true
	}
	switch b.mode() {
	case ModeOneWay:
	case ModeMutual:
		if b.CertCaID == "" {
			return fmt.Errorf("binding: SSL mode MUTUAL without a client CA (CertCaId)")
		}
		if v := b.verify(); v != VerifyOn && v != VerifyOptional {
			return fmt.Errorf("binding: SSLVerifyClient %q is not ON or OPTIONAL", v)
		}
	default:
		return fmt.Errorf("binding: SSL mode %q is not UNIDIRECTIONAL or MUTUAL", b.SSLMode)
	}
	return nil
}

// Outcome is what a deploy does to a binding (issue 12, rule 2).
type Outcome string

const (
	// Unchanged: the binding already holds the certificate.
	Unchanged Outcome = "unchanged"
	// Replaced: the member of the lineage's algorithm gets the new certificate (rule 2a).
	Replaced Outcome = "replaced"
	// Added: the binding had no member of the lineage's algorithm and the operator keeps a
	// lineage of the other member's algorithm for its names: the new certificate joins as
	// another member (rule 2b, a pair).
	Added Outcome = "added"
	// Migrated: the binding had no member of the lineage's algorithm and nothing renews its
	// members here: the new certificate takes their place (rule 2b, as a single
	// certificate always was). SM2 members stay.
	Migrated Outcome = "migrated"
)

// Deploy is one lineage's certificate about to be bound.
type Deploy struct {
	CertID    string
	Algorithm Algorithm // RSA or ECC: certbot issues nothing else
	// PartnerCovers is whether another lineage in the same certbot config dir has the key
	// algorithm of the binding's member and covers the names of the binding's current
	// certificate: the operator manages a pair.
	PartnerCovers bool
}

// Next is the binding after d, by rule 2 of issue 12, with SSLMode, CertCaID and
// SSLVerifyClient carried over (rule 3).
func Next(cur Binding, d Deploy) (Binding, Outcome, error) {
	if err := cur.Check(); err != nil {
		return Binding{}, "", err
	}
	switch {
	case d.CertID == "":
		return Binding{}, "", fmt.Errorf("binding: the new certificate has no id")
	case d.Algorithm != RSA && d.Algorithm != ECC:
		return Binding{}, "", fmt.Errorf("binding: certificate %s has key algorithm %q; a deploy binds RSA or ECC certificates", d.CertID, d.Algorithm)
	}
	next := cur
	next.Members = slices.Clone(cur.Members)
	if i := slices.IndexFunc(next.Members, func(m Member) bool { return m.CertID == d.CertID }); i >= 0 {
		if next.Members[i].Algorithm != d.Algorithm {
			return Binding{}, "", fmt.Errorf("binding: certificate %s is bound as %s but the lineage's key is %s", d.CertID, next.Members[i].Algorithm, d.Algorithm)
		}
		return next, Unchanged, nil
	}
	add := Member{CertID: d.CertID, Algorithm: d.Algorithm}
	if i := slices.IndexFunc(next.Members, func(m Member) bool { return m.Algorithm == d.Algorithm }); i >= 0 {
		next.Members[i] = add
		return next, Replaced, nil
	}
	others := slices.ContainsFunc(next.Members, func(m Member) bool { return m.Algorithm != SM2 })
	if others && !d.PartnerCovers {
		next.Members = slices.DeleteFunc(next.Members, func(m Member) bool { return m.Algorithm != SM2 })
		next.Members = append(next.Members, add)
		return next, Migrated, nil
	}
	next.Members = append(next.Members, add)
	if len(cur.Members) == 0 {
		return next, Migrated, nil
	}
	// A partner's pair, or an SM2 certificate that keeps its place beside the new one.
	return next, Added, nil
}

// Write is how a binding is sent to ModifyListener, ModifyDomainAttributes or
// CreateListener: exactly one of Certificate (one member) and MultiCert (more).
type Write struct {
	Certificate *CertificateInput
	MultiCert   *MultiCertInfo
}

// CertificateInput is CLB's CertificateInput with a certificate already uploaded.
type CertificateInput struct {
	SSLMode         string
	SSLVerifyClient string // "" (omitted) unless MUTUAL
	CertID          string
	CertCaID        string // "" (omitted) unless MUTUAL
}

// MultiCertInfo is CLB's MultiCertInfo: CertIDs are its CertList, the server certificates
// and, when MUTUAL, the client CA last.
type MultiCertInfo struct {
	SSLMode         string
	SSLVerifyClient string // "" (omitted) unless MUTUAL
	CertIDs         []string
}

// Write is how to send b. SSLMode is always explicit, and with MUTUAL so are the CA and
// SSLVerifyClient: a write that omits SSLVerifyClient sets it to ON and locks out the
// clients OPTIONAL let in.
func (b Binding) Write() (Write, error) {
	if err := b.Check(); err != nil {
		return Write{}, err
	}
	if len(b.Members) == 0 {
		return Write{}, fmt.Errorf("binding: nothing to write: no server certificate")
	}
	mode, verify, ca := b.mode(), b.verify(), b.caID()
	if len(b.Members) == 1 {
		return Write{Certificate: &CertificateInput{SSLMode: mode, SSLVerifyClient: verify, CertID: b.Members[0].CertID, CertCaID: ca}}, nil
	}
	ids := make([]string, 0, len(b.Members)+1)
	for _, m := range b.Members {
		ids = append(ids, m.CertID)
	}
	if ca != "" {
		ids = append(ids, ca)
	}
	return Write{MultiCert: &MultiCertInfo{SSLMode: mode, SSLVerifyClient: verify, CertIDs: ids}}, nil
}
