package inventory

import (
	"context"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	ssl "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Certificates describes the given ids in as few calls as the page size
// allows; ids unknown to the service are simply absent.
func (c *Client) Certificates(ctx context.Context, ids []string) (map[string]Certificate, error) {
	out := map[string]Certificate{}
	for start := 0; start < len(ids); start += 100 {
		batch := ids[start:min(start+100, len(ids))]
		req := ssl.NewDescribeCertificatesRequest()
		req.CertIds = common.StringPtrs(batch)
		req.Limit = common.Uint64Ptr(uint64(len(batch)))
		if err := c.describeCerts(ctx, req, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CertificatesByAlias lists the certificates whose alias starts with prefix.
func (c *Client) CertificatesByAlias(ctx context.Context, prefix string) ([]Certificate, error) {
	found := map[string]Certificate{}
	req := ssl.NewDescribeCertificatesRequest()
	req.SearchKey = common.StringPtr(prefix)
	req.Limit = common.Uint64Ptr(1000)
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

func (c *Client) describeCerts(ctx context.Context, req *ssl.DescribeCertificatesRequest, into map[string]Certificate) error {
	for offset := uint64(0); ; {
		req.Offset = common.Uint64Ptr(offset)
		resp, err := tencent.Do(ctx, c.sslCaller, "DescribeCertificates", func(ctx context.Context) (*ssl.DescribeCertificatesResponse, error) {
			return c.ssl.DescribeCertificatesWithContext(ctx, req)
		})
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
	req := ssl.NewDescribeCertificateDetailRequest()
	req.CertificateId = common.StringPtr(id)
	resp, err := tencent.Do(ctx, c.sslCaller, "DescribeCertificateDetail", func(ctx context.Context) (*ssl.DescribeCertificateDetailResponse, error) {
		return c.ssl.DescribeCertificateDetailWithContext(ctx, req)
	})
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
