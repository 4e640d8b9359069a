package tencent

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	clb "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	dnspod "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
	ssl "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"
)

// Endpoint is one API address used for every product instead of the public
// <product>.tencentcloudapi.com hosts. The zero value means the public hosts.
type Endpoint struct {
	Scheme string // "HTTP" or "HTTPS", as the SDK spells it
	Host   string // host[:port]
}

// ParseEndpoint accepts "https://host[:port]" and, for loopback hosts only,
// "http://host:port": a plain-http endpoint elsewhere would send signed
// requests in the clear.
func ParseEndpoint(s string) (Endpoint, error) {
	if s == "" {
		return Endpoint{}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return Endpoint{}, fmt.Errorf("endpoint %q is not a URL: give it as https://host[:port], or http://127.0.0.1:PORT for a local simulator", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: give only scheme, host and port, e.g. %s://%s", s, u.Scheme, u.Host)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return Endpoint{}, fmt.Errorf("endpoint %q: plain http is allowed only for loopback addresses; use https://%s", s, u.Host)
	}
	return Endpoint{Scheme: strings.ToUpper(u.Scheme), Host: u.Host}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String renders the endpoint as a URL, or "" for the public hosts.
func (e Endpoint) String() string {
	if e.Host == "" {
		return ""
	}
	return strings.ToLower(e.Scheme) + "://" + e.Host
}

// Config is what every client is built from.
type Config struct {
	Credential *Credential
	// Endpoint replaces the public hosts of every product; zero means public.
	Endpoint Endpoint
	// Timeout bounds each HTTP request; zero means 15 s. The retry policy
	// bounds the attempts, so the worst case of a call is known up front.
	Timeout time.Duration
	// Retry is the policy for every call; the zero value means DefaultRetry.
	Retry RetryPolicy
	// Limiter holds every call until its action's rate limit allows it. The
	// limits are the account's, so everything in a process that calls one
	// account should share one Limiter: the Callers made from this Config
	// share this one. Nil gives each Caller a limiter of its own at
	// DefaultRate, which is enough where one Caller per product makes all
	// of a process's calls (clbcert-deploy, clbcert-dns), and not where
	// several run at once (clbcert-watch deploying two lineages).
	Limiter *Limiter
	// Logger receives one debug line per API call (never a secret).
	Logger *slog.Logger
}

func (c Config) profile() *profile.ClientProfile {
	cpf := profile.NewClientProfile()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cpf.HttpProfile.ReqTimeout = int((timeout + time.Second - 1) / time.Second)
	if c.Endpoint.Host != "" {
		cpf.HttpProfile.Endpoint = c.Endpoint.Host
		cpf.HttpProfile.Scheme = c.Endpoint.Scheme
	}
	// The SDK's own retries and circuit breaker stay off: retries happen in
	// Do, where every error is classified once, and the breaker would switch a
	// custom endpoint to a public backup host.
	cpf.DisableRegionBreaker = true
	return cpf
}

func (c Config) host(product string) string {
	if c.Endpoint.Host != "" {
		return c.Endpoint.String()
	}
	return product + ".tencentcloudapi.com"
}

// Caller returns the retry-and-classify wrapper for calls to product.
func (c Config) Caller(product string) *Caller {
	limiter := c.Limiter
	if limiter == nil {
		limiter = NewLimiter(nil)
	}
	return &Caller{
		Product:  product,
		Host:     c.host(product),
		Source:   c.Credential.Source,
		KeyHint:  c.Credential.SecretIDHint(),
		Policy:   c.Retry.withDefaults(),
		Logger:   c.Logger,
		Limiter:  limiter,
		now:      time.Now,
		sleep:    sleepCtx,
		jitterFn: randJitter,
	}
}

// DNSPod returns a DNSPod client; DNSPod needs no region.
func (c Config) DNSPod() (*dnspod.Client, error) {
	cl, err := dnspod.NewClient(c.Credential, "", c.profile())
	if err != nil {
		return nil, fmt.Errorf("create DNSPod client: %w", err)
	}
	return cl, nil
}

// SSL returns an SSL Certificates client; the service needs no region.
func (c Config) SSL() (*ssl.Client, error) {
	cl, err := ssl.NewClient(c.Credential, "", c.profile())
	if err != nil {
		return nil, fmt.Errorf("create SSL client: %w", err)
	}
	return cl, nil
}

// CLB returns a load balancer client for one region; CLB requires a region
// on every call.
func (c Config) CLB(region string) (*clb.Client, error) {
	if region == "" {
		return nil, fmt.Errorf("create CLB client: no region given: pass --region (e.g. ap-guangzhou)")
	}
	cl, err := clb.NewClient(c.Credential, region, c.profile())
	if err != nil {
		return nil, fmt.Errorf("create CLB client for %s: %w", region, err)
	}
	return cl, nil
}

// Deref reads an optional SDK field: the SDK models every field as a
// pointer, nil when the service left it out.
func Deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
