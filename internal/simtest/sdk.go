package simtest

import (
	"testing"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// The bare SDK clients below are built from cfg the way pkg/clb, pkg/ssl
// and pkg/dns01 build theirs, for tests that call an API as another client
// would (a person in the console, another tool) or that check cfg's hosts
// and transport.

// CLB is a CLB SDK client for region, sent to the region's host.
func CLB(tb testing.TB, cfg tencent.Config, region string) *clbsdk.Client {
	return client(tb, cfg, "clb", region, clbsdk.NewClient)
}

// SSL is an SSL Certificates SDK client.
func SSL(tb testing.TB, cfg tencent.Config) *sslsdk.Client {
	return client(tb, cfg, "ssl", "", sslsdk.NewClient)
}

// DNSPod is a DNSPod SDK client.
func DNSPod(tb testing.TB, cfg tencent.Config) *dnspodsdk.Client {
	return client(tb, cfg, "dnspod", "", dnspodsdk.NewClient)
}

func client[C tencent.SDKClient](tb testing.TB, cfg tencent.Config, product, region string, newClient func(common.CredentialIface, string, *profile.ClientProfile) (C, error)) C {
	tb.Helper()
	cl, err := tencent.NewClient(cfg, product, region, newClient)
	if err != nil {
		tb.Fatal(err)
	}
	return cl
}
