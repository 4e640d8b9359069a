package tcsim

import (
	"cmp"
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
	// unread are the lists it could not read (Topology.UnreadLists when it ended).
	unread []ListSpec
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

// regionList is one product's list in one region of the bind-resource detail, as the SDK's
// XxxInstanceList of a regional product: ClbInstanceList, WafInstanceList and the like. The SDK
// types TotalCount int64 for some products and uint64 for others; the JSON is the same.
type regionList[T any] struct {
	Region       string
	InstanceList []T
	TotalCount   uint64
	Error        *string `json:"Error,omitempty"`
}

// globalList is regionList of a product without regions: CdnInstanceList, TeoInstanceList...
type globalList[T any] struct {
	InstanceList []T
	TotalCount   uint64
	Error        *string `json:"Error,omitempty"`
}

type cdnInstanceDetail struct {
	CertID             string `json:"CertId"`
	HTTPSBillingSwitch string `json:"HttpsBillingSwitch"`

	Domain, Status string
}

type wafInstanceDetail struct {
	Domain    string
	CertID    string `json:"CertId"`
	Keepalive uint64
}

type teoInstanceDetail struct {
	CertID string `json:"CertId"`
	ZoneID string `json:"ZoneId"`

	Host, Status, Algorithm string
}

type ddosInstanceDetail struct {
	InstanceID string `json:"InstanceId"`
	CertID     string `json:"CertId"`

	Domain, Protocol, VirtualPort string
}

type liveInstanceDetail struct {
	Domain string
	CertID string `json:"CertId"`
	Status int64
}

type vodInstanceDetail struct {
	Domain string
	CertID string `json:"CertId"`
}

type apiGatewayInstanceDetail struct {
	ServiceID string `json:"ServiceId"`
	CertID    string `json:"CertId"`

	ServiceName, Domain, Protocol string
}

type cosInstanceDetail struct {
	CertID string `json:"CertId"`

	Domain, Status, Bucket, Region string
}

type scfInstanceDetail struct {
	CertificateID string `json:"CertificateId"`

	Protocol, Domain, Region string
}

type tkeIngressDetail struct {
	IngressName string
	TLSDomains  []string `json:"TlsDomains"`
	Domains     []string
}

type tkeSecretDetail struct {
	Name           string
	CertID         string `json:"CertId"`
	IngressList    []tkeIngressDetail
	NoMatchDomains []string
}

type tkeNamespaceDetail struct {
	Name       string
	SecretList []tkeSecretDetail
}

type tkeInstanceDetail struct {
	ClusterID     string `json:"ClusterId"`
	NamespaceList []tkeNamespaceDetail

	ClusterName, ClusterType, ClusterVersion string
}

type tcbEnvironment struct {
	ID, Source, Name, Status string
}

type tcbAccessInstance struct {
	Domain           string
	IsPreempted      bool
	ICPStatus        int64  `json:"ICPStatus"`
	OldCertificateID string `json:"OldCertificateId"`

	Status, UnionStatus int64
}

type tcbAccessService struct {
	InstanceList []tcbAccessInstance
	TotalCount   int64
}

type tcbHostInstance struct {
	DNSStatus        string `json:"DNSStatus"`
	OldCertificateID string `json:"OldCertificateId"`

	Domain, Status string
}

type tcbHostService struct {
	InstanceList []tcbHostInstance
	TotalCount   int64
}

type tcbEnvironments struct {
	Environment   tcbEnvironment
	AccessService tcbAccessService
	HostService   tcbHostService
}

type tcbInstanceList struct {
	Region       string
	Environments []tcbEnvironments
	Error        *string `json:"Error,omitempty"`
}

type gatewayCertificate struct {
	ID          string `json:"Id"`
	CertID      string `json:"CertId"`
	BindDomains []string

	Name, CertSource string
}

type tseInstanceDetail struct {
	GatewayID       string `json:"GatewayId"`
	GatewayName     string
	CertificateList []gatewayCertificate
}

type tdmqInstanceDetail struct {
	InstanceID     string `json:"InstanceId"`
	CertID         string `json:"CertId"`
	CaCertID       string `json:"CaCertId"`
	NoMatchDomains []string

	InstanceName, InstanceStatus string
}

type mqttInstanceDetail struct {
	InstanceID       string `json:"InstanceId"`
	NoMatchDomains   []string
	ServerCertIDList []string `json:"ServerCertIdList"`
	CaCertIDList     []string `json:"CaCertIdList"`

	InstanceName, InstanceStatus string
}

type gaapListenerDetail struct {
	ListenerID     string `json:"ListenerId"`
	NoMatchDomains []string
	CertIDList     []string `json:"CertIdList"`

	ListenerStatus, ListenerName, Protocol string
}

type gaapInstanceDetail struct {
	InstanceID   string `json:"InstanceId"`
	ListenerList []gaapListenerDetail
	InstanceName string
}

type bindTaskDetailResponse struct {
	CLB        []regionList[clbInstanceDetail]
	CDN        []globalList[cdnInstanceDetail]
	WAF        []regionList[wafInstanceDetail]
	DDOS       []globalList[ddosInstanceDetail]
	LIVE       []globalList[liveInstanceDetail]
	VOD        []globalList[vodInstanceDetail]
	TKE        []regionList[tkeInstanceDetail]
	APIGATEWAY []regionList[apiGatewayInstanceDetail]
	TCB        []tcbInstanceList
	TEO        []globalList[teoInstanceDetail]
	TSE        []regionList[tseInstanceDetail]
	COS        []regionList[cosInstanceDetail]
	TDMQ       []regionList[tdmqInstanceDetail]
	MQTT       []regionList[mqttInstanceDetail]
	GAAP       []globalList[gaapInstanceDetail]
	SCF        []regionList[scfInstanceDetail]
	Status     uint64
	CacheTime  string
}

// bindTypes are the types a task looks at, in the order the answers list them.
func bindTypes() []string {
	return []string{resCLB, resCDN, resWAF, resDDOS, resLive, resVOD, resTKE, resAPIGateway, resTCB, resTEO, resTSE, resCOS, resTDMQ, resMQTT, resGAAP, resSCF}
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
	t.unread = slices.Clone(c.prod.unread)
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
		CLB: []regionList[clbInstanceDetail]{}, CDN: []globalList[cdnInstanceDetail]{}, WAF: []regionList[wafInstanceDetail]{}, DDOS: []globalList[ddosInstanceDetail]{},
		LIVE: []globalList[liveInstanceDetail]{}, VOD: []globalList[vodInstanceDetail]{}, TKE: []regionList[tkeInstanceDetail]{}, APIGATEWAY: []regionList[apiGatewayInstanceDetail]{},
		TCB: []tcbInstanceList{}, TEO: []globalList[teoInstanceDetail]{}, TSE: []regionList[tseInstanceDetail]{}, COS: []regionList[cosInstanceDetail]{},
		TDMQ: []regionList[tdmqInstanceDetail]{}, MQTT: []regionList[mqttInstanceDetail]{}, GAAP: []globalList[gaapInstanceDetail]{}, SCF: []regionList[scfInstanceDetail]{}, Status: bindTaskRunning,
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
		if !regionalType(typ) {
			groups = []bindGroup{{items: unregioned(groups)}}
		}
		for _, l := range t.unread {
			if l.Type == typ && regionalType(typ) && (len(regions) == 0 || slices.Contains(regions, l.Region)) &&
				!slices.ContainsFunc(groups, func(g bindGroup) bool { return g.region == l.Region }) {
				groups = append(groups, bindGroup{region: l.Region})
			}
		}
		for _, g := range groups {
			var unread *string
			if slices.Contains(t.unread, ListSpec{Type: typ, Region: g.region}) {
				unread = ptrTo(fmt.Sprintf("The %s resources in %s could not be read: InternalError.", typ, cmp.Or(g.region, "every region")))
				g.items = nil
			}
			resp.addList(typ, g, unread, offset, limit)
		}
	}
	return resp, nil
}

// addList adds a page of one type's list in one region (every region for the types without
// regions); a list with unread set holds no resources, as the service answers when it could
// not read the product there.
func (resp *bindTaskDetailResponse) addList(typ string, g bindGroup, unread *string, offset, limit uint64) {
	switch typ {
	case resCLB:
		resp.CLB = append(resp.CLB, regionPage[clbInstanceDetail](g, unread, offset, limit))
	case resCDN:
		resp.CDN = append(resp.CDN, globalPage[cdnInstanceDetail](g, unread, offset, limit))
	case resWAF:
		resp.WAF = append(resp.WAF, regionPage[wafInstanceDetail](g, unread, offset, limit))
	case resDDOS:
		resp.DDOS = append(resp.DDOS, globalPage[ddosInstanceDetail](g, unread, offset, limit))
	case resLive:
		resp.LIVE = append(resp.LIVE, globalPage[liveInstanceDetail](g, unread, offset, limit))
	case resVOD:
		resp.VOD = append(resp.VOD, globalPage[vodInstanceDetail](g, unread, offset, limit))
	case resTKE:
		resp.TKE = append(resp.TKE, regionPage[tkeInstanceDetail](g, unread, offset, limit))
	case resAPIGateway:
		resp.APIGATEWAY = append(resp.APIGATEWAY, regionPage[apiGatewayInstanceDetail](g, unread, offset, limit))
	case resTCB:
		// The environments are all listed; each service's domains are paged.
		l := tcbInstanceList{Region: g.region, Environments: []tcbEnvironments{}, Error: unread}
		for _, it := range g.items {
			env := it.(tcbEnvironments)
			env.AccessService.TotalCount, env.HostService.TotalCount = int64(len(env.AccessService.InstanceList)), int64(len(env.HostService.InstanceList))
			env.AccessService.InstanceList = append([]tcbAccessInstance{}, page(env.AccessService.InstanceList, offset, limit)...)
			env.HostService.InstanceList = append([]tcbHostInstance{}, page(env.HostService.InstanceList, offset, limit)...)
			l.Environments = append(l.Environments, env)
		}
		resp.TCB = append(resp.TCB, l)
	case resTEO:
		resp.TEO = append(resp.TEO, globalPage[teoInstanceDetail](g, unread, offset, limit))
	case resTSE:
		resp.TSE = append(resp.TSE, regionPage[tseInstanceDetail](g, unread, offset, limit))
	case resCOS:
		resp.COS = append(resp.COS, regionPage[cosInstanceDetail](g, unread, offset, limit))
	case resTDMQ:
		resp.TDMQ = append(resp.TDMQ, regionPage[tdmqInstanceDetail](g, unread, offset, limit))
	case resMQTT:
		resp.MQTT = append(resp.MQTT, regionPage[mqttInstanceDetail](g, unread, offset, limit))
	case resGAAP:
		resp.GAAP = append(resp.GAAP, globalPage[gaapInstanceDetail](g, unread, offset, limit))
	case resSCF:
		resp.SCF = append(resp.SCF, regionPage[scfInstanceDetail](g, unread, offset, limit))
	}
}

// regionPage is a page of a regional product's list in g's region.
func regionPage[T any](g bindGroup, unread *string, offset, limit uint64) regionList[T] {
	return regionList[T]{Region: g.region, TotalCount: uint64(len(g.items)), InstanceList: pageAs[T](g.items, offset, limit), Error: unread}
}

// globalPage is a page of the list of a product without regions.
func globalPage[T any](g bindGroup, unread *string, offset, limit uint64) globalList[T] {
	return globalList[T]{TotalCount: uint64(len(g.items)), InstanceList: pageAs[T](g.items, offset, limit), Error: unread}
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
			items = addItem(items, bindItem{typ: res.Type, region: res.Region, item: it})
		}
	}
	return items
}

// addItem adds it to items, folded into an earlier item of the same cluster, environment,
// gateway or proxy: the service lists each of those once, with what of it holds the
// certificate inside.
func addItem(items []bindItem, it bindItem) []bindItem {
	for i, x := range items {
		if x.typ != it.typ || x.region != it.region {
			continue
		}
		switch a, b := x.item, it.item; a := a.(type) {
		case tkeInstanceDetail:
			if b := b.(tkeInstanceDetail); a.ClusterID == b.ClusterID {
				for _, ns := range b.NamespaceList {
					j := slices.IndexFunc(a.NamespaceList, func(n tkeNamespaceDetail) bool { return n.Name == ns.Name })
					if j < 0 {
						a.NamespaceList = append(a.NamespaceList, ns)
					} else {
						a.NamespaceList[j].SecretList = append(a.NamespaceList[j].SecretList, ns.SecretList...)
					}
				}
				items[i].item = a
				return items
			}
		case tcbEnvironments:
			if b := b.(tcbEnvironments); a.Environment.ID == b.Environment.ID {
				a.AccessService.InstanceList = append(a.AccessService.InstanceList, b.AccessService.InstanceList...)
				a.HostService.InstanceList = append(a.HostService.InstanceList, b.HostService.InstanceList...)
				items[i].item = a
				return items
			}
		case tseInstanceDetail:
			if b := b.(tseInstanceDetail); a.GatewayID == b.GatewayID {
				a.CertificateList = append(a.CertificateList, b.CertificateList...)
				items[i].item = a
				return items
			}
		case gaapInstanceDetail:
			if b := b.(gaapInstanceDetail); a.InstanceID == b.InstanceID {
				a.ListenerList = append(a.ListenerList, b.ListenerList...)
				items[i].item = a
				return items
			}
		}
	}
	return append(items, it)
}

// resourceItems is how the bind-resource detail lists a resource: one entry per domain, or
// one entry for the types listed by instance (see addItem).
func resourceItems(r *resource, cert *sslCert) []any {
	switch r.Type {
	case resTKE:
		secret := tkeSecretDetail{Name: r.Secret, CertID: r.CertID, NoMatchDomains: []string{},
			IngressList: []tkeIngressDetail{{IngressName: r.Secret, TLSDomains: slices.Clone(r.Domains), Domains: slices.Clone(r.Domains)}}}
		return []any{tkeInstanceDetail{ClusterID: r.InstanceID, ClusterName: r.InstanceID, ClusterType: "MANAGED_CLUSTER", ClusterVersion: "1.30.0",
			NamespaceList: []tkeNamespaceDetail{{Name: r.Namespace, SecretList: []tkeSecretDetail{secret}}}}}
	case resTCB:
		env := tcbEnvironments{Environment: tcbEnvironment{ID: r.InstanceID, Source: "miniapp", Name: r.InstanceID, Status: "NORMAL"},
			AccessService: tcbAccessService{InstanceList: []tcbAccessInstance{}}, HostService: tcbHostService{InstanceList: []tcbHostInstance{}}}
		for _, d := range r.Domains {
			if r.Service == tcbHost {
				env.HostService.InstanceList = append(env.HostService.InstanceList, tcbHostInstance{Domain: d, Status: "online", DNSStatus: "ok", OldCertificateID: r.CertID})
			} else {
				env.AccessService.InstanceList = append(env.AccessService.InstanceList, tcbAccessInstance{Domain: d, Status: 1, UnionStatus: 1, OldCertificateID: r.CertID})
			}
		}
		return []any{env}
	case resTSE:
		return []any{tseInstanceDetail{GatewayID: r.InstanceID, GatewayName: r.InstanceID, CertificateList: []gatewayCertificate{{
			ID: "cert-" + r.CertID, CertID: r.CertID, BindDomains: slices.Clone(r.Domains), Name: r.CertID, CertSource: "ssl"}}}}
	case resTDMQ:
		return []any{tdmqInstanceDetail{InstanceID: r.InstanceID, InstanceName: r.InstanceID, InstanceStatus: "running", CertID: r.CertID, NoMatchDomains: []string{}}}
	case resMQTT:
		return []any{mqttInstanceDetail{InstanceID: r.InstanceID, InstanceName: r.InstanceID, InstanceStatus: "RUNNING",
			ServerCertIDList: []string{r.CertID}, CaCertIDList: []string{}, NoMatchDomains: []string{}}}
	case resGAAP:
		return []any{gaapInstanceDetail{InstanceID: r.InstanceID, InstanceName: r.InstanceID, ListenerList: []gaapListenerDetail{{
			ListenerID: r.Listener, ListenerName: r.Listener, ListenerStatus: "running", Protocol: "HTTPS", CertIDList: []string{r.CertID}, NoMatchDomains: []string{}}}}}
	}
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
