package tcsim

import (
	"cmp"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSPod API 2021-03-23. Field names, defaults and error codes follow the SDK's models.go and
// client.go comments (dnspod v1.3.78) and docs/tencentcloud-api.md §1.
const (
	dnspodService = "dnspod"
	dnspodVersion = "2021-03-23"

	codeDomainNotExists          = "InvalidParameterValue.DomainNotExists"
	codeLimitInvalid             = "InvalidParameterValue.LimitInvalid"
	codeOffsetInvalid            = "InvalidParameter.OffsetInvalid"
	codeRecordLineInvalid        = "InvalidParameter.RecordLineInvalid"
	codeRecordTypeInvalid        = "InvalidParameter.RecordTypeInvalid"
	codeRecordValueInvalid       = "InvalidParameter.RecordValueInvalid"
	codeRecordValueLengthInvalid = "InvalidParameter.RecordValueLengthInvalid"
	codeDomainRecordExist        = "InvalidParameter.DomainRecordExist"
	codeRecordIDInvalid          = "InvalidParameter.RecordIdInvalid"
	codeSubdomainInvalid         = "InvalidParameter.SubdomainInvalid"
	codeMXInvalid                = "InvalidParameter.MxInvalid"
	codeInvalidWeight            = "InvalidParameter.InvalidWeight"
	codeOperateFailed            = "InvalidParameter.OperateFailed"
	codeRecordTTLLimit           = "LimitExceeded.RecordTtlLimit"
	codeNoDataOfRecord           = "ResourceNotFound.NoDataOfRecord"

	// freePlanMinTTL is the free plan's minimum TTL, also the default TTL of a new record.
	freePlanMinTTL = 600
	maxTTL         = 604800
	// defaultNSTTL is the TTL of the NS records DNSPod puts at every zone apex.
	defaultNSTTL = 86400
	maxTXTLength = 512

	domainListDefaultLimit = 3000
	domainListMaxLimit     = 3000
	recordListDefaultLimit = 100
	recordListMaxLimit     = 3000

	// defaultGroupID is the "默认分组" every zone of a fresh account is in.
	defaultGroupID = 1
	// accountUin is the simulated account's UIN, shown as the owner of every zone.
	accountUin       = "100000000001"
	dnspodTimeLayout = "2006-01-02 15:04:05"
)

// isRecordType reports whether tcsim accepts the type; DNSPod takes types in upper case only.
func isRecordType(t string) bool {
	switch t {
	case "A", "AAAA", "CNAME", "TXT", "MX", "NS", "CAA", "SRV":
		return true
	}
	return false
}

type dnspod struct {
	store        *zoneStore
	nsHosts      []string // FQDN with trailing dot, in Options order
	listingDelay time.Duration
}

func (d *dnspod) register(rt *routes) {
	rt.addAll(dnspodService, dnspodVersion, map[string]handler{
		"DescribeDomainList": typed(d.describeDomainList),
		"DescribeDomain":     typed(d.describeDomain),
		"DescribeRecordList": typed(d.describeRecordList),
		"CreateRecord":       typed(d.createRecord),
		"ModifyRecord":       typed(d.modifyRecord),
		"DeleteRecord":       typed(d.deleteRecord),
	})
}

// Request parameters. Every field the SDK can send is listed (a test compares the names with
// the SDK's *RequestParams structs), so an unknown name is a caller's mistake.

type describeDomainListParams struct {
	paging[int64]
	GroupID *int64 `json:"GroupId"`
	Tags    []*tagItemFilter

	Type, Keyword *string
}

type tagItemFilter struct {
	TagKey   *string `tc:"required"`
	TagValue []*string
}

// zoneRef names a zone by name or id, as every record action does (DomainId wins).
type zoneRef struct {
	Domain   *string
	DomainID *uint64 `json:"DomainId"`
}

type describeDomainParams struct {
	zoneRef
}

type describeRecordListParams struct {
	zoneRef
	paging[uint64]
	RecordLineID *string `json:"RecordLineId"`
	GroupID      *uint64 `json:"GroupId"`

	Subdomain, RecordType, RecordLine, Keyword, SortField, SortType, ErrorOnEmpty *string
}

// recordFields are what CreateRecord and ModifyRecord both set.
type recordFields struct {
	zoneRef
	RecordLineID *string `json:"RecordLineId"`

	RecordType, Value *string `tc:"required"`

	RecordLine, SubDomain, Status, Remark, DnssecConflictMode *string

	MX, TTL, Weight *uint64
}

type createRecordParams struct {
	recordFields
	GroupID *uint64 `json:"GroupId"`
}

type modifyRecordParams struct {
	recordFields
	RecordID *uint64 `json:"RecordId" tc:"required"`
}

type deleteRecordParams struct {
	zoneRef
	RecordID *uint64 `json:"RecordId" tc:"required"`
}

// Responses, with the SDK's JSON names.

type domainCountInfo struct {
	DomainTotal, AllTotal, MineTotal, ShareTotal, VipTotal, PauseTotal, ErrorTotal, LockTotal, SpamTotal, VipExpire, ShareOutTotal, GroupTotal uint64
}

type tagItem struct {
	TagKey, TagValue string
}

type domainListItem struct {
	DomainID     uint64 `json:"DomainId"`
	GroupID      uint64 `json:"GroupId"`
	EffectiveDNS []string
	TagList      []tagItem

	Name, Status, CNAMESpeedup, DNSStatus, Grade, SearchEnginePush, Remark, Punycode, GradeTitle, IsVip, VipStartAt, VipEndAt, VipAutoRenew, CreatedOn, UpdatedOn, Owner string

	TTL, GradeLevel, RecordCount uint64
}

type describeDomainListResponse struct {
	DomainCountInfo domainCountInfo
	DomainList      []domainListItem
}

type domainInfo struct {
	DomainID      uint64 `json:"DomainId"`
	GroupID       uint64 `json:"GroupId"`
	DNSStatus     string `json:"DnsStatus"`
	UserID        uint64 `json:"UserId"`
	VipResourceID string `json:"VipResourceId"`
	IsSubDomain   bool
	TagList       []tagItem

	Status, Grade, IsMark, CnameSpeedup, Remark, Punycode, Domain, IsVip, Owner, GradeTitle, CreatedOn, UpdatedOn, Uin, OwnerNick, IsGracePeriod, VipBuffered, VipStartAt, VipEndAt, VipAutoRenew, SearchEnginePush, SlaveDNS string

	TTL, GradeLevel, RecordCount uint64

	DnspodNsList, ActualNsList []string
}

type describeDomainResponse struct {
	DomainInfo domainInfo
}

type recordCountInfo struct {
	SubdomainCount, ListCount, TotalCount uint64
}

type recordListItem struct {
	RecordID  uint64  `json:"RecordId"`
	LineID    string  `json:"LineId"`
	Weight    *uint64 `json:"Weight"` // null unless the record has a weight
	DefaultNS bool

	Value, Status, UpdatedOn, Name, Line, Type, MonitorStatus, Remark string

	TTL, MX uint64
}

type describeRecordListResponse struct {
	RecordCountInfo recordCountInfo
	RecordList      []recordListItem
}

type recordIDResponse struct {
	RecordID uint64 `json:"RecordId"`
}

func (d *dnspod) describeDomainList(_ context.Context, r *request, p *describeDomainListParams) (any, error) {
	offset, limit := p.window(domainListDefaultLimit)
	if offset < 0 {
		return nil, errorf(codeOffsetInvalid, "The offset %d is invalid.", offset)
	}
	if limit < 1 || limit > domainListMaxLimit {
		return nil, errorf(codeLimitInvalid, "The limit %d is invalid; it must be between 1 and %d.", limit, domainListMaxLimit)
	}
	everything := true
	if p.Type != nil {
		switch *p.Type {
		case "ALL", "MINE", "FREE", "RECENT":
		case "SHARE", "ISMARK", "PAUSE", "VIP", "SHARE_OUT":
			everything = false // every simulated zone is an enabled, unshared free zone
		default:
			return nil, errorf(codeInvalidParameter, "The parameter `Type` has an invalid value `%s`.", *p.Type)
		}
	}
	if (p.GroupID != nil && *p.GroupID != defaultGroupID) || len(p.Tags) > 0 {
		everything = false
	}
	var matched []zoneInfo
	names := d.store.zoneNames()
	for _, name := range names {
		if !everything || (p.Keyword != nil && !strings.Contains(name, strings.ToLower(*p.Keyword))) {
			continue
		}
		if zi, ok := d.store.zoneByName(name); ok {
			matched = append(matched, zi)
		}
	}
	resp := describeDomainListResponse{
		DomainCountInfo: domainCountInfo{
			DomainTotal: uint64(len(matched)),
			AllTotal:    uint64(len(names)),
			MineTotal:   uint64(len(names)),
			GroupTotal:  1,
		},
		DomainList: []domainListItem{},
	}
	for _, zi := range page(matched, uint64(offset), uint64(limit)) {
		resp.DomainList = append(resp.DomainList, domainListItem{
			DomainID:         zi.ID,
			Name:             zi.Name,
			Status:           statusEnable,
			TTL:              freePlanMinTTL,
			CNAMESpeedup:     statusDisable,
			Grade:            "DP_FREE",
			GroupID:          defaultGroupID,
			SearchEnginePush: "NO",
			Punycode:         zi.Name,
			EffectiveDNS:     d.effectiveDNS(),
			GradeTitle:       "免费版",
			IsVip:            "NO",
			VipStartAt:       "0000-00-00 00:00:00",
			VipEndAt:         "0000-00-00 00:00:00",
			VipAutoRenew:     "DEFAULT",
			RecordCount:      uint64(zi.RecordCount),
			CreatedOn:        dnspodTime(zi.Created),
			UpdatedOn:        dnspodTime(zi.Updated),
			Owner:            accountUin,
			TagList:          []tagItem{},
		})
	}
	return resp, nil
}

func (d *dnspod) describeDomain(_ context.Context, r *request, p *describeDomainParams) (any, error) {
	zi, err := d.resolveZone(p.Domain, p.DomainID)
	if err != nil {
		return nil, err
	}
	return describeDomainResponse{DomainInfo: domainInfo{
		DomainID:         zi.ID,
		Status:           statusEnable,
		Grade:            "DP_FREE",
		GroupID:          defaultGroupID,
		IsMark:           "NO",
		TTL:              freePlanMinTTL,
		CnameSpeedup:     statusDisable,
		Punycode:         zi.Name,
		DnspodNsList:     d.effectiveDNS(),
		Domain:           zi.Name,
		IsVip:            "NO",
		Owner:            accountUin,
		GradeTitle:       "免费版",
		CreatedOn:        dnspodTime(zi.Created),
		UpdatedOn:        dnspodTime(zi.Updated),
		Uin:              accountUin,
		ActualNsList:     d.effectiveDNS(),
		RecordCount:      uint64(zi.RecordCount),
		IsGracePeriod:    "NO",
		VipBuffered:      "NO",
		VipStartAt:       "0000-00-00 00:00:00",
		VipEndAt:         "0000-00-00 00:00:00",
		VipAutoRenew:     "DEFAULT",
		TagList:          []tagItem{},
		SearchEnginePush: "NO",
		SlaveDNS:         "NO",
	}}, nil
}

func (d *dnspod) describeRecordList(_ context.Context, r *request, p *describeRecordListParams) (any, error) {
	zi, err := d.resolveZone(p.Domain, p.DomainID)
	if err != nil {
		return nil, err
	}
	offset, limit := p.window(recordListDefaultLimit)
	if limit < 1 || limit > recordListMaxLimit {
		return nil, errorf(codeLimitInvalid, "The limit %d is invalid; it must be between 1 and %d.", limit, recordListMaxLimit)
	}
	errorOnEmpty := true
	if p.ErrorOnEmpty != nil {
		switch *p.ErrorOnEmpty {
		case "yes":
		case "no":
			errorOnEmpty = false
		default:
			return nil, errorf(codeInvalidParameterValue, "The parameter `ErrorOnEmpty` must be `yes` or `no`.")
		}
	}
	if p.RecordType != nil && !isRecordType(*p.RecordType) {
		return nil, errorf(codeRecordTypeInvalid, "The record type `%s` is invalid.", *p.RecordType)
	}
	if err := checkLine(p.RecordLine, p.RecordLineID, false); err != nil {
		return nil, err
	}
	less, err := recordOrder(p.SortField, p.SortType)
	if err != nil {
		return nil, err
	}

	var matched []listedRecord
	for _, rec := range d.store.listed(zi.Name, r.Now, d.listingDelay) {
		switch {
		case p.Subdomain != nil && *p.Subdomain != "" && rec.Data.Name != strings.ToLower(*p.Subdomain):
		case p.RecordType != nil && rec.Data.Type != *p.RecordType:
		case p.GroupID != nil && *p.GroupID != 0:
			// Records are all in the default record group (0); other groups are empty.
		case p.Keyword != nil && !strings.Contains(rec.Data.Name, strings.ToLower(*p.Keyword)) &&
			!strings.Contains(strings.ToLower(rec.Data.Value), strings.ToLower(*p.Keyword)):
		default:
			matched = append(matched, rec)
		}
	}
	slices.SortStableFunc(matched, less)
	pageItems := page(matched, offset, limit)
	if len(pageItems) == 0 && errorOnEmpty {
		return nil, errorf(codeNoDataOfRecord, "The record list is empty.")
	}
	resp := describeRecordListResponse{
		// UNCERTAIN: the meaning of SubdomainCount is not documented; tcsim reports the
		// number of matching records, like TotalCount.
		RecordCountInfo: recordCountInfo{
			SubdomainCount: uint64(len(matched)),
			ListCount:      uint64(len(pageItems)),
			TotalCount:     uint64(len(matched)),
		},
		RecordList: []recordListItem{},
	}
	for _, rec := range pageItems {
		resp.RecordList = append(resp.RecordList, recordListItem{
			RecordID:  rec.ID,
			Value:     rec.Data.Value,
			Status:    rec.Data.Status,
			UpdatedOn: dnspodTime(rec.Updated),
			Name:      rec.Data.Name,
			Line:      rec.Data.Line,
			LineID:    rec.Data.LineID,
			Type:      rec.Data.Type,
			Weight:    rec.Data.Weight,
			Remark:    rec.Data.Remark,
			TTL:       rec.Data.TTL,
			MX:        rec.Data.MX,
			DefaultNS: rec.DefaultNS,
		})
	}
	return resp, nil
}

func (d *dnspod) createRecord(_ context.Context, r *request, p *createRecordParams) (any, error) {
	zone, data, err := d.resolveRecord(p.recordFields)
	if err != nil {
		return nil, err
	}
	id, err := d.store.insert(zone, data, r.Now, insertChange)
	if err != nil {
		return nil, changeError(err)
	}
	return recordIDResponse{RecordID: id}, nil
}

func (d *dnspod) modifyRecord(_ context.Context, r *request, p *modifyRecordParams) (any, error) {
	// SubDomain defaults to "@" here too: a modify that omits it moves the record to the apex.
	zone, data, err := d.resolveRecord(p.recordFields)
	if err != nil {
		return nil, err
	}
	if err := d.store.modify(zone, *p.RecordID, data, r.Now); err != nil {
		return nil, changeError(err)
	}
	return recordIDResponse{RecordID: *p.RecordID}, nil
}

func (d *dnspod) deleteRecord(_ context.Context, r *request, p *deleteRecordParams) (any, error) {
	zi, err := d.resolveZone(p.Domain, p.DomainID)
	if err != nil {
		return nil, err
	}
	if err := d.store.remove(zi.Name, *p.RecordID, r.Now); err != nil {
		return nil, changeError(err)
	}
	return struct{}{}, nil
}

// addRecord is a change made outside the API (Sim.AddRecord, and the zones' initial records):
// the same validation as CreateRecord, except that initial records may be below the plan's
// minimum TTL, as records created under an earlier plan are.
func (d *dnspod) addRecord(zoneName string, spec RecordSpec, at time.Time, kind insertKind) (uint64, error) {
	zi, ok := d.store.zoneByName(zoneName)
	if !ok {
		return 0, errorf(codeDomainNotExists, "The domain `%s` does not exist in this account.", zoneName)
	}
	lineID := defaultLineID
	f := recordFields{SubDomain: &spec.Name, RecordType: &spec.Type, RecordLineID: &lineID, Value: &spec.Value, MX: &spec.MX}
	if spec.TTL != 0 {
		f.TTL = &spec.TTL
	}
	data, err := buildRecord(zi, f, kind == insertChange)
	if err != nil {
		return 0, err
	}
	id, err := d.store.insert(zi.Name, data, at, kind)
	if err != nil {
		return 0, changeError(err)
	}
	return id, nil
}

// addDefaultNS puts one NS record per nameserver at the zone apex, as DNSPod does for every
// zone (DescribeRecordList shows them with DefaultNS true).
func (d *dnspod) addDefaultNS(zoneName string, at time.Time) {
	for _, host := range d.nsHosts {
		data := recordData{Name: "@", Type: "NS", Value: host, LineID: defaultLineID, Line: defaultLine, TTL: defaultNSTTL, Status: statusEnable}
		_, _ = d.store.insert(zoneName, data, at, insertDefaultNS)
	}
}

func (d *dnspod) effectiveDNS() []string {
	out := make([]string, len(d.nsHosts))
	for i, h := range d.nsHosts {
		out[i] = strings.TrimSuffix(h, ".")
	}
	return out
}

// resolveRecord is the zone and the record that CreateRecord's or ModifyRecord's fields name.
func (d *dnspod) resolveRecord(f recordFields) (string, recordData, error) {
	zi, err := d.resolveZone(f.Domain, f.DomainID)
	if err != nil {
		return "", recordData{}, err
	}
	data, err := buildRecord(zi, f, true)
	return zi.Name, data, err
}

// resolveZone finds the zone named by DomainId (which wins, as documented) or Domain.
func (d *dnspod) resolveZone(domain *string, domainID *uint64) (zoneInfo, error) {
	if domainID != nil {
		if zi, ok := d.store.zoneByID(*domainID); ok {
			return zi, nil
		}
		return zoneInfo{}, errorf(codeDomainNotExists, "The domain with id %d does not exist in this account.", *domainID)
	}
	if domain == nil || *domain == "" {
		return zoneInfo{}, errorf(codeMissingParameter, "The request is missing a required parameter `Domain`.")
	}
	if zi, ok := d.store.zoneByName(strings.ToLower(*domain)); ok {
		return zi, nil
	}
	return zoneInfo{}, errorf(codeDomainNotExists, "The domain `%s` does not exist in this account.", *domain)
}

// buildRecord validates record parameters in zone zi and returns the record to store.
func buildRecord(zi zoneInfo, f recordFields, enforceMinTTL bool) (recordData, error) {
	typ := deref(f.RecordType)
	if !isRecordType(typ) {
		return recordData{}, errorf(codeRecordTypeInvalid, "The record type `%s` is invalid.", typ)
	}
	if err := checkLine(f.RecordLine, f.RecordLineID, true); err != nil {
		return recordData{}, err
	}
	value, err := recordValue(typ, deref(f.Value))
	if err != nil {
		return recordData{}, err
	}
	host := strings.ToLower(deref(f.SubDomain))
	if host == "" {
		host = "@"
	}
	if !validHost(host) {
		return recordData{}, errorf(codeSubdomainInvalid, "The subdomain `%s` is invalid.", host)
	}
	ttl := uint64(freePlanMinTTL)
	if f.TTL != nil {
		ttl = *f.TTL
	}
	if ttl < 1 || ttl > maxTTL {
		return recordData{}, errorf(codeRecordTTLLimit, "The TTL %d is out of range 1-%d.", ttl, maxTTL)
	}
	if minTTL := zi.MinTTL; enforceMinTTL && ttl < minTTL {
		return recordData{}, errorf(codeRecordTTLLimit, "The TTL %d is below the minimum %d of this domain's plan.", ttl, minTTL)
	}
	var mx uint64
	if typ == "MX" {
		if f.MX == nil || *f.MX > 65535 {
			return recordData{}, errorf(codeMXInvalid, "An MX record needs an MX priority between 0 and 65535.")
		}
		mx = *f.MX
	}
	if f.Weight != nil && *f.Weight > 100 {
		return recordData{}, errorf(codeInvalidWeight, "The weight %d is invalid; it must be between 0 and 100.", *f.Weight)
	}
	status := statusEnable
	if f.Status != nil {
		status = *f.Status
	}
	if status != statusEnable && status != statusDisable {
		return recordData{}, errorf(codeInvalidParameter, "The parameter `Status` must be ENABLE or DISABLE.")
	}
	return recordData{
		Name: host, Type: typ, Value: value, LineID: defaultLineID, Line: defaultLine,
		TTL: ttl, MX: mx, Weight: f.Weight, Status: status, Remark: deref(f.Remark),
	}, nil
}

// checkLine accepts only the default line, by name (默认) or id (0); RecordLineId wins. For
// CreateRecord and ModifyRecord one of the two is required.
func checkLine(line, lineID *string, required bool) error {
	switch {
	case lineID != nil:
		if *lineID != defaultLineID {
			return errorf(codeRecordLineInvalid, "The record line id `%s` is invalid.", *lineID)
		}
	case line != nil:
		if *line != defaultLine {
			return errorf(codeRecordLineInvalid, "The record line `%s` is invalid.", *line)
		}
	case required:
		return errorf(codeMissingParameter, "The request is missing a required parameter `RecordLine`.")
	}
	return nil
}

// recordValue validates a value for its type and returns it as stored. Host names are kept
// lower case with a trailing dot, the way the documentation writes them ("cname.dnspod.com.");
// UNCERTAIN whether DNSPod adds the dot itself, tcsim does so that both spellings are one record.
func recordValue(typ, v string) (string, error) {
	if v == "" {
		return "", errorf(codeMissingParameter, "The request is missing a required parameter `Value`.")
	}
	invalid := errorf(codeRecordValueInvalid, "The value `%s` is not a valid %s record value.", v, typ)
	switch typ {
	case "A":
		if ip := net.ParseIP(v); ip == nil || ip.To4() == nil || strings.Contains(v, ":") {
			return "", invalid
		}
	case "AAAA":
		if ip := net.ParseIP(v); ip == nil || !strings.Contains(v, ":") {
			return "", invalid
		}
	case "CNAME", "NS", "MX":
		if _, ok := dns.IsDomainName(v); !ok || strings.ContainsAny(v, " \t\\") || net.ParseIP(v) != nil {
			return "", invalid
		}
		return dns.Fqdn(strings.ToLower(v)), nil
	case "TXT":
		if len(v) > maxTXTLength {
			return "", errorf(codeRecordValueLengthInvalid, "The record value is %d bytes long; the limit is %d.", len(v), maxTXTLength)
		}
	case "CAA", "SRV":
		if _, err := dns.NewRR("tcsim.test. 600 IN " + typ + " " + v); err != nil {
			return "", invalid
		}
	}
	return v, nil
}

// validHost accepts "@" or dot-separated labels of a-z, 0-9, "-" and "_", with "*" allowed
// as the whole first label (a wildcard).
func validHost(h string) bool {
	if h == "@" {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for i, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		if label == "*" && i == 0 {
			continue
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// recordOrder is the DescribeRecordList sort. Without SortField the order is by record id.
func recordOrder(field, order *string) (func(a, b listedRecord) int, error) {
	desc := false
	if order != nil {
		switch *order {
		case "ASC":
		case "DESC":
			desc = true
		default:
			return nil, errorf(codeInvalidParameter, "The parameter `SortType` must be ASC or DESC.")
		}
	}
	var key func(a, b listedRecord) int
	switch deref(field) {
	case "":
		key = func(a, b listedRecord) int { return cmp.Compare(a.ID, b.ID) }
	case "name":
		key = func(a, b listedRecord) int { return cmp.Compare(a.Data.Name, b.Data.Name) }
	case "line":
		key = func(a, b listedRecord) int { return cmp.Compare(a.Data.Line, b.Data.Line) }
	case "type":
		key = func(a, b listedRecord) int { return cmp.Compare(a.Data.Type, b.Data.Type) }
	case "value":
		key = func(a, b listedRecord) int { return cmp.Compare(a.Data.Value, b.Data.Value) }
	case "weight":
		key = func(a, b listedRecord) int { return cmp.Compare(derefUint(a.Data.Weight), derefUint(b.Data.Weight)) }
	case "mx":
		key = func(a, b listedRecord) int { return cmp.Compare(a.Data.MX, b.Data.MX) }
	case "ttl":
		key = func(a, b listedRecord) int { return cmp.Compare(a.Data.TTL, b.Data.TTL) }
	case "updated_on":
		key = func(a, b listedRecord) int { return a.Updated.Compare(b.Updated) }
	default:
		return nil, errorf(codeInvalidParameter, "The parameter `SortField` has an invalid value `%s`.", deref(field))
	}
	return func(a, b listedRecord) int {
		c := key(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		return c
	}, nil
}

// changeError maps a refused zone change to DNSPod's error.
func changeError(err error) error {
	switch {
	case errors.Is(err, errRecordExists):
		return errorf(codeDomainRecordExist, "The record already exists; there is no need to add it again.")
	case errors.Is(err, errCNAMEConflict):
		// UNCERTAIN: DNSPod's exact code for a CNAME conflict is not documented; the console
		// says the records conflict. RecordValueInvalid is the closest listed code.
		return errorf(codeRecordValueInvalid, "A CNAME record conflicts with other records on the same host and line.")
	case errors.Is(err, errNoSuchRecord):
		return errorf(codeRecordIDInvalid, "The record id is invalid.")
	case errors.Is(err, errDefaultNS):
		// UNCERTAIN: the code for touching a default NS record is not documented.
		return errorf(codeOperateFailed, "The default NS records of a domain cannot be modified or deleted.")
	}
	return err
}

// dnspodTime formats t the way DNSPod does: Beijing time, "YYYY-MM-DD HH:MM:SS".
func dnspodTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*3600)).Format(dnspodTimeLayout)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefUint(u *uint64) uint64 {
	if u == nil {
		return 0
	}
	return *u
}
