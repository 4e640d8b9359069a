package tencent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Endpoint is an address every API request is connected to instead of the
// address its host name resolves to. Each request keeps its real host name
// (clb.ap-guangzhou.tencentcloudapi.com, ssl.tencentcloudapi.com, …) in its
// Host header and signature, so the server at Endpoint — a simulator, a
// forward proxy's listener — still sees which API and access region each
// request meant. The zero value connects to the real hosts.
type Endpoint struct {
	Scheme string // "HTTP" or "HTTPS", as the SDK spells it
	Host   string // host[:port] to dial
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

// String renders the endpoint as a URL, or "" for the real hosts.
func (e Endpoint) String() string {
	if e.Host == "" {
		return ""
	}
	return strings.ToLower(e.Scheme) + "://" + e.Host
}

// Config is what every client is built from.
type Config struct {
	Credential *Credential
	// Endpoint is where every request is connected; zero means each
	// request's own host. See Endpoint.
	Endpoint Endpoint
	// Site picks the China or the international API hosts; zero is China.
	Site Site
	// Timeout bounds each HTTP request; zero means 15 s. The retry policy
	// bounds the attempts, so the worst case of a call is known up front.
	Timeout time.Duration
	// Retry is the policy for every call; the zero value means DefaultRetry.
	Retry RetryPolicy
	// Limiter holds every call until its action's rate limit in its access
	// region allows it. The limits are the account's, so everything in a
	// process that calls one account should share one Limiter: the Callers
	// made from this Config share this one. Nil gives each Caller a limiter
	// of its own at DefaultRate, which is enough where one Caller per
	// product and access region makes all of a process's calls there
	// (clbcert-deploy, clbcert-dns), and not where several run at once
	// (clbcert-watch deploying two lineages).
	Limiter *Limiter
	// Logger receives one debug line per API call (never a secret).
	Logger *slog.Logger
}

// Profile is the SDK client profile of calls to host (Host names it): the
// request timeout, and the Endpoint's scheme. A product package builds its
// SDK client with it, then hands the client to Connect.
func (c Config) Profile(host string) *profile.ClientProfile {
	cpf := profile.NewClientProfile()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cpf.HttpProfile.ReqTimeout = int((timeout + time.Second - 1) / time.Second)
	cpf.HttpProfile.Endpoint = host
	if c.Endpoint.Host != "" {
		cpf.HttpProfile.Scheme = c.Endpoint.Scheme
	}
	// The SDK's own retries and circuit breaker stay off: retries happen in
	// Do, where every error is classified once, and the breaker would switch
	// a regional host to a public backup host with another rate budget.
	cpf.DisableRegionBreaker = true
	return cpf
}

// transport connects every request to the Endpoint, whatever its host name;
// nil when there is no Endpoint and requests go where their hosts resolve.
func (c Config) transport() http.RoundTripper {
	if c.Endpoint.Host == "" {
		return nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	addr := c.Endpoint.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, map[string]string{"HTTP": "80", "HTTPS": "443"}[c.Endpoint.Scheme])
	}
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// Host is the API host a product's calls for region go to: CLB's regional
// host (each access region has its own rate budget), or the product's global
// host where region is "" or the product takes no region.
func (c Config) Host(product, region string) string {
	return c.Site.host(product, region)
}

// Caller returns the retry-and-classify wrapper for calls to a product's
// global host.
func (c Config) Caller(product string) *Caller {
	return c.RegionCaller(product, "")
}

// RegionCaller returns the retry-and-classify wrapper for a product's calls
// in region, sent to the host Host names.
func (c Config) RegionCaller(product, region string) *Caller {
	limiter := c.Limiter
	if limiter == nil {
		limiter = NewLimiter(nil)
	}
	return &Caller{
		Product:  product,
		Host:     c.Host(product, region),
		Via:      c.Endpoint.String(),
		Site:     c.Site,
		Source:   c.Credential.Source,
		KeyHint:  c.Credential.SecretIDHint(),
		Policy:   c.Retry.withDefaults(),
		Logger:   c.Logger,
		Limiter:  limiter,
		now:      time.Now,
		sleep:    Sleep,
		jitterFn: randJitter,
	}
}

// Connect makes cl connect every request to the Endpoint, if there is one.
func (c Config) Connect(cl SDKClient) {
	if tr := c.transport(); tr != nil {
		cl.WithHttpTransport(tr)
	}
}

// SDKClient is any product's SDK client: each embeds a common.Client.
type SDKClient interface {
	WithHttpTransport(http.RoundTripper) *common.Client
}

// NewClient builds an SDK client of product (newClient is the product's
// NewClient) for region, "" for a product without regions: with cfg's
// credential, profile and Host, and connected as Connect does.
func NewClient[C SDKClient](cfg Config, product, region string, newClient func(common.CredentialIface, string, *profile.ClientProfile) (C, error)) (C, error) {
	cl, err := newClient(cfg.Credential, region, cfg.Profile(cfg.Host(product, region)))
	if err != nil {
		return cl, err
	}
	cfg.Connect(cl)
	return cl, nil
}

// API is a product's SDK client for one access region with the Caller of the
// host it calls: what a product package sends each of its requests through,
// with Call.
type API[C SDKClient] struct {
	sdk    C
	caller *Caller
}

// NewAPI builds the API of product for region, "" for a product's global
// host: the SDK client as NewClient builds it, and RegionCaller's Caller.
func NewAPI[C SDKClient](cfg Config, product, region string, newClient func(common.CredentialIface, string, *profile.ClientProfile) (C, error)) (API[C], error) {
	sdk, err := NewClient(cfg, product, region, newClient)
	if err != nil {
		return API[C]{}, err
	}
	return API[C]{sdk: sdk, caller: cfg.RegionCaller(product, region)}, nil
}

// Call sends req, a request of action, through Do; send is the SDK client's
// method for the action, e.g. (*clb.Client).DescribeListenersWithContext.
func Call[C SDKClient, Req, Resp any](ctx context.Context, a API[C], action string, req Req, send func(C, context.Context, Req) (Resp, error)) (Resp, error) {
	return Do(ctx, a.caller, action, func(ctx context.Context) (Resp, error) {
		return send(a.sdk, ctx, req)
	})
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

// DerefAll reads an SDK list of optional values, leaving out the nil ones.
func DerefAll[T any](ps []*T) []T {
	out := make([]T, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}
