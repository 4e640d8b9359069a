package deploy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	ssl "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// cloud is the only place that builds SSL and CLB SDK requests.
type cloud struct {
	cfg       tencent.Config
	ssl       *ssl.Client
	sslCaller *tencent.Caller
	clbCaller *tencent.Caller

	mu  sync.Mutex
	clb map[string]*clb.Client
}

func newCloud(cfg tencent.Config) (*cloud, error) {
	s, err := cfg.SSL()
	if err != nil {
		return nil, err
	}
	return &cloud{cfg: cfg, ssl: s, sslCaller: cfg.Caller("ssl"), clbCaller: cfg.Caller("clb"), clb: map[string]*clb.Client{}}, nil
}

func (c *cloud) clbIn(region string) (*clb.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clb[region]; ok {
		return cl, nil
	}
	cl, err := c.cfg.CLB(region)
	if err != nil {
		return nil, err
	}
	c.clb[region] = cl
	return cl, nil
}

// loadBalancer is what discovery needs of a CLB instance.
type loadBalancer struct {
	Region string
	ID     string
	Name   string
	VIPs   []string
}

func (c *cloud) loadBalancers(ctx context.Context, region string) ([]loadBalancer, error) {
	cl, err := c.clbIn(region)
	if err != nil {
		return nil, err
	}
	var out []loadBalancer
	for offset := int64(0); ; {
		req := clb.NewDescribeLoadBalancersRequest()
		req.Offset = common.Int64Ptr(offset)
		req.Limit = common.Int64Ptr(100)
		resp, err := tencent.Do(ctx, c.clbCaller, "DescribeLoadBalancers", func(ctx context.Context) (*clb.DescribeLoadBalancersResponse, error) {
			return cl.DescribeLoadBalancersWithContext(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("list load balancers in %s: %w", region, err)
		}
		page := resp.Response.LoadBalancerSet
		for _, lb := range page {
			out = append(out, loadBalancer{Region: region, ID: tencent.Deref(lb.LoadBalancerId), Name: tencent.Deref(lb.LoadBalancerName), VIPs: derefAll(lb.LoadBalancerVips)})
		}
		offset += int64(len(page))
		if len(page) == 0 || uint64(offset) >= tencent.Deref(resp.Response.TotalCount) {
			return out, nil
		}
	}
}

// listener is a TLS listener with the certificates it serves.
type listener struct {
	ID       string
	Name     string
	Protocol string
	Port     int64
	SNI      bool
	Cert     certRef  // the listener's certificate (SNI off)
	Domains  []domain // rule domains (HTTPS)
}

type domain struct {
	Name string
	Cert certRef // the domain's certificate (SNI on)
}

// certRef is a certificate binding as CLB reports it; SSLMode and CA are
// kept so a rebinding does not turn mutual TLS off.
type certRef struct {
	ID      string
	SSLMode string
	CAID    string
}

func (c *cloud) listeners(ctx context.Context, region, lbID string) ([]listener, error) {
	cl, err := c.clbIn(region)
	if err != nil {
		return nil, err
	}
	req := clb.NewDescribeListenersRequest()
	req.LoadBalancerId = common.StringPtr(lbID)
	resp, err := tencent.Do(ctx, c.clbCaller, "DescribeListeners", func(ctx context.Context) (*clb.DescribeListenersResponse, error) {
		return cl.DescribeListenersWithContext(ctx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("list listeners of %s in %s: %w", lbID, region, err)
	}
	var out []listener
	for _, l := range resp.Response.Listeners {
		ln := listener{ID: tencent.Deref(l.ListenerId), Name: tencent.Deref(l.ListenerName), Protocol: tencent.Deref(l.Protocol), Port: tencent.Deref(l.Port),
			SNI: tencent.Deref(l.SniSwitch) == 1, Cert: certOf(l.Certificate)}
		seen := map[string]bool{}
		for _, r := range l.Rules {
			d := strings.ToLower(tencent.Deref(r.Domain))
			if d == "" || seen[d] {
				continue
			}
			seen[d] = true
			ln.Domains = append(ln.Domains, domain{Name: d, Cert: certOf(r.Certificate)})
		}
		out = append(out, ln)
	}
	return out, nil
}

func certOf(o *clb.CertificateOutput) certRef {
	if o == nil {
		return certRef{}
	}
	return certRef{ID: tencent.Deref(o.CertId), SSLMode: tencent.Deref(o.SSLMode), CAID: tencent.Deref(o.CertCaId)}
}

// storedCert is a certificate in the SSL service.
type storedCert struct {
	ID    string
	Alias string
	Names []string // SubjectAltName of DescribeCertificates, which includes the main domain
	Begin time.Time
}

// certificates describes the given ids (all of them in as few calls as the
// page size allows); ids unknown to the service are simply absent.
func (c *cloud) certificates(ctx context.Context, ids []string) (map[string]storedCert, error) {
	out := map[string]storedCert{}
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

// certificatesByAlias lists uploads whose alias starts with prefix.
func (c *cloud) certificatesByAlias(ctx context.Context, prefix string) ([]storedCert, error) {
	found := map[string]storedCert{}
	req := ssl.NewDescribeCertificatesRequest()
	req.SearchKey = common.StringPtr(prefix)
	req.Limit = common.Uint64Ptr(1000)
	if err := c.describeCerts(ctx, req, found); err != nil {
		return nil, err
	}
	var out []storedCert
	for _, sc := range found {
		if strings.HasPrefix(sc.Alias, prefix) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func (c *cloud) describeCerts(ctx context.Context, req *ssl.DescribeCertificatesRequest, into map[string]storedCert) error {
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
			names := derefAll(sc.SubjectAltName)
			if d := tencent.Deref(sc.Domain); d != "" {
				names = append(names, d)
			}
			into[tencent.Deref(sc.CertificateId)] = storedCert{ID: tencent.Deref(sc.CertificateId), Alias: tencent.Deref(sc.Alias), Names: lower(names), Begin: gmt8(tencent.Deref(sc.CertBeginTime))}
		}
		offset += uint64(len(page))
		if len(page) == 0 || offset >= tencent.Deref(resp.Response.TotalCount) {
			return nil
		}
	}
}

// upload stores the certificate once: with Repeatable=false the service
// answers an upload of a fingerprint it already holds with that
// certificate's id, so a re-run after a kill never leaves a duplicate.
func (c *cloud) upload(ctx context.Context, fullchain, key, alias string) (string, error) {
	req := ssl.NewUploadCertificateRequest()
	req.CertificatePublicKey = common.StringPtr(fullchain)
	req.CertificatePrivateKey = common.StringPtr(key)
	req.CertificateType = common.StringPtr("SVR")
	req.Alias = common.StringPtr(alias)
	req.CertificateUse = common.StringPtr("CLB")
	req.Repeatable = common.BoolPtr(false)
	resp, err := tencent.Do(ctx, c.sslCaller, "UploadCertificate", func(ctx context.Context) (*ssl.UploadCertificateResponse, error) {
		return c.ssl.UploadCertificateWithContext(ctx, req)
	})
	if err != nil {
		return "", fmt.Errorf("upload the certificate: %w", err)
	}
	if id := tencent.Deref(resp.Response.RepeatCertId); id != "" {
		return id, nil
	}
	return tencent.Deref(resp.Response.CertificateId), nil
}

func (c *cloud) deleteCert(ctx context.Context, id string) error {
	req := ssl.NewDeleteCertificateRequest()
	req.CertificateId = common.StringPtr(id)
	_, err := tencent.Do(ctx, c.sslCaller, "DeleteCertificate", func(ctx context.Context) (*ssl.DeleteCertificateResponse, error) {
		return c.ssl.DeleteCertificateWithContext(ctx, req)
	})
	return err
}

// boundLBs returns, per certificate id, the load balancers in region that use it.
func (c *cloud) boundLBs(ctx context.Context, region string, ids []string) (map[string][]string, error) {
	cl, err := c.clbIn(region)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for start := 0; start < len(ids); start += 20 {
		req := clb.NewDescribeLoadBalancerListByCertIdRequest()
		req.CertIds = common.StringPtrs(ids[start:min(start+20, len(ids))])
		resp, err := tencent.Do(ctx, c.clbCaller, "DescribeLoadBalancerListByCertId", func(ctx context.Context) (*clb.DescribeLoadBalancerListByCertIdResponse, error) {
			return cl.DescribeLoadBalancerListByCertIdWithContext(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("find load balancers using certificates in %s: %w", region, err)
		}
		for _, set := range resp.Response.CertSet {
			for _, lb := range set.LoadBalancers {
				out[tencent.Deref(set.CertId)] = append(out[tencent.Deref(set.CertId)], tencent.Deref(lb.LoadBalancerId))
			}
		}
	}
	return out, nil
}

// bind points a target at certificate id and returns the task id of the
// asynchronous change. CLB takes a listener's certificate through
// ModifyListener and an SNI domain's through ModifyDomainAttributes; each
// refuses the other's.
func (c *cloud) bind(ctx context.Context, t Target, id string, prev certRef) (string, error) {
	cl, err := c.clbIn(t.Region)
	if err != nil {
		return "", err
	}
	in := &clb.CertificateInput{CertId: common.StringPtr(id), SSLMode: common.StringPtr("UNIDIRECTIONAL")}
	if prev.SSLMode == "MUTUAL" {
		in.SSLMode = common.StringPtr("MUTUAL")
		in.CertCaId = common.StringPtr(prev.CAID)
	}
	if t.Domain == "" {
		req := clb.NewModifyListenerRequest()
		req.LoadBalancerId, req.ListenerId, req.Certificate = common.StringPtr(t.LoadBalancerID), common.StringPtr(t.ListenerID), in
		resp, err := tencent.Do(ctx, c.clbCaller, "ModifyListener", func(ctx context.Context) (*clb.ModifyListenerResponse, error) {
			return cl.ModifyListenerWithContext(ctx, req)
		})
		if err != nil {
			return "", err
		}
		return tencent.Deref(resp.Response.RequestId), nil
	}
	req := clb.NewModifyDomainAttributesRequest()
	req.LoadBalancerId, req.ListenerId, req.Domain, req.Certificate = common.StringPtr(t.LoadBalancerID), common.StringPtr(t.ListenerID), common.StringPtr(t.Domain), in
	resp, err := tencent.Do(ctx, c.clbCaller, "ModifyDomainAttributes", func(ctx context.Context) (*clb.ModifyDomainAttributesResponse, error) {
		return cl.ModifyDomainAttributesWithContext(ctx, req)
	})
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}

// taskStatus is CLB's DescribeTaskStatus: 0 succeeded, 1 failed, 2 running.
func (c *cloud) taskStatus(ctx context.Context, region, task string) (int64, string, error) {
	cl, err := c.clbIn(region)
	if err != nil {
		return 0, "", err
	}
	req := clb.NewDescribeTaskStatusRequest()
	req.TaskId = common.StringPtr(task)
	resp, err := tencent.Do(ctx, c.clbCaller, "DescribeTaskStatus", func(ctx context.Context) (*clb.DescribeTaskStatusResponse, error) {
		return cl.DescribeTaskStatusWithContext(ctx, req)
	})
	if err != nil {
		return 0, "", err
	}
	return tencent.Deref(resp.Response.Status), tencent.Deref(resp.Response.Message), nil
}

func derefAll(ps []*string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

func lower(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimSuffix(n, "."))
	}
	return out
}

// gmt8 parses the SSL service's "YYYY-MM-DD HH:MM:SS" times, which are Beijing time.
func gmt8(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, time.FixedZone("GMT+8", 8*3600))
	if err != nil {
		return time.Time{}
	}
	return t
}
