package deploy

import (
	"context"
	"fmt"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	ssl "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// cloud makes deploy's changes: uploads, deletions, bindings, and the
// status of CLB's tasks. Everything read-only goes through pkg/inventory.
type cloud struct {
	cfg       tencent.Config
	ssl       *ssl.Client
	sslCaller *tencent.Caller
	clbs      *tencent.CLBClients
}

func newCloud(cfg tencent.Config) (*cloud, error) {
	s, err := cfg.SSL()
	if err != nil {
		return nil, err
	}
	return &cloud{cfg: cfg, ssl: s, sslCaller: cfg.Caller("ssl"), clbs: cfg.CLBClients()}, nil
}

// upload stores the certificate once: with Repeatable=false the service
// answers an upload of a fingerprint it already holds with that
// certificate's id, so a re-run after a kill never leaves a duplicate.
// fresh is false for such an answer.
func (c *cloud) upload(ctx context.Context, fullchain, key, alias string) (id string, fresh bool, err error) {
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
		return "", false, fmt.Errorf("upload the certificate: %w", err)
	}
	if id := tencent.Deref(resp.Response.RepeatCertId); id != "" {
		return id, false, nil
	}
	return tencent.Deref(resp.Response.CertificateId), true, nil
}

func (c *cloud) deleteCert(ctx context.Context, id string) error {
	req := ssl.NewDeleteCertificateRequest()
	req.CertificateId = common.StringPtr(id)
	_, err := tencent.Do(ctx, c.sslCaller, "DeleteCertificate", func(ctx context.Context) (*ssl.DeleteCertificateResponse, error) {
		return c.ssl.DeleteCertificateWithContext(ctx, req)
	})
	return err
}

// bind points a target at certificate id and returns the task id of the
// asynchronous change. CLB takes a listener's certificate through
// ModifyListener and an SNI domain's through ModifyDomainAttributes; each
// refuses the other's.
func (c *cloud) bind(ctx context.Context, t Target, id string, prev inventory.CertRef) (string, error) {
	cl, err := c.clbs.In(t.Region)
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
		resp, err := tencent.Do(ctx, cl.Caller, "ModifyListener", func(ctx context.Context) (*clb.ModifyListenerResponse, error) {
			return cl.ModifyListenerWithContext(ctx, req)
		})
		if err != nil {
			return "", err
		}
		return tencent.Deref(resp.Response.RequestId), nil
	}
	req := clb.NewModifyDomainAttributesRequest()
	req.LoadBalancerId, req.ListenerId, req.Domain, req.Certificate = common.StringPtr(t.LoadBalancerID), common.StringPtr(t.ListenerID), common.StringPtr(t.Domain), in
	resp, err := tencent.Do(ctx, cl.Caller, "ModifyDomainAttributes", func(ctx context.Context) (*clb.ModifyDomainAttributesResponse, error) {
		return cl.ModifyDomainAttributesWithContext(ctx, req)
	})
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}
