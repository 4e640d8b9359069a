package simtest

import (
	"testing"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
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
	tb.Helper()
	cl, err := clbsdk.NewClient(cfg.Credential, region, cfg.Profile(cfg.Host("clb", region)))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Connect(&cl.Client)
	return cl
}

// SSL is an SSL Certificates SDK client.
func SSL(tb testing.TB, cfg tencent.Config) *sslsdk.Client {
	tb.Helper()
	cl, err := sslsdk.NewClient(cfg.Credential, "", cfg.Profile(cfg.Host("ssl", "")))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Connect(&cl.Client)
	return cl
}

// DNSPod is a DNSPod SDK client.
func DNSPod(tb testing.TB, cfg tencent.Config) *dnspodsdk.Client {
	tb.Helper()
	cl, err := dnspodsdk.NewClient(cfg.Credential, "", cfg.Profile(cfg.Host("dnspod", "")))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Connect(&cl.Client)
	return cl
}
