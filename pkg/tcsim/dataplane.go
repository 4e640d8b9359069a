package tcsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dialTimeout bounds connecting to a target to forward to it (checks have their TimeOut).
const dialTimeout = 5 * time.Second

// dataPlane forwards what the listeners accept to the targets registered in the model: it
// routes HTTP requests to rules, lets the balancer pick a target, and proxies (layer 7) or
// pipes (layer 4). It copies what it needs out of the model under cloud.mu once per request
// or connection and keeps no pointer into it, so API changes (targets, weights, health
// settings) apply from the next request and never race with one in flight.
type dataPlane struct {
	c         *cloud
	bal       *balancer
	transport *http.Transport
	dialer    *net.Dialer
}

func newDataPlane(c *cloud) *dataPlane {
	dialer := &net.Dialer{Timeout: dialTimeout}
	return &dataPlane{
		c: c, bal: newBalancer(c.now), dialer: dialer,
		// Proxy stays nil: a test machine's HTTP_PROXY must not see loopback backends.
		transport: &http.Transport{
			DialContext:           dialer.DialContext,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       connTimeout,
			ResponseHeaderTimeout: connTimeout,
		},
	}
}

func (dp *dataPlane) close() { dp.transport.CloseIdleConnections() }

// backendSet is where one request or connection may go, copied out of the model under
// cloud.mu: the listener's or rule's pool key, scheduler and session persistence, how many
// targets are registered and which of them are eligible now.
type backendSet struct {
	key           string // "lb/listener" or "lb/listener/location"
	where         string // for answers and logs: "domain D url U", or "" for a listener
	scheduler     string
	sessionExpire int
	registered    int
	eligible      []candidate
}

// backendSetLocked applies CLB's rules for who gets traffic: targets with weight > 0 that
// are Alive, or all of them with the health check off. A target still being checked
// (Unknown, CLB's "Detecting") gets none: CLB starts sending to a new backend once it has
// passed HealthNum checks. When every weighted target is Dead, CLB forwards to all of them
// (its health check documentation: "If all real servers are found abnormal, requests will be
// forwarded to all real servers"), and so does tcsim.
func backendSetLocked(key, where string, b *balancing) backendSet {
	set := backendSet{key: key, where: where, scheduler: b.Scheduler, sessionExpire: b.SessionExpire, registered: len(b.Targets)}
	var dead []candidate
	weighted := 0
	for _, t := range b.Targets {
		if t.Weight <= 0 {
			continue
		}
		weighted++
		c := candidate{addr: targetAddr(t), weight: t.Weight}
		switch {
		case !b.Health.On || t.Health == healthAlive:
			set.eligible = append(set.eligible, c)
		case t.Health == healthDead:
			dead = append(dead, c)
		}
	}
	if len(set.eligible) == 0 && weighted > 0 && len(dead) == weighted {
		set.eligible = dead
	}
	return set
}

func targetAddr(t *target) string { return net.JoinHostPort(t.IP, strconv.Itoa(t.Port)) }

// listenerBackends is the backend set of a layer-4 listener; ok is false once it is gone.
func (c *cloud) listenerBackends(lbID, listenerID string) (set backendSet, ok bool) {
	return onListener(c, lbID, listenerID, func(l *listener) (backendSet, bool) {
		return backendSetLocked(lbID+"/"+listenerID, "", &l.balancing), true
	})
}

// ruleBackends routes a request on an HTTP or HTTPS listener to a rule and returns its
// backend set; ok is false when no rule matches.
func (c *cloud) ruleBackends(lbID, listenerID, host, path string) (set backendSet, ok bool) {
	return onListener(c, lbID, listenerID, func(l *listener) (backendSet, bool) {
		r := routeRule(l.Rules, host, path)
		if r == nil {
			return backendSet{}, false
		}
		return backendSetLocked(lbID+"/"+listenerID+"/"+r.LocationID, "domain "+r.Domain+" url "+r.URL, &r.balancing), true
	})
}

// routeRule is CLB's layer-7 forwarding: the Host (without port) picks a domain — exactly,
// else a wildcard "*.parent" rule domain, else the listener's default (first) domain — and
// the longest URL prefix among that domain's rules picks the rule.
func routeRule(rules []*rule, host, path string) *rule {
	if len(rules) == 0 {
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(hostOnly(host), "."))
	domain := ""
	for _, r := range rules {
		if r.Domain == name {
			domain = name
			break
		}
	}
	if _, parent, ok := strings.Cut(name, "."); ok && domain == "" {
		for _, r := range rules {
			if r.Domain == "*."+parent {
				domain = r.Domain
				break
			}
		}
	}
	if domain == "" {
		domain = rules[0].Domain
	}
	var best *rule
	for _, r := range rules {
		if r.Domain == domain && strings.HasPrefix(path, r.URL) && (best == nil || len(r.URL) > len(best.URL)) {
			best = r
		}
	}
	return best
}

// hostOnly strips the port from a Host header or address.
func hostOnly(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return strings.Trim(hostport, "[]")
}

// backendCtxKey carries the picked target from ServeHTTP to the proxy's Rewrite.
type backendCtxKey struct{}

// layer7 serves HTTP/1.1 on an HTTP or HTTPS listener's connections (TLS already
// terminated): route, pick, proxy. A rule without any registered target answers 200 naming
// the listener, as tcsim's listeners did before they had backends, so a topology without
// backends still answers.
type layer7 struct {
	dp               *dataPlane
	lbID, listenerID string
	scheme           string // http or https, for X-Forwarded-Proto
	log              *slog.Logger
	proxy            *httputil.ReverseProxy
	srv              *http.Server
	queue            *connQueue
}

func newLayer7(dp *dataPlane, lbID, listenerID, scheme string, addr net.Addr, log *slog.Logger) *layer7 {
	h := &layer7{dp: dp, lbID: lbID, listenerID: listenerID, scheme: scheme, log: log, queue: newConnQueue(addr)}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	h.proxy = &httputil.ReverseProxy{
		Rewrite:      h.rewrite,
		Transport:    dp.transport,
		ErrorLog:     errLog,
		ErrorHandler: h.badGateway,
	}
	// Deadlines restart with every request, so a keep-alive connection lives as long as it
	// is used; Sim.Close closes idle ones at once.
	h.srv = &http.Server{
		Handler: h, ErrorLog: errLog,
		ReadHeaderTimeout: connTimeout, WriteTimeout: connTimeout, IdleTimeout: connTimeout,
	}
	return h
}

func (h *layer7) serve() { _ = h.srv.Serve(h.queue) }

func (h *layer7) stop() {
	_ = h.queue.Close()
	_ = h.srv.Close()
}

// handle gives the HTTP server a connection and returns when the server (or a handler that
// took it over) has closed it, so the port server's tracking covers its whole life.
func (h *layer7) handle(conn net.Conn, done <-chan struct{}) {
	if !h.queue.push(conn) {
		return
	}
	<-done
}

func (h *layer7) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	set, ok := h.dp.c.ruleBackends(h.lbID, h.listenerID, r.Host, r.URL.Path)
	switch {
	case !ok:
		h.answer(w, http.StatusNotFound, "no forwarding rule matches host "+hostOnly(r.Host)+" path "+r.URL.Path)
		return
	case set.registered == 0:
		h.answer(w, http.StatusOK, "")
		return
	case len(set.eligible) == 0:
		h.answer(w, http.StatusServiceUnavailable, "no healthy target for "+set.where)
		return
	}
	addr, release := h.dp.bal.pick(set, hostOnly(r.RemoteAddr))
	defer release()
	h.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendCtxKey{}, addr)))
}

// answer is tcsim's own response; the body names the listener, and why when there is a why.
func (h *layer7) answer(w http.ResponseWriter, code int, why string) {
	body := "tcsim " + h.lbID + "/" + h.listenerID + "\n"
	if why != "" {
		body = fmt.Sprintf("%d %s: tcsim %s/%s: %s\n", code, http.StatusText(code), h.lbID, h.listenerID, why)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// rewrite addresses the picked target and adds the headers CLB adds: the client's IP
// appended to X-Forwarded-For and alone in X-Real-IP, and the client's protocol. Host stays
// the client's, as on CLB.
func (h *layer7) rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = pr.In.Context().Value(backendCtxKey{}).(string)
	client := hostOnly(pr.In.RemoteAddr)
	xff := client
	if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + client
	}
	pr.Out.Header.Set("X-Forwarded-For", xff)
	pr.Out.Header.Set("X-Real-IP", client)
	pr.Out.Header.Set("X-Forwarded-Proto", h.scheme)
	pr.Out.Header.Set("X-Client-Proto", h.scheme)
}

// badGateway answers 502 when the target cannot be reached or answers garbage, as CLB does.
func (h *layer7) badGateway(w http.ResponseWriter, r *http.Request, err error) {
	addr, _ := r.Context().Value(backendCtxKey{}).(string)
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the client went away; nobody reads an answer
	}
	h.log.Debug("tcsim listener: forward failed", "target", addr, "err", err)
	h.answer(w, http.StatusBadGateway, "target "+addr+" failed: "+err.Error())
}

// pipe forwards a layer-4 connection (TLS already terminated for TCP_SSL) to a target picked
// by the listener's scheduler, bytes both ways until both sides are done. Without any
// registered target the connection closes at once, as before tcsim had backends; with none
// eligible or the target unreachable it closes too (CLB resets it). A closed stop ends it.
func (dp *dataPlane) pipe(client net.Conn, lbID, listenerID string, stop <-chan struct{}, log *slog.Logger) {
	set, ok := dp.c.listenerBackends(lbID, listenerID)
	if !ok || len(set.eligible) == 0 {
		return
	}
	addr, release := dp.bal.pick(set, hostOnly(client.RemoteAddr().String()))
	defer release()
	backend, err := dp.dialer.Dial("tcp", addr)
	if err != nil {
		log.Debug("tcsim listener: target unreachable", "target", addr, "err", err)
		return
	}
	defer backend.Close()
	// A forwarded connection lasts as long as its two ends want, or until the simulator
	// closes: closing both sides is what unblocks a copy waiting on the target.
	_ = client.SetDeadline(time.Time{})
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-stop:
			_ = client.Close()
			_ = backend.Close()
		case <-finished:
		}
	}()
	splice(client, backend)
}

// splice copies both ways. A side that ends cleanly half-closes the other, so a request
// followed by EOF still gets its answer; an error ends both at once.
func splice(a, b net.Conn) {
	errs := make(chan error, 2)
	copyHalf := func(dst, src net.Conn) {
		_, err := io.Copy(dst, src)
		if err == nil {
			err = closeWrite(dst)
		}
		errs <- err
	}
	go copyHalf(a, b)
	go copyHalf(b, a)
	if err := <-errs; err != nil {
		_ = a.Close()
		_ = b.Close()
	}
	<-errs
}

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// connQueue is the net.Listener a layer-7 listener's HTTP server accepts from: the port
// server's accept loop hands it connections after TLS termination.
type connQueue struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// push hands c to the server; false once the queue is closed.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

// notifyConn reports through done when anything closes it: the HTTP server at the end of a
// connection, or a handler that hijacked it.
type notifyConn struct {
	net.Conn
	once sync.Once
	done chan struct{}
}

func newNotifyConn(c net.Conn) *notifyConn { return &notifyConn{Conn: c, done: make(chan struct{})} }

func (c *notifyConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.done) })
	return err
}
