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
// EdgeOne host, a WAF domain, a COS custom domain, ...
type Resource struct {
	// Type is the SSL service's name of the product: "clb", "cdn", "teo", "waf", "cos", ...
	Type string
	// Region is "" for the types without regions (cdn, teo, live, vod, ddos).
	Region string
	// Instance is the load balancer, EdgeOne zone, bucket, API gateway service or DDoS
	// instance; "" where the service names none (CDN and WAF domains).
	Instance string
	// Listener is the CLB listener; "" for other types.
	Listener string
	// Domain is the domain or host; "" for a CLB listener without SNI.
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
func (c *Client) Bindings(ctx context.Context, certIDs []string) ([]Resource, error) {
	var out []Resource
	for batch := range slices.Chunk(certIDs, bindTaskBatch) {
		tasks, err := c.startBindTasks(ctx, batch)
		if err != nil {
			return nil, err
		}
		if err := c.awaitBindTasks(ctx, tasks); err != nil {
			return nil, err
		}
		for _, t := range tasks {
			found, err := c.bindTaskResources(ctx, t)
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
	}
	return out, nil
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
func (c *Client) bindTaskResources(ctx context.Context, t bindTask) ([]Resource, error) {
	var out []Resource
	for offset := 0; ; offset += bindDetailLimit {
		req := sslsdk.NewDescribeCertificateBindResourceTaskDetailRequest()
		req.TaskId, req.Limit, req.Offset = ptr(t.id), ptr(strconv.Itoa(bindDetailLimit)), ptr(strconv.Itoa(offset))
		resp, err := tencent.Call(ctx, c.api, "DescribeCertificateBindResourceTaskDetail", req, (*sslsdk.Client).DescribeCertificateBindResourceTaskDetailWithContext)
		what := fmt.Sprintf("find where certificate %s is bound", t.certID)
		if tencent.IsCode(err, codeRoleMissing) {
			return nil, roleError(what, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		found, more := detailResources(resp.Response, t.certID, uint64(offset+bindDetailLimit))
		out = append(out, found...)
		if !more {
			return out, nil
		}
	}
}

// detailResources lists a detail page's resources; more reports whether a list holds more
// than end entries.
func detailResources(d *sslsdk.DescribeCertificateBindResourceTaskDetailResponseParams, certID string, end uint64) (out []Resource, more bool) {
	total := func(n uint64) {
		if n > end {
			more = true
		}
	}
	add := func(r Resource) {
		r.CertID = certID
		out = append(out, r)
	}
	for _, l := range d.CLB {
		total(tencent.Deref(l.TotalCount))
		region := tencent.Deref(l.Region)
		for _, in := range l.InstanceList {
			lb := tencent.Deref(in.LoadBalancerId)
			for _, li := range in.Listeners {
				if li.Certificate != nil && tencent.Deref(li.Certificate.CertId) == certID {
					add(Resource{Type: "clb", Region: region, Instance: lb, Listener: tencent.Deref(li.ListenerId)})
				}
				var domains []string
				for _, r := range li.Rules {
					d := tencent.Deref(r.Domain)
					if r.Certificate != nil && tencent.Deref(r.Certificate.CertId) == certID && !slices.Contains(domains, d) {
						domains = append(domains, d)
						add(Resource{Type: "clb", Region: region, Instance: lb, Listener: tencent.Deref(li.ListenerId), Domain: d})
					}
				}
			}
		}
	}
	for _, l := range d.CDN {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "cdn", Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.TEO {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "teo", Instance: tencent.Deref(in.ZoneId), Domain: tencent.Deref(in.Host)})
		}
	}
	for _, l := range d.WAF {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "waf", Region: tencent.Deref(l.Region), Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.DDOS {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "ddos", Instance: tencent.Deref(in.InstanceId), Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.LIVE {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "live", Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.VOD {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "vod", Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.APIGATEWAY {
		total(tencent.Deref(l.TotalCount))
		for _, in := range l.InstanceList {
			add(Resource{Type: "apigateway", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.ServiceId), Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.COS {
		total(uint64(max(tencent.Deref(l.TotalCount), 0)))
		for _, in := range l.InstanceList {
			add(Resource{Type: "cos", Region: tencent.Deref(l.Region), Instance: tencent.Deref(in.Bucket), Domain: tencent.Deref(in.Domain)})
		}
	}
	for _, l := range d.SCF {
		total(uint64(max(tencent.Deref(l.TotalCount), 0)))
		for _, in := range l.InstanceList {
			add(Resource{Type: "scf", Region: tencent.Deref(l.Region), Domain: tencent.Deref(in.Domain)})
		}
	}
	return out, more
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
	if err != nil {
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
		if i := slices.IndexFunc(details, func(d *sslsdk.UpdateRecordDetail) bool { return sameAs(r, detailResource(d)) }); i >= 0 {
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
	default:
		r.Instance = tencent.Deref(d.InstanceId)
	}
	return r
}

// sameAs reports whether a and b are the same resource: CLB by load balancer, listener and
// domain; the other types by domain (the bind-resource lists and the deploy records name
// instances differently, and some not at all), and region where both give one.
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
	return a.Domain != "" && a.Domain == b.Domain
}
