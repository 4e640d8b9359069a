package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// wecomMaxContent is the WeCom group robot's limit on a text message, in
// bytes of UTF-8.
const wecomMaxContent = 2048

// request is the URL and body of m for e, signed as e's service documents
// at now.
func request(e Endpoint, m Message, now time.Time) (string, []byte, error) {
	text := m.Text()
	var body any
	target := e.URL
	switch e.Kind {
	case WeCom:
		// {"msgtype":"text","text":{"content":…}}, at most 2048 bytes.
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": truncate(text, wecomMaxContent)}}
	case DingTalk:
		// The same body; a robot with "加签" security wants timestamp (ms)
		// and sign = base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)),
		// URL-encoded, in the query.
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
		if e.Secret != "" {
			ts := strconv.FormatInt(now.UnixMilli(), 10)
			mac := hmac.New(sha256.New, []byte(e.Secret))
			mac.Write([]byte(ts + "\n" + e.Secret))
			u, err := url.Parse(e.URL)
			if err != nil {
				return "", nil, fmt.Errorf("the webhook URL does not parse: check it")
			}
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case Feishu:
		// {"msg_type":"text","content":{"text":…}}; with signature
		// verification also "timestamp" (seconds) and "sign" =
		// base64(HMAC-SHA256(key=timestamp+"\n"+secret, empty message)).
		b := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
		if e.Secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			mac := hmac.New(sha256.New, []byte(ts+"\n"+e.Secret))
			b["timestamp"] = ts
			b["sign"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
		}
		body = b
	case Slack:
		body = map[string]string{"text": text}
	default:
		body = m
	}
	data, err := json.Marshal(body)
	return target, data, err
}

// truncate cuts s to at most n bytes at a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// accepted reads the service's answer: every kind wants a 2xx; WeCom and
// DingTalk answer {"errcode":0} and Feishu {"code":0} when they took the
// message, and an HTTP 200 with another code when they refused it.
func accepted(kind Kind, status int, answer []byte) error {
	if status < 200 || status > 299 {
		return fmt.Errorf("HTTP %d: %s", status, snippet(answer))
	}
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
	}
	switch kind {
	case WeCom, DingTalk:
		if err := json.Unmarshal(answer, &ans); err != nil || ans.ErrCode == nil {
			return fmt.Errorf("the answer is not the robot's {\"errcode\": …}: %s: check the URL", snippet(answer))
		}
		if *ans.ErrCode != 0 {
			return fmt.Errorf("refused: errcode %d, %s: check the robot's security settings (keyword, IP allowlist, signing secret)", *ans.ErrCode, ans.ErrMsg)
		}
	case Feishu:
		if err := json.Unmarshal(answer, &ans); err != nil || ans.Code == nil {
			return fmt.Errorf("the answer is not the bot's {\"code\": …}: %s: check the URL", snippet(answer))
		}
		if *ans.Code != 0 {
			return fmt.Errorf("refused: code %d, %s: check the bot's security settings (keyword, IP allowlist, signing secret)", *ans.Code, ans.Msg)
		}
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = truncate(s, 200)
	}
	if s == "" {
		return "(empty)"
	}
	return s
}
