package clb

import (
	"context"
	"fmt"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"

	"github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Bind writes b, every member with its mode, CA and client verification,
// to the listener or SNI domain at a, and returns the task of the change.
// CLB takes a listener's certificate through ModifyListener and an SNI
// domain's through ModifyDomainAttributes; each refuses the other's. One
// member goes as Certificate, more as MultiCertInfo, never both.
func (c *Client) Bind(ctx context.Context, a Address, b binding.Binding) (string, error) {
	w, err := b.Write()
	if err != nil {
		return "", fmt.Errorf("bind %s: %w", a, err)
	}
	cert, multi := certificateInput(w.Certificate), multiCertInfo(w.MultiCert)
	if a.Domain == "" {
		req := clbsdk.NewModifyListenerRequest()
		req.LoadBalancerId, req.ListenerId, req.Certificate, req.MultiCertInfo = &a.LoadBalancerID, &a.ListenerID, cert, multi
		resp, err := call(ctx, c, a.Region, "ModifyListener", req, (*clbsdk.Client).ModifyListenerWithContext)
		if err != nil {
			return "", err
		}
		return tencent.Deref(resp.Response.RequestId), nil
	}
	req := clbsdk.NewModifyDomainAttributesRequest()
	req.LoadBalancerId, req.ListenerId, req.Domain, req.Certificate, req.MultiCertInfo = &a.LoadBalancerID, &a.ListenerID, &a.Domain, cert, multi
	resp, err := call(ctx, c, a.Region, "ModifyDomainAttributes", req, (*clbsdk.Client).ModifyDomainAttributesWithContext)
	if err != nil {
		return "", err
	}
	return tencent.Deref(resp.Response.RequestId), nil
}

func certificateInput(in *binding.CertificateInput) *clbsdk.CertificateInput {
	if in == nil {
		return nil
	}
	return &clbsdk.CertificateInput{SSLMode: &in.SSLMode, SSLVerifyClient: optional(in.SSLVerifyClient), CertId: &in.CertID, CertCaId: optional(in.CertCaID)}
}

func multiCertInfo(in *binding.MultiCertInfo) *clbsdk.MultiCertInfo {
	if in == nil {
		return nil
	}
	out := &clbsdk.MultiCertInfo{SSLMode: &in.SSLMode, SSLVerifyClient: optional(in.SSLVerifyClient)}
	for _, id := range in.CertIDs {
		out.CertList = append(out.CertList, &clbsdk.CertInfo{CertId: &id})
	}
	return out
}

// optional is nil for "", so the SDK leaves the field out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
