package ssl

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Certificate is a certificate in the SSL service.
type Certificate struct {
	ID    string `json:"id"`
	Alias string `json:"alias"`
	// Names are the certificate's DNS names (the main domain and the other
	// SANs), lower-cased.
	Names []string `json:"names"`
	// Algorithm is the key's algorithm as the SSL service names it: RSA,
	// ECC, or SM2.
	Algorithm string    `json:"algorithm,omitempty"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// Fingerprint is the lowercase hex SHA-256 of the leaf's DER, computed
	// from the certificate DescribeCertificateDetail returns; FingerprintSHA1
	// is the service's own CertFingerprint. Both are empty unless
	// Options.Fingerprints asked for them (DescribeCertificates has no
	// fingerprint).
	Fingerprint     string `json:"fingerprint,omitempty"`
	FingerprintSHA1 string `json:"fingerprintSha1,omitempty"`
}

// SameLeaf reports whether the certificate's leaf is the one with DER der,
// and whether that could be told at all: only by fingerprint, which the
// certificate has when it was collected with Options.Fingerprints.
func (c Certificate) SameLeaf(der []byte) (same, known bool) {
	switch {
	case c.Fingerprint != "":
		return c.Fingerprint == lineage.Fingerprint(der), true
	case c.FingerprintSHA1 != "":
		sum := sha1.Sum(der)
		return c.FingerprintSHA1 == hex.EncodeToString(sum[:]), true
	}
	return false, false
}

// ErrNoFingerprint is Fingerprint's answer for a certificate whose details
// carry neither the certificate nor its fingerprint.
var ErrNoFingerprint = errors.New("the SSL service gave neither the certificate nor its fingerprint")

// Certificates describes the given ids in as few calls as the page size
// allows; ids unknown to the service are simply absent.
func (c *Client) Certificates(ctx context.Context, ids []string) (map[string]Certificate, error) {
	out := map[string]Certificate{}
	for start := 0; start < len(ids); start += 100 {
		batch := ids[start:min(start+100, len(ids))]
		req := sslsdk.NewDescribeCertificatesRequest()
		req.CertIds = common.StringPtrs(batch)
		req.Limit = ptr(uint64(len(batch)))
		if err := c.describeCerts(ctx, req, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CertificatesByAlias lists the certificates whose alias starts with prefix.
func (c *Client) CertificatesByAlias(ctx context.Context, prefix string) ([]Certificate, error) {
	found := map[string]Certificate{}
	req := sslsdk.NewDescribeCertificatesRequest()
	req.SearchKey = &prefix
	req.Limit = ptr(uint64(1000))
	if err := c.describeCerts(ctx, req, found); err != nil {
		return nil, err
	}
	var out []Certificate
	for _, sc := range found {
		if strings.HasPrefix(sc.Alias, prefix) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func (c *Client) describeCerts(ctx context.Context, req *sslsdk.DescribeCertificatesRequest, into map[string]Certificate) error {
	for offset := uint64(0); ; {
		req.Offset = ptr(offset)
		resp, err := tencent.Call(ctx, c.api, "DescribeCertificates", req, (*sslsdk.Client).DescribeCertificatesWithContext)
		if err != nil {
			return fmt.Errorf("describe certificates: %w", err)
		}
		page := resp.Response.Certificates
		for _, sc := range page {
			// The list's SubjectAltName includes the main domain; Domain is
			// added anyway in case a service version leaves it out.
			names := tencent.DerefAll(sc.SubjectAltName)
			if d := tencent.Deref(sc.Domain); d != "" {
				names = append(names, d)
			}
			id := tencent.Deref(sc.CertificateId)
			into[id] = Certificate{ID: id, Alias: tencent.Deref(sc.Alias), Names: normalize(names), Algorithm: tencent.Deref(sc.EncryptAlgorithm),
				NotBefore: gmt8(tencent.Deref(sc.CertBeginTime)), NotAfter: gmt8(tencent.Deref(sc.CertEndTime))}
		}
		offset += uint64(len(page))
		if len(page) == 0 || offset >= tencent.Deref(resp.Response.TotalCount) {
			return nil
		}
	}
}

// Fingerprint learns a certificate's fingerprints from
// DescribeCertificateDetail, the only SSL action that has one: the SHA-256
// of the leaf in CertificatePublicKey (the identity clbcert uses
// everywhere), and the service's SHA-1 CertFingerprint, lower-cased without
// separators. Either may be empty, not both.
//
// The same answer carries the private key: it is dropped here, unread.
func (c *Client) Fingerprint(ctx context.Context, id string) (sha256, sha1 string, err error) {
	req := sslsdk.NewDescribeCertificateDetailRequest()
	req.CertificateId = &id
	resp, err := tencent.Call(ctx, c.api, "DescribeCertificateDetail", req, (*sslsdk.Client).DescribeCertificateDetailWithContext)
	if err != nil {
		return "", "", fmt.Errorf("describe certificate %s: %w", id, err)
	}
	if block, _ := pem.Decode([]byte(tencent.Deref(resp.Response.CertificatePublicKey))); block != nil && block.Type == "CERTIFICATE" {
		sha256 = lineage.Fingerprint(block.Bytes)
	}
	sha1 = strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(tencent.Deref(resp.Response.CertFingerprint)))
	if sha256 == "" && sha1 == "" {
		return "", "", fmt.Errorf("describe certificate %s: %w", id, ErrNoFingerprint)
	}
	return sha256, sha1, nil
}

func normalize(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// gmt8 parses the SSL service's "YYYY-MM-DD HH:MM:SS" times, which are
// Beijing time; the zero time if it cannot.
func gmt8(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, time.FixedZone("GMT+8", 8*3600))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Upload stores the certificate once: with Repeatable=false the service
// answers an upload of a fingerprint it already holds with that
// certificate's id, so a re-run after a kill never leaves a duplicate.
// fresh is false for such an answer.
func (c *Client) Upload(ctx context.Context, fullchain, key, alias string) (id string, fresh bool, err error) {
	req := sslsdk.NewUploadCertificateRequest()
	req.CertificatePublicKey, req.CertificatePrivateKey = &fullchain, &key
	req.CertificateType, req.Alias, req.CertificateUse = ptr("SVR"), &alias, ptr("CLB")
	req.Repeatable = ptr(false)
	resp, err := tencent.Call(ctx, c.api, "UploadCertificate", req, (*sslsdk.Client).UploadCertificateWithContext)
	if err != nil {
		return "", false, fmt.Errorf("upload the certificate: %w", err)
	}
	if id := tencent.Deref(resp.Response.RepeatCertId); id != "" {
		return id, false, nil
	}
	return tencent.Deref(resp.Response.CertificateId), true, nil
}

// Delete deletes certificate id from the service.
func (c *Client) Delete(ctx context.Context, id string) error {
	req := sslsdk.NewDeleteCertificateRequest()
	req.CertificateId = &id
	_, err := tencent.Call(ctx, c.api, "DeleteCertificate", req, (*sslsdk.Client).DeleteCertificateWithContext)
	return err
}
