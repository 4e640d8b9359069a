package tcsim

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The SSL service's bind-resource tasks: where certificates are bound, across products
// (docs/tencentcloud-api.md §2, "Where is a certificate bound, across products"). A task looks
// at one certificate; it runs for Options.ProductTaskDelay (with 0, until it is asked about
// once), then holds what it found at that moment. With IsCache=1 (the default) a new task is
// not started when one of the last 30 minutes has ended: its possibly stale answer is reused.

const (
	codeSyncTaskIDInvalid = "FailedOperation.CertificateSyncTaskIdInvalid"
	bindTaskCacheFor      = 30 * time.Minute
	bindTaskMaxCerts      = 100
	bindDetailMaxLimit    = 100
	bindDetailDefault     = 10
	bindTaskRunning       = 0
	bindTaskDone          = 1
	bindTaskFailed        = 2
	roleName              = "SSL_QCSLinkedRoleInReplaceLoadCertificate"
)

// bindTask is one CreateCertificateBindResourceSyncTask task.
type bindTask struct {
	ID, CertID string
	Created    time.Time
	done       bool
	doneAt     time.Time
	// polled: asked about once while running (with ProductTaskDelay 0 it ends at the next ask).
	polled bool
	// failCode is why it failed, "" if it did not.
	failCode string
	items    []bindItem
}

// bindItem is one instance a task found, already in the SDK's shape for its type.
type bindItem struct {
	typ, region string
	item        any
}

type createBindTaskParams struct {
	CertificateIDs []*string `json:"CertificateIds"`
	IsCache        *uint64
}

type certTaskID struct {
	CertID string `json:"CertId"`
	TaskID string `json:"TaskId"`
}

type createBindTaskResponse struct {
	CertTaskIDs []certTaskID `json:"CertTaskIds"`
}

type bindTaskResultParams struct {
	TaskIDs []*string `json:"TaskIds"`
}

type bindRegionResult struct {
	Region     *string `json:"Region,omitempty"`
	TotalCount uint64
}

type bindResourceResult struct {
	ResourceType             string
	BindResourceRegionResult []bindRegionResult
}

type sslError struct {
	Code, Message string
}

type syncTaskResult struct {
	TaskID             string `json:"TaskId"`
	BindResourceResult []bindResourceResult
	Status             uint64
	Error              *sslError `json:"Error,omitempty"`
	CacheTime          string
}

type bindTaskResultResponse struct {
	SyncTaskBindResourceResult []syncTaskResult
}

type bindTaskDetailParams struct {
	TaskID *string `json:"TaskId" tc:"required"`

	Limit, Offset *string

	ResourceTypes, Regions []*string
}

type bindCertificate struct {
	CertID   string   `json:"CertId"`
	DNSNames []string `json:"DnsNames"`
}

type clbListenerRule struct {
	LocationID  string `json:"LocationId"`
	Domain      string
	IsMatch     bool
	Certificate *bindCertificate
	URL         string `json:"Url"`
}

type clbBoundListener struct {
	ListenerID  string `json:"ListenerId"`
	SniSwitch   uint64
	Certificate *bindCertificate
	Rules       []clbListenerRule

	ListenerName, Protocol string
}

type clbInstanceDetail struct {
	LoadBalancerID   string `json:"LoadBalancerId"`
	LoadBalancerName string
	Listeners        []clbBoundListener
	Forward          int64
}

type clbInstanceList struct {
	Region       string
	InstanceList []clbInstanceDetail
	TotalCount   uint64
}

type cdnInstanceDetail struct {
	CertID             string `json:"CertId"`
	HTTPSBillingSwitch string `json:"HttpsBillingSwitch"`

	Domain, Status string
}

type cdnInstanceList struct {
	TotalCount   uint64
	InstanceList []cdnInstanceDetail
}

type wafInstanceDetail struct {
	Domain    string
	CertID    string `json:"CertId"`
	Keepalive uint64
}

type wafInstanceList struct {
	Region       string
	InstanceList []wafInstanceDetail
	TotalCount   uint64
}

type teoInstanceDetail struct {
	CertID string `json:"CertId"`
	ZoneID string `json:"ZoneId"`

	Host, Status, Algorithm string
}

type teoInstanceList struct {
	InstanceList []teoInstanceDetail
	TotalCount   uint64
}

type ddosInstanceDetail struct {
	InstanceID string `json:"InstanceId"`
	CertID     string `json:"CertId"`

	Domain, Protocol, VirtualPort string
}

type ddosInstanceList struct {
	TotalCount   uint64
	InstanceList []ddosInstanceDetail
}

type liveInstanceDetail struct {
	Domain string
	CertID string `json:"CertId"`
	Status int64
}

type liveInstanceList struct {
	TotalCount   uint64
	InstanceList []liveInstanceDetail
}

type vodInstanceDetail struct {
	Domain string
	CertID string `json:"CertId"`
}

type vodInstanceList struct {
	InstanceList []vodInstanceDetail
	TotalCount   uint64
}

type apiGatewayInstanceDetail struct {
	ServiceID string `json:"ServiceId"`
	CertID    string `json:"CertId"`

	ServiceName, Domain, Protocol string
}

type apiGatewayInstanceList struct {
	Region       string
	InstanceList []apiGatewayInstanceDetail
	TotalCount   uint64
}

type cosInstanceDetail struct {
	CertID string `json:"CertId"`

	Domain, Status, Bucket, Region string
}

type cosInstanceList struct {
	Region       string
	InstanceList []cosInstanceDetail
	TotalCount   int64
}

type scfInstanceDetail struct {
	CertificateID string `json:"CertificateId"`

	Protocol, Domain, Region string
}

type scfInstanceList struct {
	Region       string
	InstanceList []scfInstanceDetail
	TotalCount   int64
}

type bindTaskDetailResponse struct {
	CLB        []clbInstanceList
	CDN        []cdnInstanceList
	WAF        []wafInstanceList
	DDOS       []ddosInstanceList
	LIVE       []liveInstanceList
	VOD        []vodInstanceList
	APIGATEWAY []apiGatewayInstanceList
	TEO        []teoInstanceList
	COS        []cosInstanceList
	SCF        []scfInstanceList
	Status     uint64
	CacheTime  string
}

// bindTypes are the types a task looks at, in the order the answers list them.
func bindTypes() []string {
	return []string{resCLB, resCDN, resWAF, resDDOS, resLive, resVOD, resAPIGateway, resTEO, resCOS, resSCF}
}

func (c *cloud) createBindTask(_ context.Context, r *request, p *createBindTaskParams) (any, error) {
	ids, err := certIDList(p.CertificateIDs, "CertificateIds")
	if err != nil {
		return nil, err
	}
	cache := true
	if p.IsCache != nil {
		switch *p.IsCache {
		case 0:
			cache = false
		case 1:
		default:
			return nil, errorf(codeSSLInvalidParam, "The parameter `IsCache` must be 0 or 1.")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	for _, id := range ids {
		if c.certs[id] == nil {
			return nil, errorf(codeCertNotFound, "The certificate `%s` does not exist.", id)
		}
	}
	resp := createBindTaskResponse{CertTaskIDs: []certTaskID{}}
	for _, id := range ids {
		t := c.reusableBindTaskLocked(id, cache, r.Now)
		if t == nil {
			c.prod.bindSeq++
			t = &bindTask{ID: strconv.FormatUint(c.prod.bindSeq, 10), CertID: id, Created: r.Now}
			c.prod.bindTasks[t.ID] = t
		}
		resp.CertTaskIDs = append(resp.CertTaskIDs, certTaskID{CertID: id, TaskID: t.ID})
	}
	return resp, nil
}

// reusableBindTaskLocked is the running task of certificate id, else with cache the newest one
// that ended in the last 30 minutes; nil if there is neither.
func (c *cloud) reusableBindTaskLocked(id string, cache bool, now time.Time) *bindTask {
	var newest *bindTask
	for _, t := range c.prod.bindTasks {
		if t.CertID != id {
			continue
		}
		if !t.done {
			return t
		}
		if cache && now.Sub(t.doneAt) <= bindTaskCacheFor && (newest == nil || t.doneAt.After(newest.doneAt)) {
			newest = t
		}
	}
	return newest
}

// certIDList checks a list of certificate ids: present, at most 100, none empty; repeats
// are dropped.
func certIDList(in []*string, name string) ([]string, error) {
	if len(in) == 0 {
		return nil, errorf(codeMissingParameter, "The request is missing a required parameter `%s`.", name)
	}
	if len(in) > bindTaskMaxCerts {
		return nil, errorf(codeSSLInvalidParam, "The parameter `%s` holds %d ids; at most %d are allowed.", name, len(in), bindTaskMaxCerts)
	}
	var out []string
	for _, id := range in {
		if id == nil || *id == "" {
			return nil, errorf(codeSSLInvalidParam, "The parameter `%s` holds an empty id.", name)
		}
		if !slices.Contains(out, *id) {
			out = append(out, *id)
		}
	}
	return out, nil
}

// askBindTaskLocked settles task id for a caller asking about it.
func (c *cloud) askBindTaskLocked(id string, now time.Time) (*bindTask, error) {
	t := c.prod.bindTasks[id]
	if t == nil {
		return nil, errorf(codeSyncTaskIDInvalid, "The task `%s` does not exist.", id)
	}
	if !t.done && c.prod.delay == 0 {
		if t.polled {
			c.completeBindTaskLocked(t, now)
		} else {
			t.polled = true
		}
	}
	return t, nil
}

func (c *cloud) completeBindTaskLocked(t *bindTask, at time.Time) {
	t.done, t.doneAt = true, at
	if c.prod.roleMissing {
		t.failCode = codeRoleNotAuthorised
		return
	}
	t.items = c.bindItemsLocked(t.CertID)
}

func (c *cloud) bindTaskResult(_ context.Context, r *request, p *bindTaskResultParams) (any, error) {
	ids, err := certIDList(p.TaskIDs, "TaskIds")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	resp := bindTaskResultResponse{SyncTaskBindResourceResult: []syncTaskResult{}}
	for _, id := range ids {
		t, err := c.askBindTaskLocked(id, r.Now)
		if err != nil {
			return nil, err
		}
		res := syncTaskResult{TaskID: t.ID, BindResourceResult: []bindResourceResult{}, Status: bindTaskRunning}
		switch {
		case !t.done:
		case t.failCode != "":
			res.Status, res.CacheTime = bindTaskFailed, sslTime(t.doneAt)
			res.Error = &sslError{Code: t.failCode, Message: "The service role " + roleName + " is not authorised."}
		default:
			res.Status, res.CacheTime = bindTaskDone, sslTime(t.doneAt)
			res.BindResourceResult = bindCounts(t.items)
		}
		resp.SyncTaskBindResourceResult = append(resp.SyncTaskBindResourceResult, res)
	}
	return resp, nil
}

// bindCounts counts the instances of every type: per region for the regional types, one
// total for the others.
func bindCounts(items []bindItem) []bindResourceResult {
	out := []bindResourceResult{}
	for _, typ := range bindTypes() {
		res := bindResourceResult{ResourceType: typ, BindResourceRegionResult: []bindRegionResult{}}
		groups := groupItems(items, typ, nil)
		if !regionalType(typ) {
			res.BindResourceRegionResult = append(res.BindResourceRegionResult, bindRegionResult{TotalCount: uint64(len(unregioned(groups)))})
		}
		for _, g := range groups {
			if regionalType(typ) {
				res.BindResourceRegionResult = append(res.BindResourceRegionResult, bindRegionResult{Region: ptrTo(g.region), TotalCount: uint64(len(g.items))})
			}
		}
		out = append(out, res)
	}
	return out
}

type bindGroup struct {
	region string
	items  []any
}

// groupItems are the items of typ by region, regions in the order first found; regions, if
// not empty, keeps only those.
func groupItems(items []bindItem, typ string, regions []string) []bindGroup {
	var out []bindGroup
	for _, it := range items {
		if it.typ != typ || len(regions) > 0 && it.region != "" && !slices.Contains(regions, it.region) {
			continue
		}
		i := slices.IndexFunc(out, func(g bindGroup) bool { return g.region == it.region })
		if i < 0 {
			out = append(out, bindGroup{region: it.region})
			i = len(out) - 1
		}
		out[i].items = append(out[i].items, it.item)
	}
	return out
}

// unregioned is the items of a type without regions: its one group, if it has any items.
func unregioned(groups []bindGroup) []any {
	if len(groups) == 0 {
		return nil
	}
	return groups[0].items
}

// pageAs is one page of items, each of type T.
func pageAs[T any](items []any, offset, limit uint64) []T {
	out := []T{}
	for _, it := range page(items, offset, limit) {
		out = append(out, it.(T))
	}
	return out
}

// pagingParams reads the string Limit and Offset of the SSL service's paged calls.
func pagingParams(limit, offset *string, def, max uint64) (uint64, uint64, error) {
	l, o := def, uint64(0)
	if limit != nil {
		n, err := strconv.ParseUint(*limit, 10, 64)
		if err != nil || n > max {
			return 0, 0, errorf(codeSSLInvalidParam, "The parameter `Limit` must be a number from 0 to %d, not `%s`.", max, *limit)
		}
		if n > 0 {
			l = n
		}
	}
	if offset != nil {
		n, err := strconv.ParseUint(*offset, 10, 64)
		if err != nil {
			return 0, 0, errorf(codeSSLInvalidParam, "The parameter `Offset` must be a number, not `%s`.", *offset)
		}
		o = n
	}
	return l, o, nil
}

func (c *cloud) bindTaskDetail(_ context.Context, r *request, p *bindTaskDetailParams) (any, error) {
	limit, offset, err := pagingParams(p.Limit, p.Offset, bindDetailDefault, bindDetailMaxLimit)
	if err != nil {
		return nil, err
	}
	types := bindTypes()
	if len(p.ResourceTypes) > 0 {
		types = nil
		for _, t := range p.ResourceTypes {
			if t == nil || !slices.Contains(bindTypes(), *t) && !updatableType(*t) {
				return nil, errorf(codeSSLInvalidParam, "The parameter `ResourceTypes` holds `%s`, which is not a resource type.", deref(t))
			}
			types = append(types, *t)
		}
	}
	var regions []string
	for _, reg := range p.Regions {
		if reg == nil || !knownRegion(*reg) {
			return nil, errorf(codeSSLInvalidParam, "The parameter `Regions` holds `%s`, which is not a region.", deref(reg))
		}
		regions = append(regions, *reg)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	t, err := c.askBindTaskLocked(*p.TaskID, r.Now)
	if err != nil {
		return nil, err
	}
	resp := bindTaskDetailResponse{
		CLB: []clbInstanceList{}, CDN: []cdnInstanceList{}, WAF: []wafInstanceList{}, DDOS: []ddosInstanceList{},
		LIVE: []liveInstanceList{}, VOD: []vodInstanceList{}, APIGATEWAY: []apiGatewayInstanceList{},
		TEO: []teoInstanceList{}, COS: []cosInstanceList{}, SCF: []scfInstanceList{}, Status: bindTaskRunning,
	}
	if !t.done {
		return resp, nil
	}
	if t.failCode != "" {
		return nil, errorf(t.failCode, "The service role %s is not authorised; the SSL service cannot look up cloud resources.", roleName)
	}
	resp.Status, resp.CacheTime = bindTaskDone, sslTime(t.doneAt)
	for _, typ := range types {
		groups := groupItems(t.items, typ, regions)
		all := unregioned(groups)
		total := uint64(len(all))
		switch typ {
		case resCDN:
			resp.CDN = append(resp.CDN, cdnInstanceList{TotalCount: total, InstanceList: pageAs[cdnInstanceDetail](all, offset, limit)})
		case resTEO:
			resp.TEO = append(resp.TEO, teoInstanceList{TotalCount: total, InstanceList: pageAs[teoInstanceDetail](all, offset, limit)})
		case resDDOS:
			resp.DDOS = append(resp.DDOS, ddosInstanceList{TotalCount: total, InstanceList: pageAs[ddosInstanceDetail](all, offset, limit)})
		case resLive:
			resp.LIVE = append(resp.LIVE, liveInstanceList{TotalCount: total, InstanceList: pageAs[liveInstanceDetail](all, offset, limit)})
		case resVOD:
			resp.VOD = append(resp.VOD, vodInstanceList{TotalCount: total, InstanceList: pageAs[vodInstanceDetail](all, offset, limit)})
		}
		for _, g := range groups {
			n := uint64(len(g.items))
			switch typ {
			case resCLB:
				resp.CLB = append(resp.CLB, clbInstanceList{Region: g.region, TotalCount: n, InstanceList: pageAs[clbInstanceDetail](g.items, offset, limit)})
			case resWAF:
				resp.WAF = append(resp.WAF, wafInstanceList{Region: g.region, TotalCount: n, InstanceList: pageAs[wafInstanceDetail](g.items, offset, limit)})
			case resAPIGateway:
				resp.APIGATEWAY = append(resp.APIGATEWAY, apiGatewayInstanceList{Region: g.region, TotalCount: n, InstanceList: pageAs[apiGatewayInstanceDetail](g.items, offset, limit)})
			case resCOS:
				resp.COS = append(resp.COS, cosInstanceList{Region: g.region, TotalCount: int64(n), InstanceList: pageAs[cosInstanceDetail](g.items, offset, limit)})
			case resSCF:
				resp.SCF = append(resp.SCF, scfInstanceList{Region: g.region, TotalCount: int64(n), InstanceList: pageAs[scfInstanceDetail](g.items, offset, limit)})
			}
		}
	}
	return resp, nil
}

// bindItemsLocked is where certificate id is bound now, in the SDK's shapes.
func (c *cloud) bindItemsLocked(id string) []bindItem {
	cert := c.certs[id]
	var names []string
	if cert != nil {
		names = cert.Names
	}
	var items []bindItem
	byLB := map[string]int{}
	for _, pl := range c.clbPlacesLocked(id) {
		lb, l := c.findLocked(pl.lbID, pl.listenerID)
		i, ok := byLB[lb.ID]
		if !ok {
			items = append(items, bindItem{typ: resCLB, region: lb.Region, item: clbInstanceDetail{LoadBalancerID: lb.ID, LoadBalancerName: lb.Name, Forward: 1, Listeners: []clbBoundListener{}}})
			i = len(items) - 1
			byLB[lb.ID] = i
		}
		inst := items[i].item.(clbInstanceDetail)
		li := slices.IndexFunc(inst.Listeners, func(x clbBoundListener) bool { return x.ListenerID == l.ID })
		if li < 0 {
			bl := clbBoundListener{ListenerID: l.ID, ListenerName: l.Name, Protocol: l.Protocol, Rules: []clbListenerRule{}}
			if l.SNI {
				bl.SniSwitch = 1
			} else {
				bl.Certificate = &bindCertificate{CertID: id, DNSNames: slices.Clone(names)}
			}
			inst.Listeners = append(inst.Listeners, bl)
			li = len(inst.Listeners) - 1
		}
		if pl.domain != "" {
			for _, rl := range l.Rules {
				if rl.Domain == pl.domain {
					inst.Listeners[li].Rules = append(inst.Listeners[li].Rules, clbListenerRule{
						LocationID: rl.LocationID, Domain: rl.Domain, URL: rl.URL, IsMatch: nameCovered(names, rl.Domain),
						Certificate: &bindCertificate{CertID: id, DNSNames: slices.Clone(names)},
					})
				}
			}
		}
		items[i].item = inst
	}
	for _, res := range c.prod.resources {
		if res.CertID != id {
			continue
		}
		for _, it := range resourceItems(res, cert) {
			items = append(items, bindItem{typ: res.Type, region: res.Region, item: it})
		}
	}
	return items
}

// resourceItems is how the bind-resource detail lists a resource: one entry per domain.
func resourceItems(r *resource, cert *sslCert) []any {
	var out []any
	for _, d := range r.Domains {
		switch r.Type {
		case resCDN:
			out = append(out, cdnInstanceDetail{Domain: d, CertID: r.CertID, Status: "online", HTTPSBillingSwitch: "on"})
		case resTEO:
			alg := ""
			if cert != nil {
				alg = encryptAlgorithm(cert)
			}
			out = append(out, teoInstanceDetail{Host: d, CertID: r.CertID, ZoneID: r.InstanceID, Status: "deployed", Algorithm: alg})
		case resWAF:
			out = append(out, wafInstanceDetail{Domain: d, CertID: r.CertID})
		case resDDOS:
			out = append(out, ddosInstanceDetail{Domain: d, InstanceID: r.InstanceID, Protocol: "https", CertID: r.CertID, VirtualPort: "443"})
		case resLive:
			out = append(out, liveInstanceDetail{Domain: d, CertID: r.CertID, Status: 1})
		case resVOD:
			out = append(out, vodInstanceDetail{Domain: d, CertID: r.CertID})
		case resAPIGateway:
			out = append(out, apiGatewayInstanceDetail{ServiceID: r.InstanceID, ServiceName: r.InstanceID, Domain: d, CertID: r.CertID, Protocol: "https"})
		case resCOS:
			out = append(out, cosInstanceDetail{Domain: d, CertID: r.CertID, Status: "ENABLED", Bucket: r.InstanceID, Region: r.Region})
		case resSCF:
			out = append(out, scfInstanceDetail{CertificateID: r.CertID, Protocol: "https", Domain: d, Region: r.Region})
		default:
			panic(fmt.Sprintf("tcsim: resource type %s has no bind-resource shape", r.Type))
		}
	}
	return out
}

// nameCovered reports whether a certificate for names serves domain.
func nameCovered(names []string, domain string) bool {
	for _, n := range names {
		if n == domain {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if _, parent, ok := strings.Cut(domain, "."); ok && parent == rest {
				return true
			}
		}
	}
	return false
}
