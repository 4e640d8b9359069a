package tcsim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"

	"github.com/clbcert/clbcert/internal/clocktest"
)

// TestDNSPodParamsMatchSDK guards strict decoding: every name the SDK can send must be known,
// or a legitimate call would fail with UnknownParameter.
func TestDNSPodParamsMatchSDK(t *testing.T) {
	// Responses too must match the SDK name for name: DNSPod's answers are filled in full.
	checkParamsMatchSDK(t, [][2]any{
		{describeDomainListParams{}, dnspodsdk.DescribeDomainListRequestParams{}},
		{tagItemFilter{}, dnspodsdk.TagItemFilter{}},
		{describeDomainParams{}, dnspodsdk.DescribeDomainRequestParams{}},
		{describeRecordListParams{}, dnspodsdk.DescribeRecordListRequestParams{}},
		{createRecordParams{}, dnspodsdk.CreateRecordRequestParams{}},
		{modifyRecordParams{}, dnspodsdk.ModifyRecordRequestParams{}},
		{deleteRecordParams{}, dnspodsdk.DeleteRecordRequestParams{}},
		{describeDomainListResponse{}, dnspodsdk.DescribeDomainListResponseParams{}},
		{domainCountInfo{}, dnspodsdk.DomainCountInfo{}},
		{domainListItem{}, dnspodsdk.DomainListItem{}},
		{describeDomainResponse{}, dnspodsdk.DescribeDomainResponseParams{}},
		{domainInfo{}, dnspodsdk.DomainInfo{}},
		{describeRecordListResponse{}, dnspodsdk.DescribeRecordListResponseParams{}},
		{recordCountInfo{}, dnspodsdk.RecordCountInfo{}},
		{recordListItem{}, dnspodsdk.RecordListItem{}},
		{recordIDResponse{}, dnspodsdk.CreateRecordResponseParams{}},
		{tagItem{}, dnspodsdk.TagItem{}},
	}, nil)
}

func TestDescribeDomainList(t *testing.T) {
	zones := []ZoneSpec{{Name: "e.test"}, {Name: "a.test"}, {Name: "d.test"}, {Name: "c.test"}, {Name: "b.test"}}
	s := startSim(t, Options{Zones: zones, Nameservers: []NameserverSpec{
		{Host: "ns1.tcsim.test.", IP: "127.0.0.1"}, {Host: "ns2.tcsim.test.", IP: "127.0.0.2"},
	}})
	c := dnspodClient(t, s, s.Credential())

	var got []string
	for offset := int64(0); ; offset += 2 {
		req := dnspodsdk.NewDescribeDomainListRequest()
		req.Offset, req.Limit = ptr(offset), ptr(int64(2))
		resp, err := c.DescribeDomainList(req)
		if err != nil {
			t.Fatal(err)
		}
		if n := *resp.Response.DomainCountInfo.AllTotal; n != 5 {
			t.Fatalf("AllTotal = %d, want 5", n)
		}
		for _, d := range resp.Response.DomainList {
			got = append(got, *d.Name)
			if *d.Status != "ENABLE" || *d.Grade != "DP_FREE" || *d.Punycode != *d.Name || *d.TTL != 600 {
				t.Errorf("domain %s: %+v", *d.Name, *d)
			}
			if len(d.EffectiveDNS) != 2 || *d.EffectiveDNS[0] != "ns1.tcsim.test" || *d.EffectiveDNS[1] != "ns2.tcsim.test" {
				t.Errorf("EffectiveDNS %v", d.EffectiveDNS)
			}
			if *d.RecordCount != 2 {
				t.Errorf("RecordCount %d, want the 2 default NS records", *d.RecordCount)
			}
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`).MatchString(*d.CreatedOn) {
				t.Errorf("CreatedOn %q", *d.CreatedOn)
			}
		}
		if len(resp.Response.DomainList) < 2 {
			break
		}
	}
	if want := []string{"a.test", "b.test", "c.test", "d.test", "e.test"}; !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}

	req := dnspodsdk.NewDescribeDomainListRequest()
	resp, err := c.DescribeDomainList(req)
	if err != nil || len(resp.Response.DomainList) != 5 {
		t.Errorf("default limit: %v, %d domains", err, len(resp.Response.DomainList))
	}
	req.Keyword = ptr("c.")
	if resp, err := c.DescribeDomainList(req); err != nil || len(resp.Response.DomainList) != 1 || *resp.Response.DomainCountInfo.DomainTotal != 1 {
		t.Errorf("Keyword: %v %v", err, resp)
	}
	for _, limit := range []int64{0, 3001} {
		req := dnspodsdk.NewDescribeDomainListRequest()
		req.Limit = ptr(limit)
		if _, err := c.DescribeDomainList(req); sdkCode(err) != codeLimitInvalid {
			t.Errorf("Limit %d: %v, want %s", limit, err, codeLimitInvalid)
		}
	}
}

func TestDescribeDomain(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}}})
	c := dnspodClient(t, s, s.Credential())
	req := dnspodsdk.NewDescribeDomainRequest()
	req.Domain = ptr("example.test")
	resp, err := c.DescribeDomain(req)
	if err != nil {
		t.Fatal(err)
	}
	info := resp.Response.DomainInfo
	if *info.Domain != "example.test" || *info.DomainId != firstDomainID || len(info.DnspodNsList) != 1 || *info.DnspodNsList[0] != "ns1.tcsim.test" {
		t.Errorf("DomainInfo %+v", *info)
	}
	byID := dnspodsdk.NewDescribeDomainRequest()
	byID.DomainId = info.DomainId
	if _, err := c.DescribeDomain(byID); err != nil {
		t.Errorf("by DomainId: %v", err)
	}
	req.Domain = ptr("missing.test")
	if _, err := c.DescribeDomain(req); sdkCode(err) != codeDomainNotExists {
		t.Errorf("unknown domain: %v", err)
	}
	if _, err := c.DescribeDomain(dnspodsdk.NewDescribeDomainRequest()); sdkCode(err) != codeMissingParameter {
		t.Errorf("no domain: %v", err)
	}
}

func createTXT(zone, host, value string) *dnspodsdk.CreateRecordRequest {
	req := dnspodsdk.NewCreateRecordRequest()
	req.Domain, req.SubDomain, req.RecordType, req.RecordLine, req.Value = ptr(zone), ptr(host), ptr("TXT"), ptr("默认"), ptr(value)
	return req
}

func TestCreateRecordValidation(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{
		{Name: "example.test", Records: []RecordSpec{{Name: "www", Type: "CNAME", Value: "lb.example.net."}}},
		{Name: "paid.test", MinTTL: 1},
	}})
	c := dnspodClient(t, s, s.Credential())
	if _, err := c.CreateRecord(createTXT("example.test", "_acme-challenge", "dup")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(r *dnspodsdk.CreateRecordRequest)
		want string
	}{
		{"valid", func(*dnspodsdk.CreateRecordRequest) {}, ""},
		{"same host, another value (wildcard and apex)", func(r *dnspodsdk.CreateRecordRequest) { r.Value = ptr("dup2") }, ""},
		{"line id instead of line", func(r *dnspodsdk.CreateRecordRequest) { r.RecordLine, r.RecordLineId = nil, ptr("0") }, ""},
		{"low TTL on a plan that allows it", func(r *dnspodsdk.CreateRecordRequest) { r.Domain, r.TTL = ptr("paid.test"), ptr(uint64(1)) }, ""},
		{"identical record", func(r *dnspodsdk.CreateRecordRequest) { r.Value = ptr("dup") }, codeDomainRecordExist},
		{"line not default", func(r *dnspodsdk.CreateRecordRequest) { r.RecordLine = ptr("电信") }, codeRecordLineInvalid},
		{"English line name", func(r *dnspodsdk.CreateRecordRequest) { r.RecordLine = ptr("default") }, codeRecordLineInvalid},
		{"line id not default", func(r *dnspodsdk.CreateRecordRequest) { r.RecordLineId = ptr("10=1") }, codeRecordLineInvalid},
		{"no line", func(r *dnspodsdk.CreateRecordRequest) { r.RecordLine = nil }, codeMissingParameter},
		{"TTL below the plan minimum", func(r *dnspodsdk.CreateRecordRequest) { r.TTL = ptr(uint64(120)) }, codeRecordTTLLimit},
		{"TTL above the maximum", func(r *dnspodsdk.CreateRecordRequest) { r.TTL = ptr(uint64(604801)) }, codeRecordTTLLimit},
		{"lower-case type", func(r *dnspodsdk.CreateRecordRequest) { r.RecordType = ptr("txt") }, codeRecordTypeInvalid},
		{"unknown type", func(r *dnspodsdk.CreateRecordRequest) { r.RecordType = ptr("SPF1") }, codeRecordTypeInvalid},
		{"no type", func(r *dnspodsdk.CreateRecordRequest) { r.RecordType = nil }, codeMissingParameter},
		{"TXT too long", func(r *dnspodsdk.CreateRecordRequest) { r.Value = ptr(strings.Repeat("x", 513)) }, codeRecordValueLengthInvalid},
		{"empty value", func(r *dnspodsdk.CreateRecordRequest) { r.Value = ptr("") }, codeMissingParameter},
		{"no value", func(r *dnspodsdk.CreateRecordRequest) { r.Value = nil }, codeMissingParameter},
		{"domain not in the account", func(r *dnspodsdk.CreateRecordRequest) { r.Domain = ptr("other.test") }, codeDomainNotExists},
		{"FQDN given as Domain", func(r *dnspodsdk.CreateRecordRequest) { r.Domain = ptr("_acme-challenge.example.test") }, codeDomainNotExists},
		{"no domain", func(r *dnspodsdk.CreateRecordRequest) { r.Domain = nil }, codeMissingParameter},
		{"unknown domain id", func(r *dnspodsdk.CreateRecordRequest) { r.DomainId = ptr(uint64(1)) }, codeDomainNotExists},
		{"bad subdomain", func(r *dnspodsdk.CreateRecordRequest) { r.SubDomain = ptr("a..b") }, codeSubdomainInvalid},
		{"A value not IPv4", func(r *dnspodsdk.CreateRecordRequest) { r.RecordType, r.Value = ptr("A"), ptr("1.2.3") }, codeRecordValueInvalid},
		{"TXT beside a CNAME", func(r *dnspodsdk.CreateRecordRequest) { r.SubDomain = ptr("www") }, codeRecordValueInvalid},
		{"CNAME beside a TXT", func(r *dnspodsdk.CreateRecordRequest) { r.RecordType, r.Value = ptr("CNAME"), ptr("x.example.net.") }, codeRecordValueInvalid},
		{"MX without priority", func(r *dnspodsdk.CreateRecordRequest) { r.RecordType, r.Value = ptr("MX"), ptr("mail.example.test.") }, codeMXInvalid},
		{"weight over 100", func(r *dnspodsdk.CreateRecordRequest) { r.Value, r.Weight = ptr("w"), ptr(uint64(101)) }, codeInvalidWeight},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := createTXT("example.test", "_acme-challenge", fmt.Sprintf("value-%d", i))
			tt.edit(req)
			_, err := c.CreateRecord(req)
			if got := sdkCode(err); got != tt.want {
				t.Errorf("code %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func TestCreateRecordDefaultsAndFQDNSubdomain(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}}})
	c := dnspodClient(t, s, s.Credential())
	apex := createTXT("example.test", "", "apex")
	apex.SubDomain = nil
	resp, err := c.CreateRecord(apex)
	if err != nil {
		t.Fatal(err)
	}
	if id := *resp.Response.RecordId; id < firstRecordID {
		t.Errorf("RecordId %d is not realistic", id)
	}
	doubled, err := c.CreateRecord(createTXT("example.test", "_acme-challenge.example.test", "oops"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[uint64]Record{}
	for _, r := range s.Records("example.test") {
		byID[r.ID] = r
	}
	if r := byID[*resp.Response.RecordId]; r.Name != "@" || r.TTL != 600 || r.Line != "默认" || r.Status != "ENABLE" {
		t.Errorf("defaults: %+v", r)
	}
	if r := byID[*doubled.Response.RecordId]; r.Name != "_acme-challenge.example.test" {
		t.Errorf("an FQDN SubDomain must be kept as given (and so doubled on DNS): %+v", r)
	}
	m := query(t, s.NameserverAddrs()[0], "udp", "_acme-challenge.example.test.example.test.", dns.TypeTXT)
	if got := txtValues(m); len(got) != 1 || got[0] != "oops" {
		t.Errorf("doubled name served %v", got)
	}
}

func describeRecords(zone string) *dnspodsdk.DescribeRecordListRequest {
	req := dnspodsdk.NewDescribeRecordListRequest()
	req.Domain = ptr(zone)
	return req
}

func TestDescribeRecordList(t *testing.T) {
	var records []RecordSpec
	for i := range 7 {
		records = append(records, RecordSpec{Name: "_acme-challenge", Type: "TXT", Value: fmt.Sprintf("token-%d", i)})
	}
	records = append(records, RecordSpec{Name: "www", Type: "A", Value: "192.0.2.1"})
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test", Records: records}, {Name: "empty.test"}}})
	c := dnspodClient(t, s, s.Credential())

	resp, err := c.DescribeRecordList(describeRecords("example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if n := *resp.Response.RecordCountInfo.TotalCount; n != 9 {
		t.Errorf("TotalCount %d, want 9 (7 TXT, 1 A, 1 default NS)", n)
	}
	ns := resp.Response.RecordList[0]
	if *ns.Type != "NS" || *ns.Name != "@" || !*ns.DefaultNS || *ns.Value != "ns1.tcsim.test." || *ns.Line != "默认" || *ns.LineId != "0" || ns.Weight != nil {
		t.Errorf("default NS record: %+v", *ns)
	}

	sub := describeRecords("example.test")
	sub.Subdomain, sub.Limit = ptr("_acme-challenge"), ptr(uint64(3))
	var values []string
	for offset := uint64(0); offset < 9; offset += 3 {
		sub.Offset = ptr(offset)
		resp, err := c.DescribeRecordList(sub)
		if offset >= 7 {
			if sdkCode(err) != codeNoDataOfRecord {
				t.Errorf("offset past the end: %v", err)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if *resp.Response.RecordCountInfo.TotalCount != 7 {
			t.Errorf("TotalCount %d, want 7", *resp.Response.RecordCountInfo.TotalCount)
		}
		for _, r := range resp.Response.RecordList {
			values = append(values, *r.Value)
		}
	}
	if len(values) != 7 || values[0] != "token-0" || values[6] != "token-6" {
		t.Errorf("paged values %v", values)
	}

	tests := []struct {
		name  string
		edit  func(r *dnspodsdk.DescribeRecordListRequest)
		want  string
		count int
	}{
		{"no such subdomain", func(r *dnspodsdk.DescribeRecordListRequest) { r.Subdomain = ptr("_acme-challenge.www") }, codeNoDataOfRecord, 0},
		{"no such subdomain, ErrorOnEmpty no", func(r *dnspodsdk.DescribeRecordListRequest) {
			r.Subdomain, r.ErrorOnEmpty = ptr("_acme-challenge.www"), ptr("no")
		}, "", 0},
		{"apex", func(r *dnspodsdk.DescribeRecordListRequest) { r.Subdomain = ptr("@") }, "", 1},
		{"type filter", func(r *dnspodsdk.DescribeRecordListRequest) { r.RecordType = ptr("A") }, "", 1},
		{"keyword in value", func(r *dnspodsdk.DescribeRecordListRequest) { r.Keyword = ptr("token-3") }, "", 1},
		{"keyword in host", func(r *dnspodsdk.DescribeRecordListRequest) { r.Keyword = ptr("acme") }, "", 7},
		{"sorted by value, descending", func(r *dnspodsdk.DescribeRecordListRequest) {
			r.SortField, r.SortType, r.Limit = ptr("value"), ptr("DESC"), ptr(uint64(1))
		}, "", 1},
		{"limit 0", func(r *dnspodsdk.DescribeRecordListRequest) { r.Limit = ptr(uint64(0)) }, codeLimitInvalid, 0},
		{"limit over 3000", func(r *dnspodsdk.DescribeRecordListRequest) { r.Limit = ptr(uint64(3001)) }, codeLimitInvalid, 0},
		{"line not default", func(r *dnspodsdk.DescribeRecordListRequest) { r.RecordLine = ptr("电信") }, codeRecordLineInvalid, 0},
		{"no domain", func(r *dnspodsdk.DescribeRecordListRequest) { r.Domain = nil }, codeMissingParameter, 0},
		{"unknown domain", func(r *dnspodsdk.DescribeRecordListRequest) { r.Domain = ptr("nope.test") }, codeDomainNotExists, 0},
		{"by domain id", func(r *dnspodsdk.DescribeRecordListRequest) { r.Domain, r.DomainId = nil, ptr(uint64(firstDomainID)) }, "", 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := describeRecords("example.test")
			tt.edit(req)
			resp, err := c.DescribeRecordList(req)
			if got := sdkCode(err); got != tt.want {
				t.Fatalf("code %q, want %q (%v)", got, tt.want, err)
			}
			if err == nil && len(resp.Response.RecordList) != tt.count {
				t.Errorf("%d records, want %d: %s", len(resp.Response.RecordList), tt.count, resp.ToJsonString())
			}
			if tt.name == "sorted by value, descending" && *resp.Response.RecordList[0].Value != "token-6" {
				t.Errorf("first value %s", *resp.Response.RecordList[0].Value)
			}
		})
	}
}

func TestListingDelay(t *testing.T) {
	clock := clocktest.New(time.Now())
	s := startSim(t, Options{Now: clock.Now, ListingDelay: 30 * time.Second, Zones: []ZoneSpec{{Name: "example.test"}}})
	c := dnspodClient(t, s, s.Credential())
	if _, err := c.CreateRecord(createTXT("example.test", "_acme-challenge", "v")); err != nil {
		t.Fatal(err)
	}
	req := describeRecords("example.test")
	req.Subdomain = ptr("_acme-challenge")
	if _, err := c.DescribeRecordList(req); sdkCode(err) != codeNoDataOfRecord {
		t.Errorf("a new record was listed before the listing delay: %v", err)
	}
	if len(s.Records("example.test")) != 2 {
		t.Errorf("Sim.Records must show the record at once")
	}
	clock.Advance(30 * time.Second)
	if resp, err := c.DescribeRecordList(req); err != nil || len(resp.Response.RecordList) != 1 {
		t.Errorf("after the listing delay: %v", err)
	}
}

func TestDeleteRecord(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}, {Name: "other.test"}}})
	c := dnspodClient(t, s, s.Credential())
	created, err := c.CreateRecord(createTXT("other.test", "_acme-challenge", "v"))
	if err != nil {
		t.Fatal(err)
	}
	id := *created.Response.RecordId
	del := func(zone string, id uint64) error {
		req := dnspodsdk.NewDeleteRecordRequest()
		req.Domain, req.RecordId = ptr(zone), ptr(id)
		_, err := c.DeleteRecord(req)
		return err
	}
	nsID := s.Records("example.test")[0].ID
	tests := []struct {
		name string
		zone string
		id   uint64
		want string
	}{
		{"unknown id", "example.test", 42, codeRecordIDInvalid},
		{"id of another zone", "example.test", id, codeRecordIDInvalid},
		{"default NS", "example.test", nsID, codeOperateFailed},
		{"unknown domain", "missing.test", id, codeDomainNotExists},
		{"existing", "other.test", id, ""},
		{"already deleted", "other.test", id, codeRecordIDInvalid},
	}
	for _, tt := range tests {
		if got := sdkCode(del(tt.zone, tt.id)); got != tt.want {
			t.Errorf("%s: code %q, want %q", tt.name, got, tt.want)
		}
	}
	if len(s.Records("other.test")) != 1 {
		t.Errorf("records after delete: %+v", s.Records("other.test"))
	}
}

func TestModifyRecord(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}}})
	c := dnspodClient(t, s, s.Credential())
	created, err := c.CreateRecord(createTXT("example.test", "_acme-challenge", "old"))
	if err != nil {
		t.Fatal(err)
	}
	modify := func(edit func(r *dnspodsdk.ModifyRecordRequest)) error {
		req := dnspodsdk.NewModifyRecordRequest()
		req.Domain, req.RecordId, req.RecordType, req.RecordLine, req.Value = ptr("example.test"), created.Response.RecordId, ptr("TXT"), ptr("默认"), ptr("new")
		req.SubDomain = ptr("_acme-challenge")
		edit(req)
		_, err := c.ModifyRecord(req)
		return err
	}
	if err := modify(func(r *dnspodsdk.ModifyRecordRequest) { r.RecordId = ptr(uint64(7)) }); sdkCode(err) != codeRecordIDInvalid {
		t.Errorf("unknown id: %v", err)
	}
	if err := modify(func(r *dnspodsdk.ModifyRecordRequest) { r.TTL = ptr(uint64(60)) }); sdkCode(err) != codeRecordTTLLimit {
		t.Errorf("low TTL: %v", err)
	}
	if err := modify(func(*dnspodsdk.ModifyRecordRequest) {}); err != nil {
		t.Fatal(err)
	}
	if r := s.Records("example.test")[1]; r.Value != "new" || r.Name != "_acme-challenge" {
		t.Errorf("after modify: %+v", r)
	}
	if err := modify(func(r *dnspodsdk.ModifyRecordRequest) { r.SubDomain = nil }); err != nil {
		t.Fatal(err)
	}
	if r := s.Records("example.test")[1]; r.Name != "@" {
		t.Errorf("a modify without SubDomain must move the record to the apex, as DNSPod does: %+v", r)
	}
}

func TestRecordValue(t *testing.T) {
	tests := []struct {
		typ, value, want, code string
	}{
		{"A", "192.0.2.1", "192.0.2.1", ""},
		{"A", "::ffff:192.0.2.1", "", codeRecordValueInvalid},
		{"AAAA", "2001:db8::1", "2001:db8::1", ""},
		{"AAAA", "192.0.2.1", "", codeRecordValueInvalid},
		{"CNAME", "Target.Example.NET", "target.example.net.", ""},
		{"CNAME", "192.0.2.1", "", codeRecordValueInvalid},
		{"NS", "ns.example.net.", "ns.example.net.", ""},
		{"MX", "bad name", "", codeRecordValueInvalid},
		{"TXT", strings.Repeat("x", 512), strings.Repeat("x", 512), ""},
		{"TXT", "", "", codeMissingParameter},
		{"CAA", `0 issue "letsencrypt.org"`, `0 issue "letsencrypt.org"`, ""},
		{"CAA", "nonsense", "", codeRecordValueInvalid},
		{"SRV", "10 5 443 target.example.net.", "10 5 443 target.example.net.", ""},
		{"SRV", "10 5", "", codeRecordValueInvalid},
	}
	for _, tt := range tests {
		got, err := recordValue(tt.typ, tt.value)
		code := ""
		if err != nil {
			code = err.(*apiError).Code
		}
		if got != tt.want || code != tt.code {
			t.Errorf("%s %q: got %q, %q; want %q, %q", tt.typ, tt.value, got, code, tt.want, tt.code)
		}
	}
}

func TestRecordOrder(t *testing.T) {
	t0 := time.Now()
	w := func(v uint64) *uint64 { return &v }
	recs := []listedRecord{
		{ID: 1, Data: recordData{Name: "b", Type: "TXT", Value: "2", Line: defaultLine, TTL: 700, Weight: w(5)}, Updated: t0.Add(2 * time.Second)},
		{ID: 2, Data: recordData{Name: "a", Type: "MX", Value: "3", Line: defaultLine, TTL: 600, MX: 9}, Updated: t0},
		{ID: 3, Data: recordData{Name: "c", Type: "A", Value: "1", Line: defaultLine, TTL: 800, MX: 0, Weight: w(1)}, Updated: t0.Add(time.Second)},
	}
	tests := []struct {
		field, order string
		want         []uint64
	}{
		{"", "", []uint64{1, 2, 3}},
		{"", "DESC", []uint64{3, 2, 1}},
		{"name", "ASC", []uint64{2, 1, 3}},
		{"type", "", []uint64{3, 2, 1}},
		{"value", "DESC", []uint64{2, 1, 3}},
		{"ttl", "", []uint64{2, 1, 3}},
		{"mx", "DESC", []uint64{2, 1, 3}},
		{"weight", "", []uint64{2, 3, 1}},
		{"updated_on", "", []uint64{2, 3, 1}},
		{"line", "", []uint64{1, 2, 3}},
	}
	for _, tt := range tests {
		var field, order *string
		if tt.field != "" {
			field = &tt.field
		}
		if tt.order != "" {
			order = &tt.order
		}
		less, err := recordOrder(field, order)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.field, tt.order, err)
		}
		sorted := slices.Clone(recs)
		slices.SortStableFunc(sorted, less)
		var ids []uint64
		for _, r := range sorted {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%s %s: %v, want %v", tt.field, tt.order, ids, tt.want)
		}
	}
	if _, err := recordOrder(ptr("color"), nil); err == nil {
		t.Errorf("unknown SortField accepted")
	}
	if _, err := recordOrder(nil, ptr("UP")); err == nil {
		t.Errorf("unknown SortType accepted")
	}
}

func TestDisabledRecordIsNotServed(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}}})
	c := dnspodClient(t, s, s.Credential())
	req := createTXT("example.test", "_acme-challenge", "off")
	req.Status = ptr("DISABLE")
	if _, err := c.CreateRecord(req); err != nil {
		t.Fatal(err)
	}
	list := describeRecords("example.test")
	list.Subdomain = ptr("_acme-challenge")
	resp, err := c.DescribeRecordList(list)
	if err != nil || *resp.Response.RecordList[0].Status != "DISABLE" {
		t.Fatalf("listed: %v", err)
	}
	if m := query(t, s.NameserverAddrs()[0], "udp", acmeName, dns.TypeTXT); m.Rcode != dns.RcodeNameError {
		t.Errorf("a disabled record was served: %s", m)
	}
	req = createTXT("example.test", "x", "v")
	req.Status = ptr("PAUSE")
	if _, err := c.CreateRecord(req); sdkCode(err) != codeInvalidParameter {
		t.Errorf("Status PAUSE: %v", err)
	}
}

func TestDescribeDomainListTypes(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "a.test"}, {Name: "b.test"}}})
	c := dnspodClient(t, s, s.Credential())
	tests := []struct {
		typ   string
		group int64
		want  int
		code  string
	}{
		{"ALL", 0, 2, ""},
		{"MINE", 0, 2, ""},
		{"SHARE", 0, 0, ""},
		{"PAUSE", 0, 0, ""},
		{"ALL", defaultGroupID, 2, ""},
		{"ALL", 7, 0, ""},
		{"EVERYTHING", 0, 0, codeInvalidParameter},
	}
	for _, tt := range tests {
		req := dnspodsdk.NewDescribeDomainListRequest()
		req.Type = ptr(tt.typ)
		if tt.group != 0 {
			req.GroupId = ptr(tt.group)
		}
		resp, err := c.DescribeDomainList(req)
		if sdkCode(err) != tt.code {
			t.Errorf("%s/%d: %v", tt.typ, tt.group, err)
			continue
		}
		if err == nil && len(resp.Response.DomainList) != tt.want {
			t.Errorf("%s/%d: %d domains, want %d", tt.typ, tt.group, len(resp.Response.DomainList), tt.want)
		}
	}
}
