package dns01

import (
	"context"
	"fmt"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	dnspod "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// defaultLine is DNSPod's default resolution line; RecordLine is required
// and must be given by its Chinese name.
const defaultLine = "默认"

// zone is a DNSPod domain of the account.
type zone struct {
	Name     string // lower case, no trailing dot
	Punycode string
	Status   string // ENABLE, PAUSE, SPAM
}

// txtRecord is a TXT record as DescribeRecordList shows it.
type txtRecord struct {
	ID    uint64
	Value string
}

// dnspodAPI is the only place that builds DNSPod SDK requests.
type dnspodAPI struct {
	api      tencent.API[*dnspod.Client]
	pageSize uint64
}

// newDNSPodAPI builds the DNSPod client from cfg; DNSPod needs no region.
func newDNSPodAPI(cfg tencent.Config, pageSize uint64) (*dnspodAPI, error) {
	api, err := tencent.NewAPI(cfg, "dnspod", "", dnspod.NewClient)
	if err != nil {
		return nil, fmt.Errorf("create DNSPod client: %w", err)
	}
	return &dnspodAPI{api: api, pageSize: pageSize}, nil
}

func (a *dnspodAPI) zones(ctx context.Context) ([]zone, error) {
	var out []zone
	for offset := int64(0); ; {
		req := dnspod.NewDescribeDomainListRequest()
		req.Offset = common.Int64Ptr(offset)
		req.Limit = common.Int64Ptr(int64(a.pageSize))
		resp, err := tencent.Call(ctx, a.api, "DescribeDomainList", req, (*dnspod.Client).DescribeDomainListWithContext)
		if err != nil {
			return nil, err
		}
		page := resp.Response.DomainList
		for _, d := range page {
			out = append(out, zone{
				Name:     normalize(tencent.Deref(d.Name)),
				Punycode: normalize(tencent.Deref(d.Punycode)),
				Status:   tencent.Deref(d.Status),
			})
		}
		offset += int64(len(page))
		var total uint64
		if info := resp.Response.DomainCountInfo; info != nil {
			total = tencent.Deref(info.AllTotal)
		}
		if len(page) == 0 || uint64(offset) >= total {
			return out, nil
		}
	}
}

func (a *dnspodAPI) createTXT(ctx context.Context, zoneName, sub, value string, ttl uint64) (uint64, error) {
	req := dnspod.NewCreateRecordRequest()
	req.Domain = common.StringPtr(zoneName)
	req.SubDomain = common.StringPtr(sub)
	req.RecordType = common.StringPtr("TXT")
	req.RecordLine = common.StringPtr(defaultLine)
	req.Value = common.StringPtr(value)
	req.TTL = common.Uint64Ptr(ttl)
	resp, err := tencent.Call(ctx, a.api, "CreateRecord", req, (*dnspod.Client).CreateRecordWithContext)
	if err != nil {
		return 0, err
	}
	return tencent.Deref(resp.Response.RecordId), nil
}

func (a *dnspodAPI) deleteRecord(ctx context.Context, zoneName string, id uint64) error {
	req := dnspod.NewDeleteRecordRequest()
	req.Domain = common.StringPtr(zoneName)
	req.RecordId = common.Uint64Ptr(id)
	_, err := tencent.Call(ctx, a.api, "DeleteRecord", req, (*dnspod.Client).DeleteRecordWithContext)
	return err
}

// listTXT returns the TXT records at sub. DescribeRecordList answers an empty
// result with ResourceNotFound.NoDataOfRecord, which here means "none".
func (a *dnspodAPI) listTXT(ctx context.Context, zoneName, sub string) ([]txtRecord, error) {
	var out []txtRecord
	for offset := uint64(0); ; {
		req := dnspod.NewDescribeRecordListRequest()
		req.Domain = common.StringPtr(zoneName)
		req.Subdomain = common.StringPtr(sub)
		req.RecordType = common.StringPtr("TXT")
		req.Offset = common.Uint64Ptr(offset)
		req.Limit = common.Uint64Ptr(a.pageSize)
		resp, err := tencent.Call(ctx, a.api, "DescribeRecordList", req, (*dnspod.Client).DescribeRecordListWithContext)
		if tencent.IsCode(err, "ResourceNotFound.NoDataOfRecord") {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		page := resp.Response.RecordList
		for _, r := range page {
			if strings.EqualFold(tencent.Deref(r.Type), "TXT") && strings.EqualFold(tencent.Deref(r.Name), sub) {
				out = append(out, txtRecord{ID: tencent.Deref(r.RecordId), Value: unquote(tencent.Deref(r.Value))})
			}
		}
		offset += uint64(len(page))
		var total uint64
		if info := resp.Response.RecordCountInfo; info != nil {
			total = tencent.Deref(info.TotalCount)
		}
		if len(page) == 0 || offset >= total {
			return out, nil
		}
	}
}

// unquote strips the quotes some consoles and APIs put around TXT values.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

func normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}

// relative is the DNSPod SubDomain of fqdn in zone: "@" at the apex. Passing
// the FQDN instead would create "<fqdn>.<zone>".
func relative(fqdn, zoneName string) string {
	if fqdn == zoneName {
		return "@"
	}
	return strings.TrimSuffix(fqdn, "."+zoneName)
}

func ttlError(err error, ttl uint64, zoneName string) error {
	return fmt.Errorf("DNSPod refused TTL %d for a record in zone %s (LimitExceeded.RecordTtlLimit): %w: %w", ttl, zoneName, ErrTTLRefused, err)
}
