package tcsim

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// Client verification of a MUTUAL binding (SSLVerifyClient).
const (
	verifyOn       = "ON"
	verifyOptional = "OPTIONAL"
)

// certBinding is what a listener without SNI or an SNI domain serves: one server certificate
// per key algorithm (CLB serves each client the one its handshake supports) and, with mutual
// TLS, the client CA and whether a client certificate is required. docs/tencentcloud-api.md
// §3 "Dual certificates (RSA + ECC) and mutual TLS".
type certBinding struct {
	CertIDs []string // server certificates, of distinct key algorithms
	Mode    string   // UNIDIRECTIONAL or MUTUAL
	CaID    string   // MUTUAL: the client CA
	Verify  string   // MUTUAL: ON or OPTIONAL
}

func (b certBinding) empty() bool { return len(b.CertIDs) == 0 }

// uses reports whether the binding serves certificate id or verifies clients with it.
func (b certBinding) uses(id string) bool { return slices.Contains(b.CertIDs, id) || b.CaID == id }

// reported is the members in the order DescribeListeners gives them: CertId first, the rest
// in ExtCertIds. Which member CLB calls CertId is not documented; tcsim orders them by id,
// which is not the order they were written in, so a client that relies on either fails here.
func (b certBinding) reported() []string {
	ids := slices.Clone(b.CertIDs)
	slices.Sort(ids)
	return ids
}

func (b certBinding) output() *certificateOutput {
	if b.empty() {
		return nil
	}
	ids := b.reported()
	out := &certificateOutput{SSLMode: b.Mode, CertID: ids[0], ExtCertIDs: ids[1:]}
	if b.Mode == sslModeMutual {
		out.CertCaID, out.SSLVerifyClient = b.CaID, b.Verify
	}
	return out
}

// bindingLocked checks the certificate part of ModifyListener, ModifyDomainAttributes or
// CreateListener (Certificate or MultiCertInfo, never both) and returns the binding it
// writes; ok is false when the request writes no certificate. Either field replaces the
// whole binding: the members, mode, CA and verification setting it does not name are gone
// (the strict reading of §3), and an omitted SSLVerifyClient is ON.
func (c *cloud) bindingLocked(single *certificateInput, multi *multiCertInfo, now time.Time) (b certBinding, ok bool, err error) {
	switch {
	case single != nil && multi != nil:
		return b, false, errorf(codeInvalidParameter, "Certificate and MultiCertInfo are mutually exclusive.")
	case single != nil:
		b, err = c.singleBindingLocked(single, now)
	case multi != nil:
		b, err = c.multiBindingLocked(multi, now)
	default:
		return b, false, nil
	}
	return b, err == nil, err
}

func (c *cloud) singleBindingLocked(in *certificateInput, now time.Time) (certBinding, error) {
	b, err := bindingMode(in.SSLMode, in.SSLVerifyClient, false)
	if err != nil {
		return b, err
	}
	switch {
	case in.CertContent != nil || in.CertKey != nil || in.CertName != nil || in.CertCaName != nil || in.CertCaContent != nil:
		return b, errorf(codeInvalidParameter, "tcsim does not simulate uploading a certificate inline; upload it with SSL UploadCertificate and pass its id.")
	case deref(in.CertID) == "":
		return b, errorf(codeMissingParameter, "The request is missing a required parameter `Certificate.CertId`.")
	case b.Mode == sslModeOneWay && in.CertCaID != nil:
		return b, errorf(codeInvalidParameter, "A client CA (CertCaId) applies to SSLMode MUTUAL only.")
	case b.Mode == sslModeMutual && deref(in.CertCaID) == "":
		return b, errorf(codeMissingParameter, "SSLMode MUTUAL needs the client CA: `Certificate.CertCaId`.")
	}
	if _, err := c.serverCertLocked(*in.CertID, now); err != nil {
		return b, err
	}
	b.CertIDs = []string{*in.CertID}
	if b.Mode == sslModeMutual {
		if err := c.caCertLocked(*in.CertCaID, now); err != nil {
			return b, err
		}
		b.CaID = *in.CertCaID
	}
	return b, nil
}

func (c *cloud) multiBindingLocked(in *multiCertInfo, now time.Time) (certBinding, error) {
	b, err := bindingMode(in.SSLMode, in.SSLVerifyClient, true)
	if err != nil {
		return b, err
	}
	if len(in.CertList) == 0 {
		return b, errorf(codeMissingParameter, "The request is missing a required parameter `MultiCertInfo.CertList`.")
	}
	algs := map[string]string{}
	seen := map[string]bool{}
	var cas []string
	for i, ci := range in.CertList {
		switch {
		case ci == nil:
			return b, errorf(codeInvalidParameter, "MultiCertInfo.CertList.%d is null.", i)
		case ci.CertName != nil || ci.CertContent != nil || ci.CertKey != nil:
			return b, errorf(codeInvalidParameter, "tcsim does not simulate uploading a certificate inline; upload it with SSL UploadCertificate and pass its id.")
		case deref(ci.CertID) == "":
			return b, errorf(codeMissingParameter, "The request is missing a required parameter `MultiCertInfo.CertList.%d.CertId`.", i)
		case seen[*ci.CertID]:
			return b, errorf(codeInvalidParameterValue, "The certificate `%s` is listed twice in MultiCertInfo.CertList.", *ci.CertID)
		}
		seen[*ci.CertID] = true
		cert := c.certs[*ci.CertID]
		if cert != nil && cert.Type == certTypeCA {
			if err := c.caCertLocked(cert.ID, now); err != nil {
				return b, err
			}
			cas = append(cas, cert.ID)
			continue
		}
		cert, err := c.serverCertLocked(*ci.CertID, now)
		if err != nil {
			return b, err
		}
		alg := encryptAlgorithm(cert)
		switch {
		case alg != algRSA && alg != algECC:
			// UNCERTAIN: CLB's answer for a key it does not pair.
			return b, errorf(codeInvalidParameterValue, "The certificate `%s` has a key CLB does not pair (%s); MultiCertInfo takes RSA and ECC certificates.", cert.ID, keyName(cert))
		case algs[alg] != "":
			// UNCERTAIN: the code; the rule is the SDK's ("多本服务端证书算法类型不能重复").
			return b, errorf(codeInvalidParameterValue, "The certificates `%s` and `%s` are both %s; the server certificates of MultiCertInfo must have different key algorithms.", algs[alg], cert.ID, alg)
		}
		algs[alg] = cert.ID
		b.CertIDs = append(b.CertIDs, cert.ID)
	}
	switch {
	case len(b.CertIDs) == 0:
		return b, errorf(codeInvalidParameter, "MultiCertInfo.CertList holds no server certificate.")
	case b.Mode == sslModeMutual && len(cas) != 1:
		return b, errorf(codeInvalidParameter, "With SSLMode MUTUAL, MultiCertInfo.CertList must hold exactly one CA certificate; it holds %d.", len(cas))
	case b.Mode == sslModeOneWay && len(cas) > 0:
		return b, errorf(codeInvalidParameter, "The CA certificate `%s` in MultiCertInfo.CertList applies to SSLMode MUTUAL only.", cas[0])
	}
	if b.Mode == sslModeMutual {
		b.CaID = cas[0]
	}
	return b, nil
}

// bindingMode checks SSLMode and SSLVerifyClient. CertificateInput documents UNIDIRECTIONAL
// as SSLMode's default; MultiCertInfo documents none, so tcsim requires it there
// (UNCERTAIN). SSLVerifyClient is ON when omitted.
func bindingMode(mode, verify *string, modeRequired bool) (certBinding, error) {
	b := certBinding{Mode: sslModeOneWay}
	switch {
	case mode == nil && modeRequired:
		return b, errorf(codeMissingParameter, "The request is missing a required parameter `MultiCertInfo.SSLMode`.")
	case mode != nil && *mode != sslModeOneWay && *mode != sslModeMutual:
		return b, errorf(codeInvalidParameterValue, "SSLMode must be UNIDIRECTIONAL or MUTUAL.")
	case mode != nil:
		b.Mode = *mode
	}
	switch {
	case verify != nil && *verify != verifyOn && *verify != verifyOptional:
		return b, errorf(codeInvalidParameterValue, "SSLVerifyClient must be ON or OPTIONAL.")
	case verify != nil && b.Mode != sslModeMutual:
		// UNCERTAIN: CLB may ignore it; refusing keeps a client from thinking it set something.
		return b, errorf(codeInvalidParameter, "SSLVerifyClient applies to SSLMode MUTUAL only.")
	case b.Mode == sslModeMutual:
		b.Verify = verifyOn
		if verify != nil {
			b.Verify = *verify
		}
	}
	return b, nil
}

// serverCertLocked is the stored server certificate id, if CLB may bind it now.
func (c *cloud) serverCertLocked(id string, now time.Time) (*sslCert, error) {
	cert := c.certs[id]
	switch {
	case cert == nil:
		// UNCERTAIN: the code and wording for an unknown certificate id.
		return nil, errorf(codeInvalidParameter, "The certificate `%s` is not found.", id)
	case cert.Type != certTypeServer:
		return nil, errorf(codeInvalidParameter, "The certificate `%s` is a CA certificate, not a server certificate.", cert.ID)
	case cert.expired(now):
		// UNCERTAIN: the code CLB answers for an expired certificate.
		return nil, errorf(codeInvalidParameter, "The certificate `%s` expired at %s.", cert.ID, sslTime(cert.leaf().NotAfter))
	}
	return cert, nil
}

// caCertLocked checks that id is a stored CA certificate CLB may verify clients with now.
func (c *cloud) caCertLocked(id string, now time.Time) error {
	cert := c.certs[id]
	switch {
	case cert == nil:
		return errorf(codeInvalidParameter, "The CA certificate `%s` is not found.", id)
	case cert.Type != certTypeCA:
		return errorf(codeInvalidParameter, "The certificate `%s` is a server certificate, not a CA certificate.", cert.ID)
	case cert.expired(now):
		return errorf(codeInvalidParameter, "The CA certificate `%s` expired at %s.", cert.ID, sslTime(cert.leaf().NotAfter))
	}
	return nil
}

// checkBindingLocked checks a binding of the topology against the stored certificates: the
// rules a write must pass, except that certificates may have expired since they were bound.
func (c *cloud) checkBindingLocked(b certBinding) error {
	algs := map[string]string{}
	for _, id := range b.CertIDs {
		cert := c.certs[id]
		switch {
		case cert == nil:
			return fmt.Errorf("certificate %q is not in Options.Certificates", id)
		case cert.Type != certTypeServer:
			return fmt.Errorf("certificate %s is a CA certificate, not a server certificate", id)
		}
		alg := encryptAlgorithm(cert)
		if len(b.CertIDs) > 1 && alg != algRSA && alg != algECC {
			return fmt.Errorf("certificate %s has a key CLB does not pair (%s): pair RSA and ECC certificates", id, keyName(cert))
		}
		if algs[alg] != "" {
			return fmt.Errorf("certificates %s and %s are both %s: a binding's certificates have distinct key algorithms", algs[alg], id, alg)
		}
		algs[alg] = id
	}
	if b.Mode == sslModeMutual {
		if ca := c.certs[b.CaID]; ca == nil || ca.Type != certTypeCA {
			return fmt.Errorf("client CA %q is not a CA certificate of Options.Certificates (type CA)", b.CaID)
		}
	}
	return nil
}

// handshakeConfig is how the binding answers a ClientHello: the first member (in the order
// reported) whose certificate the client supports, else the first member, whose handshake
// then fails as it would on CLB; and with MUTUAL the client CA, requiring a client
// certificate when SSLVerifyClient is ON and checking one if given when it is OPTIONAL.
func (c *cloud) handshakeConfigLocked(b certBinding, hello *tls.ClientHelloInfo, cfg *tls.Config) error {
	var certs []*tls.Certificate
	for _, id := range b.reported() {
		if cert := c.certs[id]; cert != nil && cert.tlsCert != nil {
			certs = append(certs, cert.tlsCert)
		}
	}
	if len(certs) == 0 {
		return fmt.Errorf("no server certificate for %q", hello.ServerName)
	}
	chosen := certs[0]
	for _, cert := range certs {
		if hello.SupportsCertificate(cert) == nil {
			chosen = cert
			break
		}
	}
	cfg.Certificates = []tls.Certificate{*chosen}
	if b.Mode != sslModeMutual {
		return nil
	}
	ca := c.certs[b.CaID]
	if ca == nil {
		return fmt.Errorf("the client CA %s is gone", b.CaID)
	}
	pool := x509.NewCertPool()
	for _, cert := range ca.Chain {
		pool.AddCert(cert)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	if b.Verify == verifyOptional {
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return nil
}
