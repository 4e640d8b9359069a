package tcsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
)

// startSim starts a simulator that is closed when the test ends, and dumps its state when
// the test failed.
func startSim(t *testing.T, opts Options) *Sim {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if dump, err := s.Dump(); err == nil {
				t.Logf("tcsim state:\n%s", dump)
			}
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func sdkProfile(s *Sim) *profile.ClientProfile {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = strings.TrimPrefix(s.Endpoint(), "http://")
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqTimeout = 10
	return cpf
}

// dnspodClient is the real SDK client pointed at the simulator.
func dnspodClient(t *testing.T, s *Sim, cred Credential) *dnspodsdk.Client {
	t.Helper()
	return dnspodClientWith(t, s, cred, sdkProfile(s))
}

func dnspodClientWith(t *testing.T, s *Sim, cred Credential, cpf *profile.ClientProfile) *dnspodsdk.Client {
	t.Helper()
	var c common.CredentialIface = common.NewCredential(cred.SecretID, cred.SecretKey)
	if cred.Token != "" {
		c = common.NewTokenCredential(cred.SecretID, cred.SecretKey, cred.Token)
	}
	client, err := dnspodsdk.NewClient(c, "", cpf)
	if err != nil {
		t.Fatalf("dnspod.NewClient: %v", err)
	}
	return client
}

// sdkCode is the Tencent Cloud error code of err, "" for nil.
func sdkCode(err error) string {
	if err == nil {
		return ""
	}
	var e *tcerrors.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return "non-SDK error: " + err.Error()
}

// rawCall is a request signed by hand, for what the SDK cannot send: unknown parameters,
// malformed headers, other content types.
type rawCall struct {
	action      string
	version     string // default dnspod's
	service     string // credential scope service; default dnspod
	body        string
	cred        Credential
	skew        int64  // seconds added to the timestamp, which is taken when the call is sent
	contentType string // default application/json
	// edit changes the request after it was signed.
	edit func(r *http.Request)
}

type envelope struct {
	Response struct {
		Error *struct {
			Code    string
			Message string
		}
		RequestID string `json:"RequestId"`
	}
}

// do sends the call and returns the HTTP status, the error code ("" on success) and the raw
// body.
func (c rawCall) do(t *testing.T, s *Sim) (int, string, []byte) {
	t.Helper()
	if c.version == "" {
		c.version = dnspodVersion
	}
	if c.service == "" {
		c.service = dnspodService
	}
	timestamp := time.Now().Unix() + c.skew
	if c.contentType == "" {
		c.contentType = "application/json"
	}
	req, err := http.NewRequest(http.MethodPost, s.Endpoint()+"/", strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", c.contentType)
	req.Header.Set("X-TC-Action", c.action)
	req.Header.Set("X-TC-Version", c.version)
	ts := strconv.FormatInt(timestamp, 10)
	req.Header.Set("X-TC-Timestamp", ts)
	if c.cred.Token != "" {
		req.Header.Set("X-TC-Token", c.cred.Token)
	}
	req.Header.Set("Authorization", signHeader(req, []byte(c.body), c.cred, c.service, ts))
	if c.edit != nil {
		c.edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: answer is not JSON: %v: %s", c.action, err, body)
	}
	if env.Response.Error != nil {
		return resp.StatusCode, env.Response.Error.Code, body
	}
	return resp.StatusCode, "", body
}

// signHeader computes a TC3 Authorization header for req the way the documentation says.
func signHeader(req *http.Request, body []byte, cred Credential, service, ts string) string {
	sec, _ := strconv.ParseInt(ts, 10, 64)
	date := time.Unix(sec, 0).UTC().Format(scopeDateStyle)
	req.Host = req.URL.Host
	a := authorization{SecretID: cred.SecretID, Date: date, Service: service, SignedHeaders: "content-type;host"}
	sig := expectedSignature(req, body, a, ts, cred.SecretKey)
	return fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		tc3Algorithm, cred.SecretID, credentialScope(date, service), a.SignedHeaders, sig)
}

// query asks a nameserver over net ("udp" or "tcp").
func query(t *testing.T, addr, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s over %s to %s: %v", name, dns.TypeToString[qtype], network, addr, err)
	}
	return r
}

// txtValues joins each TXT record's strings into its value.
func txtValues(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
