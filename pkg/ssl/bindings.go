package ssl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

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
	resp, err := tencent.Do(ctx, c.caller, "CreateCertificateBindResourceSyncTask", func(ctx context.Context) (*sslsdk.CreateCertificateBindResourceSyncTaskResponse, error) {
		return c.api.CreateCertificateBindResourceSyncTaskWithContext(ctx, req)
	})
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
		resp, err := tencent.Do(ctx, c.caller, "DescribeCertificateBindResourceTaskResult", func(ctx context.Context) (*sslsdk.DescribeCertificateBindResourceTaskResultResponse, error) {
			return c.api.DescribeCertificateBindResourceTaskResultWithContext(ctx, req)
		})
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
		resp, err := tencent.Do(ctx, c.caller, "DescribeCertificateBindResourceTaskDetail", func(ctx context.Context) (*sslsdk.DescribeCertificateBindResourceTaskDetailResponse, error) {
			return c.api.DescribeCertificateBindResourceTaskDetailWithContext(ctx, req)
		})
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
