package ssl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/plural"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Resource is a place a certificate is bound: a CLB listener or SNI domain, a CDN domain, an
// EdgeOne host, a WAF domain, a COS custom domain, a TKE secret, ...
type Resource struct {
	// Type is the SSL service's name of the product: "clb", "cdn", "teo", "waf", "cos", ...
	Type string
	// Region is "" for the types without regions (cdn, teo, live, vod, ddos, gaap).
	Region string
	// Instance is the load balancer, EdgeOne zone, bucket, API gateway service, DDoS
	// instance, TCB environment, TSE gateway, TDMQ or MQTT instance; for tke the Secret that
	// holds the certificate as "cluster/namespace/secret", for gaap the listener as
	// "proxy/listener"; "" where the service names none (CDN and WAF domains). The types
	// without domains (tke, tdmq, mqtt, gaap) are told apart by it.
	Instance string
	// Listener is the CLB listener; "" for other types.
	Listener string
	// Domain is the domain or host; "" for a CLB listener without SNI and for the types the
	// service lists without domains (tke, tdmq, mqtt, gaap).
	Domain string
	// CertID is the certificate bound there.
	CertID string
}

// String names the resource in one line: "cdn cdn.example.test",
// "clb ap-guangzhou lb-x/lbl-y/api.example.test".
func (r Resource) String() string {
	var b strings.Builder
	b.WriteString(r.Type)
	if r.Region != "" {
		b.WriteString(" " + r.Region)
	}
	var where []string
	for _, s := range []string{r.Instance, r.Listener, r.Domain} {
		if s != "" {
			where = append(where, s)
		}
	}
	if len(where) > 0 {
		b.WriteString(" " + strings.Join(where, "/"))
	}
	return b.String()
}

// RegionalType reports whether UpdateCertificateInstance needs the regions of resources of
// type t (ResourceTypesRegions).
func RegionalType(t string) bool {
	switch t {
	case "clb", "tke", "apigateway", "waf", "tcb", "tse", "cos", "mqtt", "scf", "tdmq":
		return true
	}
	return false
}

// chinaTypes are the resource types UpdateCertificateInstance takes on the China site;
// the international site lacks intlLacks (docs/tencentcloud-api.md §2).
var (
	chinaTypes = []string{"apigateway", "cdn", "clb", "cos", "ddos", "gaap", "live", "mqtt", "scf", "tcb", "tdmq", "teo", "tke", "tse", "vod", "waf"}
	intlLacks  = []string{"gaap", "mqtt", "scf", "tdmq"}
)

// Types are the resource types the SSL service can move from one certificate to another on
// site, sorted: what "all products" means there.
func Types(site tencent.Site) []string {
	if site != tencent.SiteIntl {
		return slices.Clone(chinaTypes)
	}
	return slices.DeleteFunc(slices.Clone(chinaTypes), func(t string) bool { return slices.Contains(intlLacks, t) })
}

// TypeOn reports whether the SSL service can move resources of type t on site; when it
// cannot on the international site but can on the China site, chinaOnly is true.
func TypeOn(site tencent.Site, t string) (ok, chinaOnly bool) {
	if slices.Contains(Types(site), t) {
		return true, false
	}
	return false, slices.Contains(chinaTypes, t)
}

const (
	bindTaskBatch   = 100 // CertificateIds per CreateCertificateBindResourceSyncTask
	bindDetailLimit = 100
	bindTaskRunning = 0
	bindTaskDone    = 1
)

// Bindings finds every resource, of every type and region the SSL service knows, that holds
// one of the certificates certIDs. It asks for fresh results (IsCache=0): the service's cached
// answers can be half an hour old, and a deploy must see what the previous run just moved.
//
// When the service could not read some types in some regions, the error is an *UnreadError
// naming them, returned with the resources of the lists it read: what those lists hold is
// unknown, never "nothing" (see UnreadError.Of).
func (c *Client) Bindings(ctx context.Context, certIDs []string) ([]Resource, error) {
	var out []Resource
	var unread []Unread
	for batch := range slices.Chunk(certIDs, bindTaskBatch) {
		tasks, err := c.startBindTasks(ctx, batch)
		if err != nil {
			return nil, err
		}
		if err := c.awaitBindTasks(ctx, tasks); err != nil {
			return nil, err
		}
		for _, t := range tasks {
			found, failed, err := c.bindTaskResources(ctx, t)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
			for _, u := range failed {
				if !slices.ContainsFunc(unread, func(x Unread) bool { return x.Type == u.Type && x.Region == u.Region }) {
					unread = append(unread, u)
				}
			}
		}
	}
	if len(unread) > 0 {
		return out, &UnreadError{Lists: sortUnread(unread)}
	}
	return out, nil
}

// Unread is a list of the bind-resource detail the SSL service answered with an error: it
// could not read resources of Type in Region ("" for the types without regions).
type Unread struct {
	Type, Region string
	// Reason is the service's error.
	Reason string
}

func (u Unread) String() string {
	where := u.Type
	if u.Region != "" {
		where += " in " + u.Region
	}
	return fmt.Sprintf("%s (%s)", where, u.Reason)
}

// UnreadError is the error of a Bindings whose answer left some types and regions unread:
// which resources there hold the certificates is unknown. A certificate must not be deleted,
// and a deploy to those types is not complete, on such an answer.
type UnreadError struct {
	// Lists are the lists not read, by type and region.
	Lists []Unread
}

func (e *UnreadError) Error() string {
	names := make([]string, len(e.Lists))
	for i, u := range e.Lists {
		names[i] = u.String()
	}
	return fmt.Sprintf("the SSL service could not read the resources of %s, so whether they hold the certificates is unknown: run again, and if it persists check that product in the SSL Certificates console (associated cloud resources) or ask Tencent Cloud support",
		strings.Join(names, ", "))
}

// Of is the error narrowed to the lists of types; nil when none of them is unread.
func (e *UnreadError) Of(types []string) error {
	var lists []Unread
	for _, u := range e.Lists {
		if slices.Contains(types, u.Type) {
			lists = append(lists, u)
		}
	}
	if len(lists) == 0 {
		return nil
	}
	return &UnreadError{Lists: lists}
}

// Covers reports whether r is of a type and region that was not read.
func (e *UnreadError) Covers(r Resource) bool {
	return slices.ContainsFunc(e.Lists, func(u Unread) bool { return u.Type == r.Type && (u.Region == "" || u.Region == r.Region) })
}

// UnreadOf narrows err to the types when it is an *UnreadError (nil when none of them is
// unread); any other error is returned as it is. Callers that look at some types only use
// it so that a list of another type that could not be read does not stop them.
func UnreadOf(err error, types []string) error {
	var unread *UnreadError
	if errors.As(err, &unread) {
		return unread.Of(types)
	}
	return err
}

func sortUnread(us []Unread) []Unread {
	slices.SortFunc(us, func(a, b Unread) int { return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Region, b.Region)) })
	return us
}

type bindTask struct{ id, certID string }

func (c *Client) startBindTasks(ctx context.Context, ids []string) ([]bindTask, error) {
	req := sslsdk.NewCreateCertificateBindResourceSyncTaskRequest()
	req.CertificateIds = common.StringPtrs(ids)
	req.IsCache = ptr(uint64(0))
	resp, err := tencent.Call(ctx, c.api, "CreateCertificateBindResourceSyncTask", req, (*sslsdk.Client).CreateCertificateBindResourceSyncTaskWithContext)
	if err != nil {
		return nil, fmt.Errorf("find where certificates %s are bound: %w", strings.Join(ids, ", "), err)
	}
	var tasks []bindTask
	for _, ct := range resp.Response.CertTaskIds {
		tasks = append(tasks, bindTask{id: tencent.Deref(ct.TaskId), certID: tencent.Deref(ct.CertId)})
	}
	if len(tasks) != len(ids) {
		return nil, fmt.Errorf("find where certificates %s are bound: the SSL service started %d tasks for %d certificates; run again", strings.Join(ids, ", "), len(tasks), len(ids))
	}
	return tasks, nil
}

func (c *Client) awaitBindTasks(ctx context.Context, tasks []bindTask) error {
	req := sslsdk.NewDescribeCertificateBindResourceTaskResultRequest()
	for i := range tasks {
		req.TaskIds = append(req.TaskIds, &tasks[i].id)
	}
	p := c.poller()
	for {
		resp, err := tencent.Call(ctx, c.api, "DescribeCertificateBindResourceTaskResult", req, (*sslsdk.Client).DescribeCertificateBindResourceTaskResultWithContext)
		if err != nil {
			return fmt.Errorf("find where certificates are bound: %w", err)
		}
		running := 0
		for _, r := range resp.Response.SyncTaskBindResourceResult {
			switch tencent.Deref(r.Status) {
			case bindTaskRunning:
				running++
			case bindTaskDone:
			default:
				return bindTaskError(tasks, r)
			}
		}
		if running == 0 {
			return nil
		}
		if err := p.next(ctx); err != nil {
			if errors.Is(err, errTimeout) {
				return fmt.Errorf("find where certificates are bound: %d of the SSL service's bind-resource tasks still running after %s: run again later", running, c.opts.Timeout)
			}
			return err
		}
	}
}

func bindTaskError(tasks []bindTask, r *sslsdk.SyncTaskBindResourceResult) error {
	taskID := tencent.Deref(r.TaskId)
	cert := taskID
	for _, t := range tasks {
		if t.id == taskID {
			cert = t.certID
		}
	}
	what := fmt.Sprintf("find where certificate %s is bound", cert)
	var code, msg string
	if r.Error != nil {
		code, msg = tencent.Deref(r.Error.Code), tencent.Deref(r.Error.Message)
	}
	cause := fmt.Errorf("bind-resource task %s failed (%s: %s)", taskID, code, msg)
	if code == codeRoleMissing {
		return roleError(what, cause)
	}
	return fmt.Errorf("%s: %w; run again, and if it persists quote the task id to Tencent Cloud support", what, cause)
}

// bindTaskResources pages through one task's detail. The service pages every type's and
// region's list at once, so the pages end when no list has more.
func (c *Client) bindTaskResources(ctx context.Context, t bindTask) ([]Resource, []Unread, error) {
	var out []Resource
	var unread []Unread
	for offset := 0; ; offset += bindDetailLimit {
		req := sslsdk.NewDescribeCertificateBindResourceTaskDetailRequest()
		req.TaskId, req.Limit, req.Offset = ptr(t.id), ptr(strconv.Itoa(bindDetailLimit)), ptr(strconv.Itoa(offset))
		resp, err := tencent.Call(ctx, c.api, "DescribeCertificateBindResourceTaskDetail", req, (*sslsdk.Client).DescribeCertificateBindResourceTaskDetailWithContext)
		what := fmt.Sprintf("find where certificate %s is bound", t.certID)
		if tencent.IsCode(err, codeRoleMissing) {
			return nil, nil, roleError(what, err)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		page := detailResources(resp.Response, t.certID, uint64(offset+bindDetailLimit))
		out, unread = append(out, page.found...), append(unread, page.unread...)
		if !page.more {
			return out, unread, nil
		}
	}
}

// detailPage is what one page of a task's detail holds.
type detailPage struct {
	found  []Resource
	unread []Unread
	// more: a list holds more entries than the pages up to this one.
	more bool
}

// detailResources reads a detail page; a list holds more when its total passes end.
//
// A resource counts when it holds certID. Where an entry names the certificate it holds (CLB
// listeners and rules, TKE secrets, TSE gateway certificates, TDMQ instances, MQTT server
// certificates, GAAP listeners, and the CertId of the domain types), an entry naming another
// is left out; where it names none (TCB domains, or an answer without the field), the task is
// about certID alone, so the entry holds it. A list with an Error could not be read: it is
// reported in unread, never taken as empty.
func detailResources(d *sslsdk.DescribeCertificateBindResourceTaskDetailResponseParams, certID string, end uint64) detailPage {
	var p detailPage
	total := func(n uint64) {
		if n > end {
			p.more = true
		}
	}
	total64 := func(n *int64) { total(uint64(max(tencent.Deref(n), 0))) }
	// readable notes a list that could not be read and reports whether this one was.
	readable := func(typ string, region, errText *string) bool {
		if e := tencent.Deref(errText); e != "" {
			p.unread = append(p.unread, Unread{Type: typ, Region: tencent.Deref(region), Reason: e})
			return false
		}
		return true
	}
	add := func(r Resource, holder *string) {
		if h := tencent.Deref(holder); h == "" || h == certID {
			r.CertID = certID
			p.found = append(p.found, r)
		}
	}
	// listed is the holder to check for an entry that lists its certificates: none (it
	// holds certID) when the list is empty or has certID, else one of the others.
	listed := func(ids []*string) *string {
		if len(ids) == 0 || slices.Contains(common.StringValues(ids), certID) {
			return nil
		}
		return ids[0]
	}
	for _, l := range d.CLB {
		if !readable("clb", l.Region, l.Error) {
			continue
		}
		total(tencent.Deref(l.TotalCount))
		region := tencent.Deref(l.Region)
		for _, in := range l.InstanceList {
			lb := tencent.Deref(in.LoadBalancerId)
			for _, li := range in.Listeners {
				if li.Certificate != nil && tencent.Deref(li.Certificate.CertId) == certID {
					add(Resource{Type: "clb", Region: region, Instance: lb, Listener: tencent.Deref(li.ListenerId)}, nil)
				}
				var domains []string
				for _, r := range li.Rules {
					d := tencent.Deref(r.Domain)
					if r.Certificate != nil && tencent.Deref(r.Certificate.CertId) == certID && !slices.Contains(domains, d) {
						domains = append(domains, d)
						add(Resource{Type: "clb", Region: region, Instance: lb, Listener: tencent.Deref(li.ListenerId), Domain: d}, nil)
					}
				}
			}
		}
	}
	for _, l := range d.CDN {
		if readable("cdn", nil, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "cdn", Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.TEO {
		if readable("teo", nil, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "teo", Instance: tencent.Deref(in.ZoneId), Domain: tencent.Deref(in.Host)}, in.CertId)
			}
		}
	}
	for _, l := range d.WAF {
		if readable("waf", l.Region, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "waf", Region: tencent.Deref(l.Region), Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.DDOS {
		if readable("ddos", nil, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "ddos", Instance: tencent.Deref(in.InstanceId), Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.LIVE {
		if readable("live", nil, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "live", Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.VOD {
		if readable("vod", nil, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "vod", Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.APIGATEWAY {
		if readable("apigateway", l.Region, l.Error) {
			total(tencent.Deref(l.TotalCount))
			for _, in := range l.InstanceList {
				add(Resource{Type: "apigateway", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.ServiceId), Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.COS {
		if readable("cos", l.Region, l.Error) {
			total64(l.TotalCount)
			for _, in := range l.InstanceList {
				add(Resource{Type: "cos", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.Bucket), Domain: tencent.Deref(in.Domain)}, in.CertId)
			}
		}
	}
	for _, l := range d.SCF {
		if readable("scf", l.Region, l.Error) {
			total64(l.TotalCount)
			for _, in := range l.InstanceList {
				add(Resource{Type: "scf", Region: tencent.Deref(l.Region), Domain: tencent.Deref(in.Domain)}, in.CertificateId)
			}
		}
	}
	for _, l := range d.TKE {
		if !readable("tke", l.Region, l.Error) {
			continue
		}
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			for _, ns := range in.NamespaceList {
				for _, sec := range ns.SecretList {
					name := strings.Join([]string{tencent.Deref(in.ClusterId), tencent.Deref(ns.Name), tencent.Deref(sec.Name)}, "/")
					add(Resource{Type: "tke", Region: tencent.Deref(l.Region), Instance: name}, sec.CertId)
				}
			}
		}
	}
	for _, l := range d.TCB {
		if !readable("tcb", l.Region, l.Error) {
			continue
		}
		for _, env := range l.Environments {
			var id string
			if env.Environment != nil {
				id = tencent.Deref(env.Environment.ID)
			}
			// OldCertificateId is left unread: whether it names the certificate the domain
			// holds or the one it held before is not documented, and the task is certID's.
			if s := env.AccessService; s != nil {
				total64(s.TotalCount)
				for _, in := range s.InstanceList {
					add(Resource{Type: "tcb", Region: tencent.Deref(l.Region), Instance: id, Domain: tencent.Deref(in.Domain)}, nil)
				}
			}
			if s := env.HostService; s != nil {
				total64(s.TotalCount)
				for _, in := range s.InstanceList {
					add(Resource{Type: "tcb", Region: tencent.Deref(l.Region), Instance: id, Domain: tencent.Deref(in.Domain)}, nil)
				}
			}
		}
	}
	for _, l := range d.TSE {
		if !readable("tse", l.Region, l.Error) {
			continue
		}
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			for _, gc := range in.CertificateList {
				r := Resource{Type: "tse", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.GatewayId)}
				if len(gc.BindDomains) == 0 {
					add(r, gc.CertId)
				}
				for _, d := range gc.BindDomains {
					r.Domain = tencent.Deref(d)
					add(r, gc.CertId)
				}
			}
		}
	}
	for _, l := range d.TDMQ {
		if readable("tdmq", l.Region, l.Error) {
			total64(l.TotalCount)
			for _, in := range l.InstanceList {
				add(Resource{Type: "tdmq", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.InstanceId)}, in.CertId)
			}
		}
	}
	for _, l := range d.MQTT {
		if readable("mqtt", l.Region, l.Error) {
			total64(l.TotalCount)
			for _, in := range l.InstanceList {
				add(Resource{Type: "mqtt", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.InstanceId)}, listed(in.ServerCertIdList))
			}
		}
	}
	for _, l := range d.GAAP {
		if !readable("gaap", nil, l.Error) {
			continue
		}
		total64(l.TotalCount)
		for _, in := range l.InstanceList {
			for _, li := range in.ListenerList {
				name := tencent.Deref(in.InstanceId) + "/" + tencent.Deref(li.ListenerId)
				add(Resource{Type: "gaap", Instance: name}, listed(li.CertIdList))
			}
		}
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// Status is what became of one resource.
type Status string

const (
	// StatusMoved: the resource now holds the new certificate.
	StatusMoved Status = "moved"
	// StatusAlready: the resource held the new certificate already, or the service found
	// nothing to do for it. It counts as done.
	StatusAlready Status = "already"
	// StatusFailed: the resource still holds the old certificate (Error says why).
	StatusFailed Status = "failed"
)

// Outcome is one resource's result of a Move.
type Outcome struct {
	Resource Resource
	// Before is the certificate the resource held before the move.
	Before string
	Status Status
	// Error is the service's reason for a failure; "" otherwise.
	Error string
}

// MoveError is a Move that left resources on the old certificate.
type MoveError struct {
	OldCertID, NewCertID string
	// RecordID is the SSL service's deploy record, which its console shows.
	RecordID uint64
	Failed   []Outcome
}

func (e *MoveError) Error() string {
	var names []string
	for _, o := range e.Failed {
		names = append(names, fmt.Sprintf("%s (%s)", o.Resource, o.Error))
	}
	return fmt.Sprintf("%s still hold certificate %s after a retry (SSL deploy record %d): %s; fix the cause and run again: the resources already on %s stay there",
		plural.Of(len(e.Failed), "resource"), e.OldCertID, e.RecordID, strings.Join(names, "; "), e.NewCertID)
}

// Update record detail states (DescribeHostUpdateRecordDetail).
const (
	detailPending    = 0
	detailSuccess    = 1
	detailFailed     = 2
	detailDeploying  = 3
	detailNoResource = 6
	recordPageLimit  = 200
)

// Move moves resources from certificate oldID to newID through UpdateCertificateInstance,
// which updates every resource of their types (and regions, for the regional ones) that holds
// oldID: what the service moved beyond resources is reported too. newID is a certificate
// already in the store, passed by id (never as PEMs, which would create a new id on every
// call), and the old certificate's expiry notices are turned off. Failed resources are
// retried once. The outcomes list every resource; the error is a *MoveError when some are
// still on oldID.
func (c *Client) Move(ctx context.Context, oldID, newID string, resources []Resource) ([]Outcome, error) {
	if len(resources) == 0 {
		return nil, nil
	}
	req := updateRequest(oldID, newID, resources)
	what := fmt.Sprintf("move %s from certificate %s to %s", strings.Join(types(resources), ", "), oldID, newID)
	recordID, err := c.startUpdate(ctx, req, what)
	nothingLeft := errors.Is(err, errNothingToMove)
	if err != nil && !nothingLeft {
		return nil, err
	}
	var details []*sslsdk.UpdateRecordDetail
	if !nothingLeft {
		if details, err = c.awaitRecord(ctx, recordID, what); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(details, func(d *sslsdk.UpdateRecordDetail) bool { return tencent.Deref(d.Status) == detailFailed }) {
			retried, err := c.retry(ctx, recordID, what)
			var siteErr *tencent.SiteError
			switch {
			case errors.As(err, &siteErr), tencent.IsCode(err, codeInvalidAction):
				// A site without retries: the failures stand, and a run again starts a
				// new update of what is still on the old certificate.
				c.opts.Logger.Warn("the SSL service cannot retry failed resources here", "err", err)
			case err != nil:
				return nil, err
			default:
				details = retried
			}
		}
	}
	out := outcomes(resources, oldID, details)
	if err := c.checkUnlisted(ctx, out, newID, what); err != nil {
		return nil, err
	}
	moveErr := &MoveError{OldCertID: oldID, NewCertID: newID, RecordID: recordID}
	for _, o := range out {
		if o.Status == StatusFailed {
			moveErr.Failed = append(moveErr.Failed, o)
		}
	}
	if len(moveErr.Failed) > 0 {
		return out, moveErr
	}
	return out, nil
}

// retry retries a record's failed resources once and waits for them.
func (c *Client) retry(ctx context.Context, recordID uint64, what string) ([]*sslsdk.UpdateRecordDetail, error) {
	c.opts.Logger.Debug("retrying failed resources", "record", recordID)
	req := sslsdk.NewUpdateCertificateRecordRetryRequest()
	req.DeployRecordId = ptr(int64(recordID))
	_, err := tencent.Call(ctx, c.api, "UpdateCertificateRecordRetry", req, (*sslsdk.Client).UpdateCertificateRecordRetryWithContext)
	if err != nil {
		return nil, fmt.Errorf("%s: retry the failed resources of SSL deploy record %d: %w", what, recordID, err)
	}
	return c.awaitRecord(ctx, recordID, what)
}

// checkUnlisted settles the outcomes of resources the deploy record does not list: the
// service updates every resource that holds the old certificate, so one it left out did not
// hold it any more. If it holds the new one (a run before this one, or someone in the console,
// moved it), it is already there; if not, it is a failure to look into.
func (c *Client) checkUnlisted(ctx context.Context, out []Outcome, newID, what string) error {
	if !slices.ContainsFunc(out, func(o Outcome) bool { return o.Status == statusUnlisted }) {
		return nil
	}
	onNew, err := c.Bindings(ctx, []string{newID})
	var unread *UnreadError
	if err != nil && !errors.As(err, &unread) {
		return fmt.Errorf("%s: check the resources the update left out: %w", what, err)
	}
	for i := range out {
		if out[i].Status != statusUnlisted {
			continue
		}
		if slices.ContainsFunc(onNew, func(r Resource) bool { return sameAs(out[i].Resource, r) }) {
			out[i].Status = StatusAlready
			continue
		}
		out[i].Status = StatusFailed
		if unread != nil && unread.Covers(out[i].Resource) {
			out[i].Error = fmt.Sprintf("the update left it out and whether it holds %s is unknown: %v", newID, unread)
			continue
		}
		out[i].Error = fmt.Sprintf("holds neither the old nor the new certificate (%s): check it in its product's console", newID)
	}
	return nil
}

// types are the resources' types, sorted.
func types(resources []Resource) []string {
	var out []string
	for _, r := range resources {
		if !slices.Contains(out, r.Type) {
			out = append(out, r.Type)
		}
	}
	slices.Sort(out)
	return out
}

func updateRequest(oldID, newID string, resources []Resource) *sslsdk.UpdateCertificateInstanceRequest {
	regions := map[string][]string{}
	for _, r := range resources {
		if RegionalType(r.Type) && !slices.Contains(regions[r.Type], r.Region) {
			regions[r.Type] = append(regions[r.Type], r.Region)
		}
	}
	req := sslsdk.NewUpdateCertificateInstanceRequest()
	req.OldCertificateId, req.CertificateId = ptr(oldID), ptr(newID)
	req.ExpiringNotificationSwitch = ptr(uint64(1))
	for _, t := range types(resources) {
		req.ResourceTypes = append(req.ResourceTypes, ptr(t))
		if rs := regions[t]; len(rs) > 0 {
			slices.Sort(rs)
			req.ResourceTypesRegions = append(req.ResourceTypesRegions, &sslsdk.ResourceTypeRegions{ResourceType: ptr(t), Regions: common.StringPtrs(rs)})
		}
	}
	return req
}

var errNothingToMove = errors.New("no resource holds the old certificate")

// startUpdate calls UpdateCertificateInstance until it answers a deploy record: 0 means the
// record is still being created, and another update of the old certificate that is running
// must end first. A running update with the same arguments is answered with its record
// (DeployStatus 0), which is as good as a new one.
func (c *Client) startUpdate(ctx context.Context, req *sslsdk.UpdateCertificateInstanceRequest, what string) (uint64, error) {
	p := c.poller()
	for {
		resp, err := tencent.Call(ctx, c.api, "UpdateCertificateInstance", req, (*sslsdk.Client).UpdateCertificateInstanceWithContext)
		busy := tencent.IsCode(err, codeHasPending)
		switch {
		case tencent.IsCode(err, codeInstanceEmpty), tencent.IsCode(err, codeNotDeployInstace):
			// Nothing of these types holds the old certificate: a run before this one, or
			// someone in the console, moved them. Peers count this as a failure; it is done.
			return 0, errNothingToMove
		case tencent.IsCode(err, codeRoleMissing):
			return 0, roleError(what, err)
		case err != nil && !busy:
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		if !busy {
			id := tencent.Deref(resp.Response.DeployRecordId)
			if id != 0 {
				if tencent.Deref(resp.Response.DeployStatus) == 0 {
					c.opts.Logger.Debug("an update with the same arguments is running: following it", "record", id)
				}
				return id, nil
			}
		}
		if err := p.next(ctx); err != nil {
			if !errors.Is(err, errTimeout) {
				return 0, err
			}
			if busy {
				return 0, fmt.Errorf("%s: another update of certificate %s (from the console or another run) has not ended after %s: wait for it in the SSL Certificates console's deploy records, then run again",
					what, tencent.Deref(req.OldCertificateId), c.opts.Timeout)
			}
			return 0, fmt.Errorf("%s: the SSL service was still creating the update after %s: run again later", what, c.opts.Timeout)
		}
	}
}

// awaitRecord polls a deploy record until none of its resources is pending or deploying,
// and returns its details.
func (c *Client) awaitRecord(ctx context.Context, id uint64, what string) ([]*sslsdk.UpdateRecordDetail, error) {
	p := c.poller()
	for {
		details, err := c.recordDetails(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		running := 0
		for _, d := range details {
			if s := tencent.Deref(d.Status); s == detailPending || s == detailDeploying {
				running++
			}
		}
		if running == 0 {
			return details, nil
		}
		if err := p.next(ctx); err != nil {
			if errors.Is(err, errTimeout) {
				return nil, fmt.Errorf("%s: %s of SSL deploy record %d still updating after %s: check the record in the SSL Certificates console, then run again",
					what, plural.Of(running, "resource"), id, c.opts.Timeout)
			}
			return nil, err
		}
	}
}

// recordDetails reads every detail of a deploy record, page by page.
func (c *Client) recordDetails(ctx context.Context, id uint64) ([]*sslsdk.UpdateRecordDetail, error) {
	var out []*sslsdk.UpdateRecordDetail
	seen := map[uint64]bool{}
	for offset := 0; ; offset += recordPageLimit {
		req := sslsdk.NewDescribeHostUpdateRecordDetailRequest()
		req.DeployRecordId = ptr(strconv.FormatUint(id, 10))
		req.Limit, req.Offset = ptr(strconv.Itoa(recordPageLimit)), ptr(strconv.Itoa(offset))
		resp, err := tencent.Call(ctx, c.api, "DescribeHostUpdateRecordDetail", req, (*sslsdk.Client).DescribeHostUpdateRecordDetailWithContext)
		if err != nil {
			return nil, fmt.Errorf("read SSL deploy record %d: %w", id, err)
		}
		for _, group := range resp.Response.RecordDetailList {
			for _, d := range group.List {
				if d.ResourceType == nil {
					d.ResourceType = group.ResourceType
				}
				if did := tencent.Deref(d.Id); !seen[did] {
					seen[did] = true
					out = append(out, d)
				}
			}
		}
		// Whether the service pages each type's list or all details, no list is longer than
		// the total.
		if int64(offset+recordPageLimit) >= tencent.Deref(resp.Response.TotalCount) {
			return out, nil
		}
	}
}

// statusUnlisted marks, inside Move only, a resource the deploy record does not list.
const statusUnlisted Status = "unlisted"

// outcomes matches the record's details to the resources; details of resources not asked
// about are reported too.
func outcomes(resources []Resource, oldID string, details []*sslsdk.UpdateRecordDetail) []Outcome {
	var out []Outcome
	used := make([]bool, len(details))
	for _, r := range resources {
		o := Outcome{Resource: r, Before: oldID, Status: statusUnlisted}
		if i := slices.IndexFunc(details, func(d *sslsdk.UpdateRecordDetail) bool { return detailNames(d, r) }); i >= 0 {
			used[i] = true
			o.Status, o.Error = detailStatus(details[i])
		}
		out = append(out, o)
	}
	for i, d := range details {
		if !used[i] {
			o := Outcome{Resource: detailResource(d), Before: oldID}
			o.Status, o.Error = detailStatus(d)
			out = append(out, o)
		}
	}
	return out
}

func detailStatus(d *sslsdk.UpdateRecordDetail) (Status, string) {
	switch s := tencent.Deref(d.Status); s {
	case detailSuccess:
		return StatusMoved, ""
	case detailNoResource:
		return StatusAlready, ""
	case detailFailed:
		return StatusFailed, cmp.Or(tencent.Deref(d.ErrorMsg), "the SSL service gave no reason")
	default:
		return StatusFailed, fmt.Sprintf("deploy state %d", s)
	}
}

// detailResource is the resource a detail names.
func detailResource(d *sslsdk.UpdateRecordDetail) Resource {
	r := Resource{Type: tencent.Deref(d.ResourceType), Region: tencent.Deref(d.Region), CertID: tencent.Deref(d.OldCertId)}
	if len(d.Domains) > 0 {
		r.Domain = tencent.Deref(d.Domains[0])
	}
	switch r.Type {
	case "clb":
		r.Instance, r.Listener = tencent.Deref(d.InstanceId), tencent.Deref(d.ListenerId)
	case "cdn", "waf", "live", "vod", "scf":
	case "tcb":
		r.Instance = cmp.Or(tencent.Deref(d.EnvId), tencent.Deref(d.InstanceId))
	case "tke":
		r.Instance, r.Domain = tencent.Deref(d.InstanceId), ""
		if sec := tencent.Deref(d.SecretName); sec != "" {
			r.Instance += "/" + tencent.Deref(d.Namespace) + "/" + sec
		}
	case "gaap":
		r.Instance, r.Domain = tencent.Deref(d.InstanceId), ""
		if li := tencent.Deref(d.ListenerId); li != "" {
			r.Instance += "/" + li
		}
	case "tdmq", "mqtt":
		r.Instance, r.Domain = tencent.Deref(d.InstanceId), ""
	default:
		r.Instance = tencent.Deref(d.InstanceId)
	}
	return r
}

// detailNames reports whether detail d is about r: a detail of several domains (a TSE gateway
// certificate's) names each of them.
func detailNames(d *sslsdk.UpdateRecordDetail, r Resource) bool {
	dr := detailResource(d)
	if sameAs(r, dr) {
		return true
	}
	if dr.Type == "clb" || byInstance(dr.Type) {
		return false
	}
	return slices.ContainsFunc(d.Domains, func(dom *string) bool {
		dr.Domain = tencent.Deref(dom)
		return sameAs(r, dr)
	})
}

// byInstance reports whether the SSL service lists the resources of type t without domains,
// so that their instance (see Resource.Instance) tells them apart.
func byInstance(t string) bool {
	return t == "tke" || t == "tdmq" || t == "mqtt" || t == "gaap"
}

// sameAs reports whether a and b are the same resource: CLB by load balancer, listener and
// domain; the types listed without domains by instance, where a deploy record that names only
// the cluster or proxy ("cls-x") matches each of its secrets or listeners ("cls-x/ns/name");
// the other types by domain (the bind-resource lists and the deploy records name instances
// differently, and some not at all), and region where both give one.
func sameAs(a, b Resource) bool {
	if a.Type != b.Type {
		return false
	}
	if a.Type == "clb" {
		return a.Instance == b.Instance && a.Listener == b.Listener && a.Domain == b.Domain
	}
	if a.Region != "" && b.Region != "" && a.Region != b.Region {
		return false
	}
	if byInstance(a.Type) {
		short, long := a.Instance, b.Instance
		if len(short) > len(long) {
			short, long = long, short
		}
		return short != "" && (short == long || strings.HasPrefix(long, short+"/"))
	}
	return a.Domain != "" && a.Domain == b.Domain
}
