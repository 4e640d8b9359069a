// Package notify tells people what went wrong, and when it is right again,
// through chat webhooks: WeCom and DingTalk group robots, Feishu custom
// bots, Slack incoming webhooks, or a generic JSON body for anything else.
// Let's Encrypt no longer emails about expiry; a failed deployment would
// otherwise wait for someone to run clbcert status.
//
// A notification is best effort: one that cannot be delivered within its
// time bound is logged and the job goes on with its own exit status. No
// message carries a secret: the signing secrets and the webhook URLs
// (whose tokens are credentials) are never logged, and are scrubbed from
// every text sent, along with any secret the caller names.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/level"
)

// Kind is a webhook's body format.
type Kind string

// The kinds.
const (
	WeCom    Kind = "wecom"    // WeCom (企业微信) group robot
	DingTalk Kind = "dingtalk" // DingTalk (钉钉) custom robot, signed with its secret
	Feishu   Kind = "feishu"   // Feishu/Lark (飞书) custom bot, signed with its secret
	Slack    Kind = "slack"    // Slack incoming webhook
	JSON     Kind = "json"     // the generic body of Message
)

// Kinds are the kinds in the order documentation lists them.
var Kinds = []Kind{WeCom, DingTalk, Feishu, Slack, JSON}

// Endpoint is one webhook to notify.
type Endpoint struct {
	URL  string
	Kind Kind
	// Secret signs DingTalk and Feishu messages; other kinds have none.
	Secret string
	// All sends good news (a deployment done, a recovery) too; without it
	// only failures are sent.
	All bool
}

// Check refuses an endpoint that cannot work, without quoting its URL or
// secret.
func (e Endpoint) Check() error {
	u, err := url.Parse(e.URL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return errors.New("the webhook URL is not an http(s) URL: give it as the service shows it, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…")
	case !slices.Contains(Kinds, e.Kind):
		return fmt.Errorf("kind %q is not one of wecom, dingtalk, feishu, slack, json", e.Kind)
	case e.Secret != "" && e.Kind != DingTalk && e.Kind != Feishu:
		return fmt.Errorf("a secret is for kind dingtalk or feishu, which sign their messages; %s does not", e.Kind)
	}
	return nil
}

// GuessKind is the kind of a webhook URL by its host; JSON for a host of
// no service known. A URL may say its kind first: "slack+https://…".
func GuessKind(raw string) (Kind, string) {
	for _, k := range Kinds {
		if rest, ok := strings.CutPrefix(raw, string(k)+"+"); ok {
			return k, rest
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return JSON, raw
	}
	switch h := strings.ToLower(u.Hostname()); {
	case h == "qyapi.weixin.qq.com":
		return WeCom, raw
	case h == "oapi.dingtalk.com":
		return DingTalk, raw
	case h == "open.feishu.cn" || h == "open.larksuite.com":
		return Feishu, raw
	case h == "hooks.slack.com":
		return Slack, raw
	}
	return JSON, raw
}

// Message is one notification. Its JSON is the body of kind json:
//
//	{"event": "deploy-failed", "failure": true, "lineage": "example.com",
//	 "level": "CRITICAL", "title": "…", "details": ["…"],
//	 "command": "clbcert-deploy --lineage …", "host": "web1",
//	 "time": "2026-01-02T15:04:05Z"}
//
// event is deploy-failed, deploy-done, deploy-recovered or level-worse;
// level, details and command may be empty.
type Message struct {
	Event string `json:"event"`
	// Failure marks something that needs a person. Endpoints without All
	// get failures and the recoveries that end them; the rest (a
	// deployment done) only endpoints with All.
	Failure bool   `json:"failure"`
	Lineage string `json:"lineage"`
	// Level is the lineage's level, where the event has one.
	Level   *level.Level `json:"level,omitempty"`
	Title   string       `json:"title"`
	Details []string     `json:"details"`
	// Command is what finishes the job.
	Command string    `json:"command"`
	Host    string    `json:"host"`
	Time    time.Time `json:"time"`
}

// The events.
const (
	EventDeployFailed    = "deploy-failed"
	EventDeployDone      = "deploy-done"
	EventDeployRecovered = "deploy-recovered"
	EventLevelWorse      = "level-worse"
)

// Text is the message for people, as the chat kinds send it.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString("[clbcert] " + m.Title)
	for _, d := range m.Details {
		b.WriteString("\n- " + d)
	}
	if m.Command != "" {
		b.WriteString("\nto finish: " + m.Command)
	}
	fmt.Fprintf(&b, "\n%s, %s", m.Host, m.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	return b.String()
}

// Options configures a Notifier. Zero values take the defaults given.
type Options struct {
	// Timeout bounds each delivery, connecting included. Default 5 s: a
	// deploy hook must not hang on a chat service.
	Timeout time.Duration
	// Client sends the requests; default a plain http.Client.
	Client *http.Client
	// Now is the clock of the signatures and messages; default time.Now.
	Now func() time.Time
	// Host names this machine in messages; default os.Hostname at the caller.
	Host string
	// Redact are secrets besides the endpoints' own (an API key, say) that
	// must never be sent, should an error message quote one.
	Redact []string
	// Logger says what could not be delivered; nil discards.
	Logger *slog.Logger
}

// Notifier sends messages to endpoints.
type Notifier struct {
	endpoints []Endpoint
	opts      Options
	redact    []string
}

// New checks the endpoints. A Notifier without endpoints sends nothing.
func New(endpoints []Endpoint, opts Options) (*Notifier, error) {
	for i, e := range endpoints {
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("notification endpoint %d (%s): %w", i+1, e.Kind, err)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{endpoints: slices.Clone(endpoints), opts: opts}
	for _, s := range opts.Redact {
		n.addRedact(s)
	}
	for _, e := range endpoints {
		n.addRedact(e.Secret)
		n.addRedact(e.URL)
		if u, err := url.Parse(e.URL); err == nil {
			// The token is the path's last part (Slack, Feishu) or a
			// query value (WeCom key, DingTalk access_token).
			n.addRedact(u.Path[strings.LastIndex(u.Path, "/")+1:])
			for _, vs := range u.Query() {
				for _, v := range vs {
					n.addRedact(v)
				}
			}
		}
	}
	return n, nil
}

// addRedact keeps s for scrubbing; short strings would scrub ordinary
// words, and no real token is that short.
func (n *Notifier) addRedact(s string) {
	if len(s) >= 8 {
		n.redact = append(n.redact, s)
	}
}

// wanted reports whether e gets m.
func wanted(e Endpoint, m Message) bool {
	return e.All || m.Failure || m.Event == EventDeployRecovered
}

// Enabled reports whether any endpoint would get m.
func (n *Notifier) Enabled(m Message) bool {
	return n != nil && slices.ContainsFunc(n.endpoints, func(e Endpoint) bool { return wanted(e, m) })
}

// Notify sends m to every endpoint that wants it, each within the
// timeout, and returns what could not be delivered (already logged).
// Callers go on whatever it returns.
func (n *Notifier) Notify(ctx context.Context, m Message) error {
	if n == nil {
		return nil
	}
	if m.Time.IsZero() {
		m.Time = n.opts.Now()
	}
	if m.Host == "" {
		m.Host = n.opts.Host
	}
	m = n.scrub(m)
	var errs []error
	for i, e := range n.endpoints {
		if !wanted(e, m) {
			continue
		}
		if err := n.send(ctx, e, m); err != nil {
			// The service's answer is quoted, and an answer may quote the
			// request ("Cannot POST /hooks/<token>").
			why := n.clean(err.Error())
			n.opts.Logger.Warn("notification not delivered", "endpoint", i+1, "kind", e.Kind, "host", host(e.URL), "event", m.Event, "err", why)
			errs = append(errs, fmt.Errorf("notification %d (%s at %s): %s", i+1, e.Kind, host(e.URL), why))
		}
	}
	return errors.Join(errs...)
}

func host(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "?"
}

// clean replaces every secret in s.
func (n *Notifier) clean(s string) string {
	for _, r := range n.redact {
		s = strings.ReplaceAll(s, r, "[redacted]")
	}
	return s
}

func (n *Notifier) scrub(m Message) Message {
	m.Title, m.Command, m.Lineage = n.clean(m.Title), n.clean(m.Command), n.clean(m.Lineage)
	m.Details = slices.Clone(m.Details)
	for i, d := range m.Details {
		m.Details[i] = n.clean(d)
	}
	if m.Details == nil {
		m.Details = []string{}
	}
	return m
}

func (n *Notifier) send(ctx context.Context, e Endpoint, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	target, body, err := request(e, m, n.opts.Now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("cannot build the request: check the URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		// url.Error quotes the URL, token and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: check that the service is reachable from this host", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return accepted(e.Kind, resp.StatusCode, answer)
}

// FinishCommand is what finishes the deployment of the lineage in dir.
func FinishCommand(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return "clbcert-deploy --lineage " + dir
}
