package tencent_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	dnspod "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
	ssl "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// The clients sign for the endpoint they are given: tcsim checks every
// signature, so a call that succeeds proves host, scheme and key are right.
func TestClientsTalkToTheEndpoint(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	cfg := simtest.Config(t, sim)
	client := simtest.DNSPod(t, cfg)
	caller := cfg.Caller("dnspod")
	sim.FailNext("DescribeDomainList", "RequestLimitExceeded", 1)
	resp, err := tencent.Do(context.Background(), caller, "DescribeDomainList", func(ctx context.Context) (*dnspod.DescribeDomainListResponse, error) {
		return client.DescribeDomainListWithContext(ctx, dnspod.NewDescribeDomainListRequest())
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Response.DomainList); n != 1 || sim.Calls("DescribeDomainList") != 2 {
		t.Fatalf("%d zones after %d calls", n, sim.Calls("DescribeDomainList"))
	}

	// A parameter error is final, and says which call failed.
	req := dnspod.NewDeleteRecordRequest()
	req.Domain, req.RecordId = common.StringPtr("example.test"), common.Uint64Ptr(42)
	_, err = tencent.Do(context.Background(), caller, "DeleteRecord", func(ctx context.Context) (*dnspod.DeleteRecordResponse, error) {
		return client.DeleteRecordWithContext(ctx, req)
	})
	if tencent.KindOf(err) != tencent.KindInvalid || !strings.HasPrefix(err.Error(), "dnspod:DeleteRecord failed (InvalidParameter.RecordIdInvalid") {
		t.Fatalf("err = %v", err)
	}
	if sim.Calls("DeleteRecord") != 1 {
		t.Fatalf("a parameter error was retried: %d calls", sim.Calls("DeleteRecord"))
	}

}

// An API that accepts the connection and never answers must cost a bounded
// time and an error that says where the call went.
func TestUnresponsiveAPIIsBounded(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	ep, err := tencent.ParseEndpoint(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tencent.Config{
		Credential: &tencent.Credential{CredentialIface: common.NewCredential("AKIDx", "k"), Source: "test"},
		Endpoint:   ep,
		Timeout:    time.Second,
		Retry:      tencent.RetryPolicy{MaxElapsed: 2 * time.Second},
	}
	client := simtest.DNSPod(t, cfg)
	start := time.Now()
	_, err = tencent.Do(context.Background(), cfg.Caller("dnspod"), "DescribeDomainList", func(ctx context.Context) (*dnspod.DescribeDomainListResponse, error) {
		return client.DescribeDomainListWithContext(ctx, dnspod.NewDescribeDomainListRequest())
	})
	took := time.Since(start)
	if tencent.KindOf(err) != tencent.KindUnreachable || !strings.Contains(err.Error(), "cannot reach dnspod.tencentcloudapi.com at "+srv.URL) {
		t.Fatalf("err = %v", err)
	}
	if took > 5*time.Second {
		t.Fatalf("gave up only after %v", took)
	}
}

// Many goroutines calling one action through Callers of one Config stay
// under the service's limit: every call succeeds on its first attempt,
// where without the limiter most of them would be throttled.
func TestLimiterKeepsConcurrentCallersUnderTheLimit(t *testing.T) {
	const rate, goroutines, each = 100, 20, 8 // 160 calls: past tcsim's burst of 100
	sim := simtest.Start(t, tcsim.Options{Zones: []tcsim.ZoneSpec{{Name: "example.test"}}, RateLimits: map[string]int{"DescribeDomainList": rate}})
	cfg := simtest.Config(t, sim)
	cfg.Limiter = tencent.NewLimiter(map[string]tencent.Rate{"dnspod:DescribeDomainList": {PerSecond: rate}})
	cfg.Retry = tencent.RetryPolicy{MaxAttempts: 1}
	client := simtest.DNSPod(t, cfg)
	var wg sync.WaitGroup
	for range goroutines {
		caller := cfg.Caller("dnspod")
		wg.Go(func() {
			for range each {
				_, err := tencent.Do(context.Background(), caller, "DescribeDomainList", func(ctx context.Context) (*dnspod.DescribeDomainListResponse, error) {
					return client.DescribeDomainListWithContext(ctx, dnspod.NewDescribeDomainListRequest())
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := sim.Calls("DescribeDomainList"); n != goroutines*each {
		t.Fatalf("%d calls reached tcsim, want %d", n, goroutines*each)
	}
}

// Tencent Cloud counts each action's calls per access region, the API server
// a request reaches: each CLB region's calls go to its regional host and so
// are not throttled by another region's, while calls of two regions through
// the plain host share one budget. tcsim counts the way the service does;
// this shows the product's clients reach the hosts that give that.
func TestRateBudgetPerAccessRegion(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{RateLimits: map[string]int{"DescribeLoadBalancers": 1}})
	cfg := simtest.Config(t, sim)
	call := func(cl *clb.Client) error {
		_, err := cl.DescribeLoadBalancersWithContext(context.Background(), clb.NewDescribeLoadBalancersRequest())
		return err
	}
	throttled := func(err error) bool {
		var se *tcerr.TencentCloudSDKError
		return errors.As(err, &se) && se.Code == "RequestLimitExceeded"
	}

	for _, region := range []string{"ap-guangzhou", "ap-shanghai"} {
		if h := cfg.Host("clb", region); h != "clb."+region+".tencentcloudapi.com" {
			t.Fatalf("CLB host for %s = %s", region, h)
		}
		if err := call(simtest.CLB(t, cfg, region)); err != nil {
			t.Fatalf("first call in %s through its regional host: %v", region, err)
		}
	}

	// The same two regions through the plain host: the second region's call
	// finds the budget spent by the first's.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, strings.TrimPrefix(sim.Endpoint(), "http://"))
	}
	var errs []error
	for _, region := range []string{"ap-guangzhou", "ap-shanghai"} {
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = "clb.tencentcloudapi.com", "HTTP"
		cl, err := clb.NewClient(cfg.Credential, region, cpf)
		if err != nil {
			t.Fatal(err)
		}
		cl.WithHttpTransport(&http.Transport{DialContext: dial})
		errs = append(errs, call(cl))
	}
	if errs[0] != nil || !throttled(errs[1]) {
		t.Fatalf("two regions through one host: %v, %v; want the second throttled", errs[0], errs[1])
	}
}

// The international site's hosts carry .intl., except CLB's regional hosts,
// which both sites share; an action the site lacks fails before any request
// with a message that names it.
func TestSiteHosts(t *testing.T) {
	sim := simtest.Start(t, tcsim.Options{})
	cfg := simtest.Config(t, sim)
	cfg.Site = tencent.SiteIntl
	for _, c := range []struct{ product, region, want string }{
		{"ssl", "", "ssl.intl.tencentcloudapi.com"},
		{"dnspod", "", "dnspod.intl.tencentcloudapi.com"},
		{"clb", "", "clb.intl.tencentcloudapi.com"},
		{"clb", "ap-singapore", "clb.ap-singapore.tencentcloudapi.com"},
		{"ssl", "ap-singapore", "ssl.intl.tencentcloudapi.com"},
	} {
		if got := cfg.Host(c.product, c.region); got != c.want {
			t.Errorf("intl host of %s in %q = %s, want %s", c.product, c.region, got, c.want)
		}
	}
	client := simtest.SSL(t, cfg)
	if _, err := tencent.Do(context.Background(), cfg.Caller("ssl"), "DescribeCertificates", func(ctx context.Context) (*ssl.DescribeCertificatesResponse, error) {
		return client.DescribeCertificatesWithContext(ctx, ssl.NewDescribeCertificatesRequest())
	}); err != nil {
		t.Fatalf("DescribeCertificates through the intl host: %v", err)
	}
	called := false
	_, err := tencent.Do(context.Background(), cfg.Caller("ssl"), "DeployCertificateInstance", func(ctx context.Context) (*ssl.DeployCertificateInstanceResponse, error) {
		called = true
		return nil, nil
	})
	var se *tencent.SiteError
	if !errors.As(err, &se) || called || !strings.Contains(err.Error(), "ssl:DeployCertificateInstance is not offered on Tencent Cloud's intl site") {
		t.Fatalf("an action the intl site lacks: called %v, err %v", called, err)
	}
	if _, err := tencent.ParseSite("mars"); !errors.Is(err, tencent.ErrUnknownSite) {
		t.Fatalf("ParseSite(mars) = %v", err)
	}
}

// Each credential error names the variable (or file) that holds the part to
// fix: the SecretKey's, the session token's, the SecretId's.
func TestCredentialErrorsNameTheirPart(t *testing.T) {
	real := tcsim.Credential{SecretID: "AKIDsimtoken0000000000000000000000", SecretKey: "sim-secret-key-0123456789abcdef", Token: "sim-session-token-xyz"}
	sim := simtest.Start(t, tcsim.Options{Credentials: []tcsim.Credential{real}, Zones: []tcsim.ZoneSpec{{Name: "example.test"}}})
	ep, err := tencent.ParseEndpoint(sim.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		id, key, token      string
		fileID, fileKey     string
		wantErr, notWantErr string
	}{
		{name: "wrong secret key", id: real.SecretID, key: "wrong-key-0123456789abcdef01234", token: real.Token,
			wantErr: "the SecretKey from TENCENTCLOUD_SECRET_KEY does not belong to SecretId AKID", notWantErr: tencent.EnvSecretID},
		{name: "wrong session token", id: real.SecretID, key: real.SecretKey, token: "stale-token",
			wantErr: "the session token from TENCENTCLOUD_SESSION_TOKEN is invalid", notWantErr: tencent.EnvSecretID},
		{name: "unknown secret id", id: "AKIDunknown000000000000000000000000", key: real.SecretKey, token: real.Token,
			wantErr: "0000 from TENCENTCLOUD_SECRET_ID, or it is disabled"},
		{name: "white space in the secret key", id: real.SecretID, key: "sim-secret-key 0123456789abcdef",
			wantErr: "the SecretKey from TENCENTCLOUD_SECRET_KEY contains white space", notWantErr: tencent.EnvSecretID},
		{name: "white space in the secret id", id: "AKID sim", key: real.SecretKey,
			wantErr: "the SecretId from TENCENTCLOUD_SECRET_ID contains white space", notWantErr: tencent.EnvSecretKey},
		{name: "wrong secret key in the config file", fileID: real.SecretID, fileKey: "wrong-key-0123456789abcdef01234",
			wantErr: "the SecretKey from config file /etc/clbcert/config.toml does not belong", notWantErr: "TENCENTCLOUD_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range map[string]string{tencent.EnvSecretID: tt.id, tencent.EnvSecretKey: tt.key, tencent.EnvSessionToken: tt.token} {
				if v != "" {
					env[k] = v
				}
			}
			cred, err := tencent.LoadCredential(context.Background(), tencent.CredentialOptions{
				LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
				FileID:    tt.fileID, FileKey: tt.fileKey, FileSource: "config file /etc/clbcert/config.toml",
			})
			if err == nil {
				cfg := tencent.Config{Credential: cred, Endpoint: ep}
				client := simtest.DNSPod(t, cfg)
				_, err = tencent.Do(context.Background(), cfg.Caller("dnspod"), "DescribeDomainList", func(ctx context.Context) (*dnspod.DescribeDomainListResponse, error) {
					return client.DescribeDomainListWithContext(ctx, dnspod.NewDescribeDomainListRequest())
				})
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || (tt.notWantErr != "" && strings.Contains(err.Error(), tt.notWantErr)) {
				t.Fatalf("err = %v\nwant %q, and not %q", err, tt.wantErr, tt.notWantErr)
			}
		})
	}
}
