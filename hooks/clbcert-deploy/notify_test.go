package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/simtest"
)

// webhook is a loopback chat service of one kind: it checks the signature
// its service would check, records the message text and answers as the
// service does.
type webhook struct {
	*httptest.Server
	kind, secret string
	mu           sync.Mutex
	texts        []string
	problems     []string
}

func newWebhook(t *testing.T, kind, secret string) *webhook {
	w := &webhook{kind: kind, secret: secret}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		text, problem := w.read(r.URL.Query(), body)
		w.mu.Lock()
		w.texts = append(w.texts, text)
		if problem != "" {
			w.problems = append(w.problems, problem)
		}
		w.mu.Unlock()
		switch kind {
		case "wecom", "dingtalk":
			io.WriteString(rw, `{"errcode":0,"errmsg":"ok"}`)
		case "feishu":
			io.WriteString(rw, `{"code":0,"data":{},"msg":"success"}`)
		default:
			io.WriteString(rw, "ok")
		}
	}))
	t.Cleanup(w.Close)
	return w
}

func mac(key, msg string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// read checks the body's shape and signature and returns its text.
func (w *webhook) read(q url.Values, body []byte) (text, problem string) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "not JSON: " + string(body)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var inner struct{ Content, Text string }
	want := map[string][]string{
		"wecom": {"msgtype", "text"}, "dingtalk": {"msgtype", "text"},
		"feishu": {"content", "msg_type", "sign", "timestamp"}, "slack": {"text"},
		"json": {"command", "details", "event", "failure", "host", "level", "lineage", "time", "title"},
	}[w.kind]
	if !slices.Equal(keys, want) {
		return "", fmt.Sprintf("keys %v, want %v", keys, want)
	}
	switch w.kind {
	case "wecom", "dingtalk":
		json.Unmarshal(doc["text"], &inner)
		if string(doc["msgtype"]) != `"text"` {
			return "", "msgtype " + string(doc["msgtype"])
		}
		if w.kind == "dingtalk" {
			ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
			if err != nil || time.Since(time.UnixMilli(ts)).Abs() > time.Hour {
				return "", "timestamp " + q.Get("timestamp")
			}
			if q.Get("sign") != mac(w.secret, q.Get("timestamp")+"\n"+w.secret) || q.Get("access_token") != "ding-token-0123" {
				return "", "bad signature or token: " + q.Encode()
			}
		}
		return inner.Content, ""
	case "feishu":
		var ts, sign string
		json.Unmarshal(doc["timestamp"], &ts)
		json.Unmarshal(doc["sign"], &sign)
		json.Unmarshal(doc["content"], &inner)
		if sign != mac(ts+"\n"+w.secret, "") || string(doc["msg_type"]) != `"text"` {
			return "", "bad signature: " + string(body)
		}
		return inner.Text, ""
	case "slack":
		json.Unmarshal(doc["text"], &text)
		return text, ""
	}
	var m struct {
		Title   string
		Details []string
		Command string
	}
	json.Unmarshal(body, &m)
	return m.Title + "\n" + strings.Join(m.Details, "\n") + "\n" + m.Command, ""
}

func (w *webhook) got() ([]string, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.texts), slices.Clone(w.problems)
}

// A deployment failing on a broken load balancer tells every configured
// webhook once, in its service's format, with the targets, why and the
// command that finishes the job; the run that succeeds tells the recovery;
// a run after that tells nothing.
func TestNotifiesFailureAndRecovery(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	if err := sim.SetFailing("lb-sh1", true); err != nil {
		t.Fatal(err)
	}
	hooks := []*webhook{
		newWebhook(t, "wecom", ""),
		newWebhook(t, "dingtalk", "SECding-signing-secret"),
		newWebhook(t, "feishu", "feishu-signing-secret"),
		newWebhook(t, "slack", ""),
		newWebhook(t, "json", ""),
	}
	paths := map[string]string{
		"wecom": "/cgi-bin/webhook/send?key=wecom-key-0123", "dingtalk": "/robot/send?access_token=ding-token-0123",
		"feishu": "/open-apis/bot/v2/hook/feishu-hook-0123", "slack": "/services/T0/B0/slack-token-0123", "json": "/in/json-token-0123",
	}
	var cfg strings.Builder
	for _, h := range hooks {
		fmt.Fprintf(&cfg, "[[notify]]\nurl = %q\nkind = %q\n", h.URL+paths[h.kind], h.kind)
		if h.secret != "" {
			fmt.Fprintf(&cfg, "secret = %q\n", h.secret)
		}
	}
	file := configtest.Write(t, cfg.String(), 0o600)
	dir := simtest.Corpus("good-ecdsa-2", "example.test")
	env := append(simtest.HookEnv(t, sim), "CLBCERT_CONFIG="+file)

	r := runDeploy(t, env, "--lineage", dir)
	if r.Code != 1 {
		t.Fatalf("with lb-sh1 failing: exit %d, want 1\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	secrets := []string{sim.Credential().SecretKey, "SECding-signing-secret", "feishu-signing-secret", "wecom-key-0123", "ding-token-0123", "feishu-hook-0123", "slack-token-0123", "json-token-0123"}
	check := func(n int, says ...string) {
		t.Helper()
		for _, h := range hooks {
			texts, problems := h.got()
			if len(problems) > 0 {
				t.Errorf("%s: %v", h.kind, problems)
			}
			if len(texts) != n {
				t.Errorf("%s got %d messages, want %d: %q", h.kind, len(texts), n, texts)
				continue
			}
			if n == 0 {
				continue
			}
			last := texts[n-1]
			for _, s := range says {
				if !strings.Contains(last, s) {
					t.Errorf("%s: message %q lacks %q", h.kind, last, s)
				}
			}
			for _, s := range secrets {
				if strings.Contains(last, s) {
					t.Errorf("%s: message carries the secret %q", h.kind, s)
				}
			}
		}
	}
	check(1, "deploy of example.test failed", "ap-shanghai lb-sh1: could not be read", "InternalError", "clbcert-deploy --lineage "+dir)

	if err := sim.SetFailing("lb-sh1", false); err != nil {
		t.Fatal(err)
	}
	if r := runDeploy(t, env, "--lineage", dir); r.Code != 0 {
		t.Fatalf("mended: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	check(2, "example.test deployed to 3 targets again", "ap-shanghai lb-sh1/lbl-tls1: updated")

	if r := runDeploy(t, env, "--lineage", dir); r.Code != 0 {
		t.Fatalf("third run: exit %d\n%s", r.Code, r.Stderr)
	}
	check(2)
}

// A webhook that cannot be reached is logged, without its token, and the
// exit status is the deployment's.
func TestUndeliverableNotificationKeepsTheExitStatus(t *testing.T) {
	sim := simtest.Start(t, account(t, 0))
	env := append(simtest.HookEnv(t, sim), "CLBCERT_LOG_LEVEL=warn")
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	r := runDeploy(t, env, "--lineage", simtest.Corpus("good-ecdsa-2", "example.test"), "--notify", "json+"+dead.URL+"/in/token-abc-999", "--region", "ap-nowhere-1")
	if r.Code == 0 {
		t.Fatalf("exit 0 deploying to a region with nothing: %+v", r)
	}
	if !strings.Contains(r.Stderr, "notification not delivered") || strings.Contains(r.Stderr, "token-abc-999") {
		t.Errorf("stderr %q: want the failed delivery logged without the token", r.Stderr)
	}
}
