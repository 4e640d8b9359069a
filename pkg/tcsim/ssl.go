package tcsim

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SSL Certificates API 2019-12-05. Field names follow the SDK's models.go (ssl v1.3.105),
// behaviour docs/tencentcloud-api.md §2. The service takes no region; X-TC-Region is ignored.
const (
	sslService = "ssl"
	sslVersion = "2019-12-05"

	codeSSLRateLimit       = "LimitExceeded.RateLimitExceeded"
	codeCertNotFound       = "FailedOperation.CertificateNotFound"
	codeDeleteResource     = "FailedOperation.DeleteResourceFailed"
	codeSSLInvalidParam    = "FailedOperation.InvalidParam"
	codeRoleNotAuthorised  = "FailedOperation.RoleNotFoundAuthorization"
	certListDefaultLimit   = 10
	certListMaxLimit       = 1000
	certStatusNormal       = 1
	certStatusExpired      = 3
	certExpiringWithin     = 30 * 24 * time.Hour
	certFromUpload         = "upload"
	certStatusNameNormal   = "已通过"
	certStatusNameExpired  = "已过期"
	certDomainTypeSingle   = 1
	certDomainTypeMulti    = 2
	certDomainTypeWildcard = 3
	certDomainTypeMultiWC  = 4
)

func (c *cloud) registerSSL(rt *routes) {
	rt.setLimitCode(sslService, codeSSLRateLimit)
	rt.addAll(sslService, sslVersion, map[string]handler{
		"UploadCertificate":         typed(c.uploadCertificate),
		"DescribeCertificates":      typed(c.describeCertificates),
		"DescribeCertificateDetail": typed(c.describeCertificateDetail),
		"DeleteCertificate":         typed(c.deleteCertificate),
	})
}

// Request parameters: every name the SDK can send (a test compares them with the SDK's).

type sslTag struct {
	TagKey   string `tc:"required"`
	TagValue string
}

type uploadCertificateParams struct {
	CertificatePublicKey *string `tc:"required"`
	ProjectID            *uint64 `json:"ProjectId"`
	Tags                 []sslTag
	Repeatable           *bool

	CertificatePrivateKey, CertificateType, Alias, CertificateUse, KeyPassword *string
}

// describeCertificatesParams: Renew, IsSM, Hostable, IsPendingIssue and ServiceId concern
// certificates bought from Tencent Cloud, which the simulated account has none of; they are
// accepted and change nothing.
type describeCertificatesParams struct {
	paging[uint64]
	ProjectID         *uint64 `json:"ProjectId"`
	CertificateStatus []*uint64
	Tags              []sslTag
	CertIDs           []*string `json:"CertIds"`
	ServiceID         *string   `json:"ServiceId"`

	SearchKey, CertificateType, ExpirationSort, FilterSource *string

	Deployable, FilterExpiring, Hostable *uint64

	Upload, Renew, IsSM, IsPendingIssue *int64
}

type certificateIDParams struct {
	CertificateID *string `json:"CertificateId" tc:"required"`
}

type deleteCertificateParams struct {
	CertificateID   *string `json:"CertificateId" tc:"required"`
	IsCheckResource *bool
}

// Responses: the fields tcsim fills, a subset of the SDK's (a test checks the names).

type uploadCertificateResponse struct {
	CertificateID string `json:"CertificateId"`
	RepeatCertID  string `json:"RepeatCertId"`
}

// certSummary is what DescribeCertificates' items and DescribeCertificateDetail both say of
// a certificate, filled by summary.
type certSummary struct {
	ProjectID     string `json:"ProjectId"`
	Status        uint64
	CertificateID string `json:"CertificateId"`
	Tags          []sslTag

	OwnerUin, From, CertificateType, Domain, Alias, StatusName, CertBeginTime, CertEndTime, InsertTime string

	IsVip, IsDv, IsWildcard, IsVulnerability, RenewAble, Deployable bool
}

// summary is cert's certSummary as of now.
func summary(cert *sslCert, now time.Time) certSummary {
	leaf := cert.leaf()
	status, statusName := certStatus(cert, now)
	return certSummary{
		OwnerUin:        accountUin,
		ProjectID:       strconv.FormatUint(cert.ProjectID, 10),
		From:            certFromUpload,
		CertificateType: cert.Type,
		Domain:          cert.Domain,
		Alias:           cert.Alias,
		Status:          status,
		StatusName:      statusName,
		CertBeginTime:   sslTime(leaf.NotBefore),
		CertEndTime:     sslTime(leaf.NotAfter),
		InsertTime:      sslTime(cert.Inserted),
		CertificateID:   cert.ID,
		IsWildcard:      isWildcard(cert),
		Deployable:      deployable(cert, now),
		Tags:            tagsOrEmpty(cert.Tags),
	}
}

type certificatesItem struct {
	certSummary
	EncryptAlgorithm string

	SubjectAltName, CertSANs []string

	IsSM, IsExpiring, AllowDownload bool
}

type describeCertificatesResponse struct {
	TotalCount   uint64
	Certificates []certificatesItem
}

type certBasicInfo struct {
	Issuer, Subject, Fingerprint, ValidFrom, ValidTo string
}

type describeCertificateDetailResponse struct {
	certSummary
	SubjectAltName []string
	CertChainInfo  []certBasicInfo
	DomainType     uint64

	CertificatePrivateKey, CertificatePublicKey, CertFingerprint string
}

type deleteCertificateResponse struct {
	DeleteResult bool
}

func (c *cloud) uploadCertificate(_ context.Context, r *request, p *uploadCertificateParams) (any, error) {
	certType := certTypeServer
	if p.CertificateType != nil {
		certType = *p.CertificateType
	}
	if certType != certTypeServer && certType != certTypeCA {
		return nil, errorf(codeSSLInvalidParam, "The parameter `CertificateType` must be SVR or CA.")
	}
	if p.CertificateUse != nil {
		switch *p.CertificateUse {
		case "CLB", "CDN", "WAF", "LIVE", "DDOS":
		default:
			// UNCERTAIN: the code for an unknown CertificateUse is not documented.
			return nil, errorf(codeSSLInvalidParam, "The parameter `CertificateUse` must be one of CLB, CDN, WAF, LIVE, DDOS.")
		}
	}
	cert, err := parseCert(*p.CertificatePublicKey, deref(p.CertificatePrivateKey), certType, r.Now, true)
	if err != nil {
		return nil, err
	}
	cert.Alias = deref(p.Alias)
	cert.Tags = p.Tags
	if p.ProjectID != nil {
		cert.ProjectID = *p.ProjectID
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if p.Repeatable != nil && !*p.Repeatable {
		for _, old := range c.sortedCertsLocked() {
			if old.SHA256 == cert.SHA256 && old.Type == cert.Type {
				// UNCERTAIN: whether CertificateId is also filled for a repeat; tcsim fills
				// both with the existing id, so clients must not count on it being empty.
				return uploadCertificateResponse{CertificateID: old.ID, RepeatCertID: old.ID}, nil
			}
		}
	}
	c.addCertLocked(cert, "", r.Now, true)
	return uploadCertificateResponse{CertificateID: cert.ID}, nil
}

func (c *cloud) describeCertificates(_ context.Context, r *request, p *describeCertificatesParams) (any, error) {
	offset, limit := p.window(certListDefaultLimit)
	// UNCERTAIN: Limit 0 is taken as the default. Over the maximum is documented to be
	// treated as the maximum.
	if limit == 0 {
		limit = certListDefaultLimit
	}
	limit = min(limit, certListMaxLimit)
	if p.ExpirationSort != nil && *p.ExpirationSort != "ASC" && *p.ExpirationSort != "DESC" {
		return nil, errorf(codeSSLInvalidParam, "The parameter `ExpirationSort` must be ASC or DESC.")
	}
	if p.CertificateType != nil && *p.CertificateType != certTypeServer && *p.CertificateType != certTypeCA {
		return nil, errorf(codeSSLInvalidParam, "The parameter `CertificateType` must be SVR or CA.")
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var matched []*sslCert
	for _, cert := range c.sortedCertsLocked() {
		if certMatches(cert, p, r.Now) {
			matched = append(matched, cert)
		}
	}
	// The documented order is by insertion, newest first; ExpirationSort orders by end time.
	slices.Reverse(matched)
	if p.ExpirationSort != nil {
		desc := *p.ExpirationSort == "DESC"
		slices.SortStableFunc(matched, func(a, b *sslCert) int {
			if desc {
				return b.leaf().NotAfter.Compare(a.leaf().NotAfter)
			}
			return a.leaf().NotAfter.Compare(b.leaf().NotAfter)
		})
	}
	resp := describeCertificatesResponse{TotalCount: uint64(len(matched)), Certificates: []certificatesItem{}}
	for _, cert := range page(matched, offset, limit) {
		resp.Certificates = append(resp.Certificates, certificatesItem{
			certSummary:      summary(cert, r.Now),
			SubjectAltName:   namesWithDomain(cert),
			CertSANs:         slices.Clone(cert.Names),
			EncryptAlgorithm: encryptAlgorithm(cert),
			IsExpiring:       isExpiring(cert, r.Now),
			AllowDownload:    true,
		})
	}
	return resp, nil
}

// certMatches applies DescribeCertificates' filters.
func certMatches(cert *sslCert, p *describeCertificatesParams, now time.Time) bool {
	if len(p.CertIDs) > 0 && !slices.ContainsFunc(p.CertIDs, func(id *string) bool { return id != nil && *id == cert.ID }) {
		return false
	}
	if key := strings.ToLower(deref(p.SearchKey)); key != "" &&
		!strings.Contains(strings.ToLower(cert.ID), key) &&
		!strings.Contains(strings.ToLower(cert.Alias), key) &&
		!strings.Contains(strings.ToLower(cert.Domain), key) {
		return false
	}
	if p.CertificateType != nil && *p.CertificateType != cert.Type {
		return false
	}
	if p.ProjectID != nil && *p.ProjectID != cert.ProjectID {
		return false
	}
	status, _ := certStatus(cert, now)
	if len(p.CertificateStatus) > 0 && !slices.ContainsFunc(p.CertificateStatus, func(s *uint64) bool { return s != nil && *s == status }) {
		return false
	}
	if p.Deployable != nil && (*p.Deployable == 1) != deployable(cert, now) {
		return false
	}
	// Every certificate of the simulated account was uploaded; none was bought.
	if p.FilterSource != nil && *p.FilterSource != "" && *p.FilterSource != certFromUpload {
		return false
	}
	if p.FilterExpiring != nil && *p.FilterExpiring == 1 && !isExpiring(cert, now) {
		return false
	}
	for _, want := range p.Tags {
		if !slices.Contains(cert.Tags, want) {
			return false
		}
	}
	// UNCERTAIN: the SDK describes Upload=1 as "only uploaded (hosted)"; every certificate here
	// is uploaded, so the filter keeps them all.
	return true
}

func (c *cloud) describeCertificateDetail(_ context.Context, r *request, p *certificateIDParams) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert := c.certs[*p.CertificateID]
	if cert == nil {
		return nil, errorf(codeCertNotFound, "The certificate `%s` does not exist.", *p.CertificateID)
	}
	var others []string
	for _, n := range cert.Names {
		if n != cert.Domain {
			others = append(others, n)
		}
	}
	resp := describeCertificateDetailResponse{
		certSummary:           summary(cert, r.Now),
		CertificatePrivateKey: cert.KeyPEM,
		CertificatePublicKey:  cert.PublicPEM,
		SubjectAltName:        append([]string{}, others...),
		// UNCERTAIN: the documentation says "SHA1 fingerprint" without the spelling;
		// tcsim answers lower-case hex without separators.
		CertFingerprint: cert.SHA1,
		// UNCERTAIN: the SDK documents this answer's EncryptAlgorithm for SM certificates only
		// ("证书加密算法（国密证书特有）"), and tcsim holds none, so it is left out: a client must
		// read the algorithm from DescribeCertificates or from CertificatePublicKey.
		DomainType: domainType(cert),
	}
	for _, ch := range cert.Chain {
		sum := sha1Hex(ch.Raw)
		resp.CertChainInfo = append(resp.CertChainInfo, certBasicInfo{
			Issuer: ch.Issuer.String(), Subject: ch.Subject.String(), Fingerprint: sum,
			ValidFrom: sslTime(ch.NotBefore), ValidTo: sslTime(ch.NotAfter),
		})
	}
	return resp, nil
}

func (c *cloud) deleteCertificate(_ context.Context, r *request, p *deleteCertificateParams) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	id := *p.CertificateID
	if c.certs[id] == nil {
		return nil, errorf(codeCertNotFound, "The certificate `%s` does not exist.", id)
	}
	if p.IsCheckResource != nil && *p.IsCheckResource {
		// The checked delete needs the SSL_QCSLinkedRoleInReplaceLoadCertificate service role,
		// which the simulated account has not authorised (and its asynchronous task result
		// API is not simulated).
		return nil, errorf(codeRoleNotAuthorised, "The service role SSL_QCSLinkedRoleInReplaceLoadCertificate is not authorised.")
	}
	// UNCERTAIN: the documentation leaves open whether a delete without IsCheckResource is
	// refused for a certificate in use; the error list says DeleteResourceFailed, and tcsim
	// refuses, because deleting a served certificate is the mistake that must not pass.
	if holders := c.holdersLocked(id); len(holders) > 0 {
		return nil, errorf(codeDeleteResource, "The certificate `%s` is associated with cloud resources (%s) and cannot be deleted.",
			id, strings.Join(holders, ", "))
	}
	delete(c.certs, id)
	return deleteCertificateResponse{DeleteResult: true}, nil
}

func certStatus(cert *sslCert, now time.Time) (uint64, string) {
	if cert.expired(now) {
		return certStatusExpired, certStatusNameExpired
	}
	return certStatusNormal, certStatusNameNormal
}

// namesWithDomain is the list's SubjectAltName: the main domain first, then the other SANs.
func namesWithDomain(cert *sslCert) []string {
	out := []string{}
	if cert.Domain != "" {
		out = append(out, cert.Domain)
	}
	for _, n := range cert.Names {
		if n != cert.Domain {
			out = append(out, n)
		}
	}
	return out
}

func isWildcard(cert *sslCert) bool {
	return strings.HasPrefix(cert.Domain, "*.") || slices.ContainsFunc(cert.Names, func(n string) bool { return strings.HasPrefix(n, "*.") })
}

// deployable: UNCERTAIN whether the service marks an expired upload undeployable; tcsim does,
// as CLB refuses to bind it.
func deployable(cert *sslCert, now time.Time) bool {
	return cert.Type == certTypeServer && !cert.expired(now)
}

func isExpiring(cert *sslCert, now time.Time) bool {
	return !cert.expired(now) && cert.leaf().NotAfter.Sub(now) <= certExpiringWithin
}

// Key algorithms as the SDK names them in EncryptAlgorithm: RSA, ECC and SM2. Go parses no SM2
// certificate, so tcsim holds none.
const (
	algRSA = "RSA"
	algECC = "ECC"
)

// encryptAlgorithm is DescribeCertificates' EncryptAlgorithm; "" for a key the SDK names no
// algorithm for (Ed25519).
func encryptAlgorithm(cert *sslCert) string {
	switch cert.leaf().PublicKey.(type) {
	case *rsa.PublicKey:
		return algRSA
	case *ecdsa.PublicKey:
		return algECC
	}
	return ""
}

// keyName names the leaf's key for messages.
func keyName(cert *sslCert) string {
	if _, ok := cert.leaf().PublicKey.(ed25519.PublicKey); ok {
		return "Ed25519"
	}
	return fmt.Sprintf("%T", cert.leaf().PublicKey)
}

// domainType: 1 single domain, 2 several, 3 one wildcard, 4 several with a wildcard.
func domainType(cert *sslCert) uint64 {
	names := namesWithDomain(cert)
	switch {
	case len(names) <= 1 && isWildcard(cert):
		return certDomainTypeWildcard
	case len(names) <= 1:
		return certDomainTypeSingle
	case isWildcard(cert):
		return certDomainTypeMultiWC
	}
	return certDomainTypeMulti
}

func tagsOrEmpty(tags []sslTag) []sslTag {
	if tags == nil {
		return []sslTag{}
	}
	return tags
}
