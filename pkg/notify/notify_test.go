package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/store"
)

// now is 2026-01-01 00:00:00 UTC: 1767225600 s.
var now = time.Unix(1767225600, 0).UTC()

// hook is a loopback webhook that records what it gets and answers as
// the service does.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	answer   string
	status   int
}

type recorded struct {
	path, query, contentType string
	body                     []byte
}

func newHook(t *testing.T, answer string) *hook {
	h := &hook{answer: answer, status: http.StatusOK}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, recorded{r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body})
		status, answer := h.status, h.answer
		h.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.requests...)
}

func failed() Message {
	crit := level.Critical
	return Message{
		Event: EventDeployFailed, Failure: true, Lineage: "example.test", Level: &crit,
		Title:   "deploy of example.test failed on 1 of 3 targets",
		Details: []string{"ap-shanghai lb-sh1/lbl-tls1: InternalError"},
		Command: "clbcert-deploy --lineage /etc/letsencrypt/live/example.test",
		Host:    "web1",
	}
}

const wantText = "[clbcert] deploy of example.test failed on 1 of 3 targets\n- ap-shanghai lb-sh1/lbl-tls1: InternalError\nto finish: clbcert-deploy --lineage /etc/letsencrypt/live/example.test\nweb1, 2026-01-01 00:00:00 UTC"

// Each kind gets the exact body, and the signature, its service documents.
func TestBodiesAndSignatures(t *testing.T) {
	textJSON, _ := json.Marshal(wantText)
	tests := []struct {
		kind      Kind
		path      string
		query     string
		secret    string
		answer    string
		wantQuery string
		wantBody  string
	}{
		{WeCom, "/cgi-bin/webhook/send", "key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", "", `{"errcode":0,"errmsg":"ok"}`,
			"key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
			`{"msgtype":"text","text":{"content":` + string(textJSON) + `}}`},
		{DingTalk, "/robot/send", "access_token=tok0123456789", "SECa1b2c3d4e5f6", `{"errcode":0,"errmsg":"ok"}`,
			// Computed apart, with Python's hmac and urllib.parse.quote_plus.
			"access_token=tok0123456789&sign=nOB5enHagM3zMvofhQgDnu52YaeCAnmdgVo2nSYiIrw%3D&timestamp=1767225600000",
			`{"msgtype":"text","text":{"content":` + string(textJSON) + `}}`},
		{DingTalk, "/robot/send", "access_token=tok0123456789", "", `{"errcode":0,"errmsg":"ok"}`,
			"access_token=tok0123456789",
			`{"msgtype":"text","text":{"content":` + string(textJSON) + `}}`},
		{Feishu, "/open-apis/bot/v2/hook/5e3d587e-d78e-4a07", "", "fs-secret-9z8y7x", `{"code":0,"data":{},"msg":"success"}`,
			"",
			// sign computed apart: HMAC-SHA256 keyed by "1767225600\nfs-secret-9z8y7x" over nothing.
			`{"content":{"text":` + string(textJSON) + `},"msg_type":"text","sign":"BXWGZohttRpjvKNpbVTK37dwa5mn/os2gytaewDd+/g=","timestamp":"1767225600"}`},
		{Slack, "/services/T000/B000/XXXXXXXXXXXX", "", "", "ok",
			"",
			`{"text":` + string(textJSON) + `}`},
		{JSON, "/hooks/clbcert", "", "", "",
			"",
			`{"event":"deploy-failed","failure":true,"lineage":"example.test","level":"CRITICAL","title":"deploy of example.test failed on 1 of 3 targets","details":["ap-shanghai lb-sh1/lbl-tls1: InternalError"],"command":"clbcert-deploy --lineage /etc/letsencrypt/live/example.test","host":"web1","time":"2026-01-01T00:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+map[bool]string{true: " signed"}[tt.secret != ""], func(t *testing.T) {
			h := newHook(t, tt.answer)
			u := h.URL + tt.path
			if tt.query != "" {
				u += "?" + tt.query
			}
			n, err := New([]Endpoint{{URL: u, Kind: tt.kind, Secret: tt.secret}}, Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(context.Background(), failed()); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			got := h.got()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			r := got[0]
			if r.path != tt.path || r.query != tt.wantQuery || !strings.HasPrefix(r.contentType, "application/json") {
				t.Errorf("POST %s?%s (%s), want %s?%s", r.path, r.query, r.contentType, tt.path, tt.wantQuery)
			}
			if string(r.body) != tt.wantBody {
				t.Errorf("body\n%s\nwant\n%s", r.body, tt.wantBody)
			}
		})
	}
}

// A refusal, an error status, a closed port and a hang are each an error,
// logged without the URL's token or the secret, within the time bound.
func TestUndeliverable(t *testing.T) {
	refusing := newHook(t, `{"errcode":310000,"errmsg":"sign not match"}`)
	erroring := newHook(t, "boom")
	erroring.status = http.StatusInternalServerError
	// An answer that quotes the request, as Express's "Cannot POST" does.
	echoing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Cannot POST "+r.URL.RequestURI())
	}))
	t.Cleanup(echoing.Close)
	feishuNo := newHook(t, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`)
	stop := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	t.Cleanup(func() { close(stop); hanging.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	const token, secret = "tok-very-secret-123", "SECsigning-secret-456"
	tests := []struct {
		name string
		e    Endpoint
		says string
	}{
		{"robot refuses", Endpoint{URL: refusing.URL + "/robot/send?access_token=" + token, Kind: DingTalk, Secret: secret}, "errcode 310000"},
		{"HTTP 500", Endpoint{URL: erroring.URL + "/x/" + token, Kind: Slack}, "HTTP 500"},
		{"feishu refuses", Endpoint{URL: feishuNo.URL + "/open-apis/bot/v2/hook/" + token, Kind: Feishu, Secret: secret}, "code 19021"},
		{"answer quotes the token", Endpoint{URL: echoing.URL + "/hooks/" + token + "?key=" + token, Kind: JSON}, "HTTP 404: Cannot POST /hooks/[redacted]"},
		{"nobody listens", Endpoint{URL: closed + "/send?key=" + token, Kind: WeCom}, "refused"},
		{"hangs", Endpoint{URL: hanging.URL + "/" + token, Kind: JSON}, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			n, err := New([]Endpoint{tt.e}, Options{Timeout: 200 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			err = n.Notify(context.Background(), failed())
			if took := time.Since(begin); took > 2*time.Second {
				t.Errorf("took %s with a 200 ms bound", took)
			}
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want it to say %q", err, tt.says)
			}
			for _, s := range []string{log.String(), err.Error()} {
				if strings.Contains(s, token) || strings.Contains(s, secret) {
					t.Errorf("a secret leaked: %s", s)
				}
			}
			if warnings := warningsAbout(t, log.Bytes(), tt.e.Kind); warnings != 1 {
				t.Errorf("%d warnings about the %s endpoint, want 1: %s", warnings, tt.e.Kind, log.String())
			}
		})
	}
}

// Whatever a caller puts in a message, the endpoints' tokens and secrets
// and the secrets it names are not sent.
func TestNeverASecret(t *testing.T) {
	h := newHook(t, `{"errcode":0,"errmsg":"ok"}`)
	const key, signing, apiKey = "wecom-key-abcdef123", "SECdingtalk-signing", "AKIDsecretKeyOfTheAccount"
	n, err := New([]Endpoint{
		{URL: h.URL + "/cgi-bin/webhook/send?key=" + key, Kind: WeCom},
		{URL: h.URL + "/robot/send?access_token=ding-token-1234", Kind: DingTalk, Secret: signing},
		{URL: h.URL + "/hooks/" + key, Kind: JSON},
	}, Options{Redact: []string{apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	m := failed()
	m.Details = append(m.Details, "error quoting "+key+" and "+signing+" and "+apiKey+" and ding-token-1234")
	m.Command += " # " + apiKey
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := h.got()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for _, r := range got {
		for _, s := range []string{key, signing, apiKey, "ding-token-1234"} {
			if bytes.Contains(r.body, []byte(s)) {
				t.Errorf("body to %s carries %q: %s", r.path, s, r.body)
			}
		}
		if !bytes.Contains(r.body, []byte("[redacted]")) {
			t.Errorf("body to %s: %s", r.path, r.body)
		}
	}
}

// Good news goes only to the endpoints that asked for all.
func TestFailuresOnlyUnlessAll(t *testing.T) {
	failures, all := newHook(t, ""), newHook(t, "")
	n, err := New([]Endpoint{{URL: failures.URL, Kind: JSON}, {URL: all.URL, Kind: JSON, All: true}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := Message{Event: EventDeployDone, Lineage: "example.test", Title: "deployed"}
	recovered := Message{Event: EventDeployRecovered, Lineage: "example.test", Title: "deployed again"}
	if !n.Enabled(done) || !n.Enabled(failed()) {
		t.Error("Enabled")
	}
	for _, m := range []Message{failed(), done, recovered} {
		if err := n.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if len(failures.got()) != 2 || len(all.got()) != 3 {
		t.Errorf("failures-only got %d, all got %d; want 2 (the failure, its recovery) and 3", len(failures.got()), len(all.got()))
	}
	var nothing *Notifier
	if nothing.Enabled(failed()) || nothing.Notify(context.Background(), failed()) != nil {
		t.Error("a nil Notifier must do nothing")
	}
}

func TestCheckAndGuessKind(t *testing.T) {
	bad := []Endpoint{
		{URL: "ftp://x/y", Kind: JSON},
		{URL: "https://x/y", Kind: "teams"},
		{URL: "https://hooks.slack.com/services/x", Kind: Slack, Secret: "SECxxxxxxxx"},
		{URL: "not a url at all", Kind: WeCom},
	}
	for _, e := range bad {
		if err := e.Check(); err == nil || strings.Contains(err.Error(), e.URL) && e.Kind != "teams" {
			t.Errorf("%+v: Check() = %v, want an error not quoting the URL", e, err)
		}
	}
	for raw, want := range map[string]Kind{
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k": WeCom,
		"https://oapi.dingtalk.com/robot/send?access_token=t":    DingTalk,
		"https://open.feishu.cn/open-apis/bot/v2/hook/h":         Feishu,
		"https://hooks.slack.com/services/a/b/c":                 Slack,
		"https://alerts.example.com/in":                          JSON,
		"slack+https://chat.example.com/hooks/x":                 Slack,
	} {
		if got, _ := GuessKind(raw); got != want {
			t.Errorf("GuessKind(%s) = %s, want %s", raw, got, want)
		}
	}
	if _, u := GuessKind("feishu+https://h/x"); u != "https://h/x" {
		t.Errorf("prefix not cut: %s", u)
	}
}

func TestWeComTruncates(t *testing.T) {
	s := strings.Repeat("证书", 600) // 3600 bytes
	got := truncate(s, wecomMaxContent)
	if len(got) > wecomMaxContent || !strings.HasSuffix(got, "…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
		t.Errorf("truncate: %d bytes", len(got))
	}
}

func TestLedger(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := NewLedger(st)
	ctx := context.Background()
	if lv, err := l.Last("deploy example.test"); err != nil || lv != level.OK {
		t.Fatalf("empty ledger: %s, %v", lv, err)
	}
	if err := l.Record(ctx, "deploy example.test", level.Critical); err != nil {
		t.Fatal(err)
	}
	if lv, _ := NewLedger(st).Last("deploy example.test"); lv != level.Critical {
		t.Errorf("after Record: %s", lv)
	}
	if err := l.Record(ctx, "deploy example.test", level.OK); err != nil {
		t.Fatal(err)
	}
	if lv, _ := l.Last("deploy example.test"); lv != level.OK {
		t.Errorf("after OK: %s", lv)
	}
	// Many subjects: one write, one read.
	if err := l.RecordAll(ctx, map[string]level.Level{"status a.test": level.Warning, "status b.test": level.Critical, "status c.test": level.OK}); err != nil {
		t.Fatal(err)
	}
	got, err := l.LastOf("status a.test", "status b.test", "status c.test", "status d.test")
	want := map[string]level.Level{"status a.test": level.Warning, "status b.test": level.Critical, "status c.test": level.OK, "status d.test": level.OK}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("LastOf = %v, %v; want %v", got, err, want)
	}
}

// warningsAbout counts the WARN records of a JSON log that name an
// endpoint of kind, by their attributes, not their wording.
func warningsAbout(t *testing.T, log []byte, kind Kind) int {
	t.Helper()
	n := 0
	dec := json.NewDecoder(bytes.NewReader(log))
	for dec.More() {
		var rec struct {
			Level string
			Kind  Kind
			Err   string
		}
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("log is not JSON lines: %v", err)
		}
		if rec.Level == slog.LevelWarn.String() && rec.Kind == kind && rec.Err != "" {
			n++
		}
	}
	return n
}
