package tcsim

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Error codes shared by every product (Tencent Cloud's common error list).
const (
	codeInternalError            = "InternalError"
	codeInvalidAction            = "InvalidAction"
	codeNoSuchVersion            = "NoSuchVersion"
	codeInvalidParameter         = "InvalidParameter"
	codeInvalidParameterValue    = "InvalidParameterValue"
	codeMissingParameter         = "MissingParameter"
	codeUnknownParameter         = "UnknownParameter"
	codeUnsupportedOperation     = "UnsupportedOperation"
	codeRequestLimitExceeded     = "RequestLimitExceeded"
	codeRequestSizeLimit         = "RequestSizeLimitExceeded"
	codeAuthInvalidAuthorization = "AuthFailure.InvalidAuthorization"
	codeAuthSignatureExpire      = "AuthFailure.SignatureExpire"
	codeAuthSecretIDNotFound     = "AuthFailure.SecretIdNotFound"
	codeAuthSignatureFailure     = "AuthFailure.SignatureFailure"
	codeAuthTokenFailure         = "AuthFailure.TokenFailure"
)

const (
	// maxSkew is how far X-TC-Timestamp may be from the server's clock, either way.
	maxSkew = 300
	// maxBody is the documented 10 MB limit of a POST body.
	maxBody = 10 << 20
)

// apiError is an answer in the error envelope. Handlers return it for every failure the real
// service would report; any other error becomes InternalError.
type apiError struct {
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errDropConnection makes the gateway close the connection without answering, the way a
// broken load balancer or a network fault looks to the client.
var errDropConnection = errors.New("tcsim: drop connection")

// handler serves one product action. It returns the response fields (a struct that marshals
// to a JSON object, without RequestId) or an error.
type handler func(ctx context.Context, r *request) (any, error)

// request is what a handler learns about an authenticated call.
type request struct {
	Service   string
	Version   string
	Action    string
	Region    string // X-TC-Region; empty when the client sent none
	RequestID string
	Now       time.Time // the simulator's clock when the call arrived
	body      []byte
}

// decode strictly decodes the JSON body into dst; see decodeParams.
func (r *request) decode(dst any) error { return decodeParams(r.body, dst) }

// typed is a handler whose parameters the gateway decodes before it runs, strictly (see
// decodeParams): a handler sees only a request whose every name and type was valid.
func typed[P any](h func(ctx context.Context, r *request, p *P) (any, error)) handler {
	return func(ctx context.Context, r *request) (any, error) {
		p := new(P)
		if err := r.decode(p); err != nil {
			return nil, err
		}
		return h(ctx, r, p)
	}
}

type apiKey struct{ service, version, action string }

// routes is the (service, version, action) table products register their handlers in.
type routes struct {
	handlers map[apiKey]handler
	byAction map[string][]apiKey
	// limitCodes is the throttling code of each service that does not answer the common
	// RequestLimitExceeded. The SDK retries only on the exact common code, so a product's own
	// code must reach clients unchanged for them to be tested against it.
	limitCodes map[string]string
}

func newRoutes() *routes {
	return &routes{handlers: map[apiKey]handler{}, byAction: map[string][]apiKey{}, limitCodes: map[string]string{}}
}

// setLimitCode makes the gateway answer service's throttled calls with code.
func (rt *routes) setLimitCode(service, code string) { rt.limitCodes[service] = code }

// limitCode is the code a throttled call of service is answered with.
func (rt *routes) limitCode(service string) string {
	if code, ok := rt.limitCodes[service]; ok {
		return code
	}
	return codeRequestLimitExceeded
}

// addAll registers the handlers of service's actions, by action name.
func (rt *routes) addAll(service, version string, actions map[string]handler) {
	for action, h := range actions {
		k := apiKey{service, version, action}
		rt.handlers[k] = h
		rt.byAction[action] = append(rt.byAction[action], k)
	}
}

// lookup finds the handler for an action and version. One endpoint serves every product (as
// CLBCERT_ENDPOINT does), so the product is known from the action and version, not the host.
func (rt *routes) lookup(action, version string) (apiKey, handler, error) {
	keys := rt.byAction[action]
	if action == "" || len(keys) == 0 {
		return apiKey{}, nil, errorf(codeInvalidAction, "The action `%s` is not found or not supported.", action)
	}
	for _, k := range keys {
		if k.version == version {
			return k, rt.handlers[k], nil
		}
	}
	return apiKey{}, nil, errorf(codeNoSuchVersion, "The API version `%s` of action `%s` does not exist.", version, action)
}

func (rt *routes) hasAction(action string) bool { return len(rt.byAction[action]) > 0 }

type gatewayConfig struct {
	credentials []Credential
	now         func() time.Time
	routes      *routes
	limiter     *rateLimiter
	faultRate   float64
	seed        int64
	log         *slog.Logger
}

// gateway is the HTTP front of every product: it authenticates, counts, injects failures,
// limits the rate and wraps handler results in Tencent Cloud's envelopes.
type gateway struct {
	cfg   gatewayConfig
	creds map[string]Credential

	mu       sync.Mutex
	calls    map[string]int
	failNext map[string][]string
	// passFirst is how many calls of an action pass before its queued failures begin.
	passFirst map[string]int
	rng       *mathrand.Rand
}

func newGateway(cfg gatewayConfig) *gateway {
	creds := make(map[string]Credential, len(cfg.credentials))
	for _, c := range cfg.credentials {
		creds[c.SecretID] = c
	}
	seed := uint64(cfg.seed)
	return &gateway{
		cfg:       cfg,
		creds:     creds,
		calls:     map[string]int{},
		failNext:  map[string][]string{},
		passFirst: map[string]int{},
		rng:       mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	id := newRequestID()
	action := hr.Header.Get("X-TC-Action")
	result, err := g.serve(w, hr, id)
	if errors.Is(err, errDropConnection) {
		g.cfg.log.Debug("tcsim api: connection dropped", "action", action, "request_id", id)
		dropConnection(w)
		return
	}
	var body []byte
	if err == nil {
		body, err = successEnvelope(result, id)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			g.cfg.log.Error("tcsim api: handler failed", "action", action, "request_id", id, "err", err)
			ae = internalError()
		}
		g.cfg.log.Debug("tcsim api: error", "action", action, "request_id", id, "code", ae.Code)
		body = errorEnvelope(ae, id)
	} else {
		g.cfg.log.Debug("tcsim api: ok", "action", action, "request_id", id)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// serve runs the checks in the order the real gateway does: route, authentication, then the
// per-call hazards (injected failures, rate limit, random faults), then the handler.
func (g *gateway) serve(w http.ResponseWriter, hr *http.Request, id string) (any, error) {
	if hr.Method != http.MethodPost || hr.URL.Path != "/" {
		// The real service also takes GET with query-string parameters; clbcert's SDK always
		// POSTs JSON, so tcsim answers anything else with an explicit refusal.
		return nil, errorf(codeUnsupportedOperation, "tcsim serves only POST / with a JSON body, not %s %s.", hr.Method, hr.URL.Path)
	}
	key, h, err := g.cfg.routes.lookup(hr.Header.Get("X-TC-Action"), hr.Header.Get("X-TC-Version"))
	if err != nil {
		return nil, err
	}
	if err := checkContentType(hr.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(codeRequestSizeLimit, "The request body exceeds the %d byte limit.", maxBody)
		}
		return nil, fmt.Errorf("read request body: %w", err)
	}
	now := g.cfg.now()
	if err := g.authenticate(hr, body, key.service, now); err != nil {
		return nil, err
	}
	host, ok := parseHost(hr.Host, key.service)
	if !ok {
		return nil, errorf(codeInvalidAction, "The action `%s` is not found or not supported at %s.", key.action, hr.Host)
	}
	if err := g.hazards(key, host); err != nil {
		return nil, err
	}
	return h(hr.Context(), &request{
		Service:   key.service,
		Version:   key.version,
		Action:    key.action,
		Region:    hr.Header.Get("X-TC-Region"),
		RequestID: id,
		Now:       now,
		body:      body,
	})
}

func checkContentType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return errorf(codeInvalidParameter, "The Content-Type `%s` is not supported; use application/json.", ct)
}

// authenticate verifies the TC3-HMAC-SHA256 signature. Messages name what is wrong but never
// echo the Authorization header, the signature or the token.
func (g *gateway) authenticate(hr *http.Request, body []byte, service string, now time.Time) error {
	auth, err := parseAuthorization(hr.Header.Get("Authorization"))
	if err != nil {
		return errorf(codeAuthInvalidAuthorization, "The Authorization header is malformed: %v.", err)
	}
	if auth.Service != service {
		return errorf(codeAuthInvalidAuthorization, "The credential scope service `%s` does not match the requested product `%s`.", auth.Service, service)
	}
	tsText := hr.Header.Get("X-TC-Timestamp")
	if tsText == "" {
		return errorf(codeMissingParameter, "The request is missing a required parameter `Timestamp`.")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errorf(codeInvalidParameter, "The parameter `Timestamp` must be an integer of Unix seconds.")
	}
	if want := time.Unix(ts, 0).UTC().Format(scopeDateStyle); auth.Date != want {
		return errorf(codeAuthInvalidAuthorization, "The credential scope date `%s` is not the UTC date of the timestamp (%s).", auth.Date, want)
	}
	if skew := now.Unix() - ts; skew > maxSkew || skew < -maxSkew {
		return errorf(codeAuthSignatureExpire, "Signature expired: the timestamp %d differs from the server time %d by more than 5 minutes. Check that the local clock is synchronized.", ts, now.Unix())
	}
	cred, ok := g.creds[auth.SecretID]
	if !ok {
		return errorf(codeAuthSecretIDNotFound, "The SecretId is not found, please ensure that your SecretId is correct.")
	}
	if !signatureMatches(auth.Signature, expectedSignature(hr, body, auth, tsText, cred.SecretKey)) {
		return errorf(codeAuthSignatureFailure, "The provided credentials could not be validated. Please check your signature is correct.")
	}
	if subtle.ConstantTimeCompare([]byte(hr.Header.Get("X-TC-Token")), []byte(cred.Token)) != 1 {
		return errorf(codeAuthTokenFailure, "The token is invalid, expired, or does not belong to this SecretId.")
	}
	return nil
}

// hazards counts the call and decides whether it fails before reaching the handler. The rate
// limit counts per action and access region, as Tencent Cloud's does.
func (g *gateway) hazards(key apiKey, host accessHost) error {
	action := key.action
	g.mu.Lock()
	g.calls[action]++
	queued := g.failNext[action]
	injected := len(queued) > 0
	if injected && g.passFirst[action] > 0 {
		g.passFirst[action]--
		injected = false
	}
	var code string
	if injected {
		code = queued[0]
		g.failNext[action] = queued[1:]
	}
	g.mu.Unlock()

	if injected {
		if code == "" {
			return errDropConnection
		}
		return errorf(code, "Failure injected by tcsim FailNext.")
	}
	if g.cfg.limiter != nil && !g.cfg.limiter.allow(action, host.budgetKey(action)) {
		return errorf(g.cfg.routes.limitCode(key.service), "The request frequency of action `%s` exceeds the limit of %d per second. Please reduce the frequency of calls.", action, g.cfg.limiter.rate(action))
	}
	if g.cfg.faultRate > 0 {
		g.mu.Lock()
		fault, drop := g.rng.Float64() < g.cfg.faultRate, g.rng.IntN(2) == 0
		g.mu.Unlock()
		if fault && drop {
			return errDropConnection
		}
		if fault {
			return internalError()
		}
	}
	return nil
}

func (g *gateway) calledCount(action string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[action]
}

func (g *gateway) callCounts() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]int, len(g.calls))
	for k, v := range g.calls {
		out[k] = v
	}
	return out
}

func (g *gateway) injectFailures(action, code string, after, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n <= 0 {
		delete(g.failNext, action)
		delete(g.passFirst, action)
		return
	}
	g.passFirst[action] = after
	for range n {
		g.failNext[action] = append(g.failNext[action], code)
	}
}

func internalError() *apiError {
	return errorf(codeInternalError, "An internal error has occurred. Retry your request, but if the problem persists, contact us.")
}

func successEnvelope(result any, id string) ([]byte, error) {
	fields := []byte("{}")
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return nil, fmt.Errorf("marshal response: %w", err)
		}
		fields = b
	}
	if len(fields) < 2 || fields[0] != '{' {
		return nil, fmt.Errorf("response of type %T is not a JSON object", result)
	}
	idJSON, _ := json.Marshal(id)
	var b strings.Builder
	b.WriteString(`{"Response":`)
	b.Write(fields[:len(fields)-1])
	if len(fields) > 2 {
		b.WriteByte(',')
	}
	b.WriteString(`"RequestId":`)
	b.Write(idJSON)
	b.WriteString("}}")
	return []byte(b.String()), nil
}

func errorEnvelope(e *apiError, id string) []byte {
	var env struct {
		Response struct {
			Error struct {
				Code    string `json:"Code"`
				Message string `json:"Message"`
			} `json:"Error"`
			RequestID string `json:"RequestId"`
		} `json:"Response"`
	}
	env.Response.Error.Code = e.Code
	env.Response.Error.Message = e.Message
	env.Response.RequestID = id
	b, _ := json.Marshal(env)
	return b
}

// dropConnection closes the TCP connection without a response. An HTTP/1 server always
// allows hijacking; ErrAbortHandler is the fallback that makes net/http abort the exchange.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// newRequestID returns a random UUID version 4, the format of Tencent Cloud's RequestId.
func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
