package tcsim

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGatewayRawRequests(t *testing.T) {
	permanent := Credential{SecretID: "AKIDpermanent", SecretKey: "permanent-secret"}
	sts := Credential{SecretID: "AKIDtemporary", SecretKey: "temporary-secret", Token: "session-token"}
	s := startSim(t, Options{Credentials: []Credential{permanent, sts}, Zones: []ZoneSpec{{Name: "example.test"}}})
	list := `{"Domain":"example.test"}`

	tests := []struct {
		name string
		call rawCall
		want string
	}{
		{"ok", rawCall{action: "DescribeRecordList", body: list}, ""},
		{"empty body is an empty object", rawCall{action: "DescribeDomainList"}, ""},
		{"charset utf-8 accepted", rawCall{action: "DescribeRecordList", body: list, contentType: "application/json; charset=utf-8"}, ""},
		{"temporary key with its token", rawCall{action: "DescribeRecordList", body: list, cred: sts}, ""},
		{"unsigned payload", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			r.Header.Set("X-TC-Content-SHA256", unsignedBody)
			r.Header.Set("Authorization", signHeader(r, []byte(list), permanent, dnspodService, r.Header.Get("X-TC-Timestamp")))
		}}, ""},
		{"skew of exactly 300 s is accepted", rawCall{action: "DescribeRecordList", body: list, skew: -300}, ""},

		{"missing action", rawCall{action: "", body: list}, codeInvalidAction},
		{"unknown action", rawCall{action: "DescribeEverything", body: list}, codeInvalidAction},
		{"unknown version", rawCall{action: "DescribeRecordList", version: "2018-08-26", body: list}, codeNoSuchVersion},
		{"text/plain", rawCall{action: "DescribeRecordList", body: list, contentType: "text/plain"}, codeInvalidParameter},
		{"not TC3", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer abc")
		}}, codeAuthInvalidAuthorization},
		{"no signature element", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
		}}, codeAuthInvalidAuthorization},
		{"host not signed", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host", "content-type", 1))
		}}, codeAuthInvalidAuthorization},
		{"scope service is another product", rawCall{action: "DescribeRecordList", body: list, service: "ssl"}, codeAuthInvalidAuthorization},
		{"scope date is not the timestamp's", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			today := time.Now().UTC().Format(scopeDateStyle)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), today, "2001-02-03", 1))
		}}, codeAuthInvalidAuthorization},
		{"missing timestamp", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			r.Header.Del("X-TC-Timestamp")
		}}, codeMissingParameter},
		{"timestamp not a number", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			r.Header.Set("X-TC-Timestamp", "soon")
		}}, codeInvalidParameter},
		{"timestamp 301 s old", rawCall{action: "DescribeRecordList", body: list, skew: -301}, codeAuthSignatureExpire},
		{"timestamp 301 s ahead", rawCall{action: "DescribeRecordList", body: list, skew: 301}, codeAuthSignatureExpire},
		{"unknown SecretId", rawCall{action: "DescribeRecordList", body: list, cred: Credential{SecretID: "AKIDnobody", SecretKey: "x"}}, codeAuthSecretIDNotFound},
		{"body changed after signing", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			body := `{"Domain":"other.test"}`
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
		}}, codeAuthSignatureFailure},
		{"temporary key without token", rawCall{action: "DescribeRecordList", body: list, cred: sts, edit: func(r *http.Request) {
			r.Header.Del("X-TC-Token")
		}}, codeAuthTokenFailure},
		{"temporary key with a wrong token", rawCall{action: "DescribeRecordList", body: list, cred: sts, edit: func(r *http.Request) {
			r.Header.Set("X-TC-Token", "stolen")
		}}, codeAuthTokenFailure},
		{"permanent key with a token", rawCall{action: "DescribeRecordList", body: list, edit: func(r *http.Request) {
			r.Header.Set("X-TC-Token", "session-token")
		}}, codeAuthTokenFailure},

		{"unknown parameter", rawCall{action: "DescribeRecordList", body: `{"Domain":"example.test","Zone":"x"}`}, codeUnknownParameter},
		{"parameter names are case-sensitive", rawCall{action: "DescribeRecordList", body: `{"domain":"example.test"}`}, codeUnknownParameter},
		{"wrong JSON type", rawCall{action: "DescribeRecordList", body: `{"Domain":"example.test","Limit":"10"}`}, codeInvalidParameter},
		{"body not JSON", rawCall{action: "DescribeRecordList", body: `Domain=example.test`}, codeInvalidParameter},
		{"missing required parameter", rawCall{action: "DeleteRecord", body: `{"Domain":"example.test"}`}, codeMissingParameter},
		{"body over 10 MB", rawCall{action: "DescribeRecordList", body: `{"Domain":"` + strings.Repeat("x", maxBody) + `"}`}, codeRequestSizeLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.call.cred == (Credential{}) {
				tt.call.cred = permanent
			}
			status, code, body := tt.call.do(t, s)
			if status != http.StatusOK {
				t.Errorf("HTTP status %d, want 200 for every answer", status)
			}
			if code != tt.want {
				t.Errorf("code %q, want %q: %s", code, tt.want, body)
			}
			if strings.Contains(string(body), permanent.SecretKey) || strings.Contains(string(body), sts.Token) {
				t.Errorf("answer leaks a secret: %s", body)
			}
		})
	}
}

func TestGatewayEnvelopeAndMethod(t *testing.T) {
	s := startSim(t, Options{})
	status, code, body := rawCall{action: "DescribeDomainList", cred: s.Credential()}.do(t, s)
	if status != http.StatusOK || code != "" {
		t.Fatalf("status %d code %q: %s", status, code, body)
	}
	if !strings.HasPrefix(string(body), `{"Response":{`) || !strings.Contains(string(body), `"RequestId":"`) {
		t.Errorf("success envelope: %s", body)
	}

	resp, err := http.Get(s.Endpoint() + "/?Action=DescribeDomainList")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || env.Response.Error == nil || env.Response.Error.Code != codeUnsupportedOperation {
		t.Errorf("GET: status %d, envelope %+v", resp.StatusCode, env.Response)
	}
	if !uuidV4.MatchString(env.Response.RequestID) {
		t.Errorf("RequestId %q is not a UUID v4", env.Response.RequestID)
	}
}

func TestGatewaySDKAuth(t *testing.T) {
	good := Credential{SecretID: "AKIDgood", SecretKey: "good-secret"}
	sts := Credential{SecretID: "AKIDsts", SecretKey: "sts-secret", Token: "tok"}
	tests := []struct {
		name   string
		offset time.Duration // the simulator's clock minus real time
		cred   Credential
		want   string
	}{
		{"valid", 0, good, ""},
		{"valid temporary key", 0, sts, ""},
		{"wrong secret key", 0, Credential{SecretID: good.SecretID, SecretKey: "guess"}, codeAuthSignatureFailure},
		{"unknown SecretId", 0, Credential{SecretID: "AKIDunknown", SecretKey: "x"}, codeAuthSecretIDNotFound},
		{"temporary key sent as permanent", 0, Credential{SecretID: sts.SecretID, SecretKey: sts.SecretKey}, codeAuthTokenFailure},
		{"client clock 5 min slow", 301 * time.Second, good, codeAuthSignatureExpire},
		{"client clock 5 min fast", -301 * time.Second, good, codeAuthSignatureExpire},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Options{
				Credentials: []Credential{good, sts},
				Now:         func() time.Time { return time.Now().Add(tt.offset) },
			})
			_, err := dnspodClient(t, s, tt.cred).DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest())
			if got := sdkCode(err); got != tt.want {
				t.Errorf("code %q, want %q (%v)", got, tt.want, err)
			}
			if tt.want != "" && s.Calls("DescribeDomainList") != 0 {
				t.Errorf("a call that failed authentication was counted")
			}
		})
	}
}

func TestGatewaySDKUnsignedPayload(t *testing.T) {
	s := startSim(t, Options{})
	cpf := sdkProfile(s)
	cpf.UnsignedPayload = true
	if _, err := dnspodClientWith(t, s, s.Credential(), cpf).DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest()); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayCommonRequestUnknownParameter(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}}})
	c := common.NewCommonClient(common.NewCredential(s.Credential().SecretID, s.Credential().SecretKey), "", sdkProfile(s))
	req := tchttp.NewCommonRequest(dnspodService, dnspodVersion, "CreateRecord")
	if err := req.SetActionParameters(map[string]any{
		"Domain": "example.test", "RecordType": "TXT", "RecordLine": "默认", "Value": "v", "SubDomian": "_acme-challenge",
	}); err != nil {
		t.Fatal(err)
	}
	err := c.Send(req, tchttp.NewCommonResponse())
	if got := sdkCode(err); got != codeUnknownParameter || !strings.Contains(err.Error(), "SubDomian") {
		t.Errorf("got %v, want UnknownParameter naming SubDomian", err)
	}
}

func TestGatewayRateLimit(t *testing.T) {
	s := startSim(t, Options{RateLimits: map[string]int{"DescribeDomainList": 2}})
	c := dnspodClient(t, s, s.Credential())
	var codes []string
	for range 3 {
		_, err := c.DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest())
		codes = append(codes, sdkCode(err))
	}
	if codes[0] != "" || codes[1] != "" || codes[2] != codeRequestLimitExceeded {
		t.Errorf("codes %q, want two successes then %s", codes, codeRequestLimitExceeded)
	}
	other := dnspodsdk.NewDescribeDomainRequest()
	other.Domain = ptr("x.test")
	if _, err := c.DescribeDomain(other); sdkCode(err) == codeRequestLimitExceeded {
		t.Errorf("the limit of one action applied to another")
	}
	if got := s.Calls("DescribeDomainList"); got != 3 {
		t.Errorf("Calls = %d, want 3 (limited calls count)", got)
	}
}

func TestGatewayFailNext(t *testing.T) {
	s := startSim(t, Options{})
	c := dnspodClient(t, s, s.Credential())
	s.FailNext("DescribeDomainList", "FailedOperation.FrequencyLimit", 2)
	s.FailNext("DescribeDomainList", "", 1)
	var codes []string
	for range 4 {
		_, err := c.DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest())
		codes = append(codes, sdkCode(err))
	}
	want := []string{"FailedOperation.FrequencyLimit", "FailedOperation.FrequencyLimit", "ClientError.NetworkError", ""}
	if strings.Join(codes, ",") != strings.Join(want, ",") {
		t.Errorf("codes %q, want %q", codes, want)
	}
	if got := s.Calls("DescribeDomainList"); got != 4 {
		t.Errorf("Calls = %d, want 4", got)
	}

	s.FailNext("DescribeDomainList", codeInternalError, 5)
	s.FailNext("DescribeDomainList", "", 0)
	if _, err := c.DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest()); err != nil {
		t.Errorf("FailNext(n=0) did not cancel pending failures: %v", err)
	}

	s.FailAfter("DescribeDomainList", codeInternalError, 2, 1)
	codes = nil
	for range 4 {
		_, err := c.DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest())
		codes = append(codes, sdkCode(err))
	}
	if want := []string{"", "", codeInternalError, ""}; strings.Join(codes, ",") != strings.Join(want, ",") {
		t.Errorf("FailAfter(2, 1): codes %q, want %q", codes, want)
	}
}

func TestGatewayFaultRate(t *testing.T) {
	run := func() []string {
		s := startSim(t, Options{FaultRate: 0.5, Seed: 42})
		c := dnspodClient(t, s, s.Credential())
		var codes []string
		for range 40 {
			_, err := c.DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest())
			codes = append(codes, sdkCode(err))
		}
		return codes
	}
	first := run()
	counts := map[string]int{}
	for _, c := range first {
		counts[c]++
	}
	if counts[""] == 0 || counts[codeInternalError] == 0 || counts["ClientError.NetworkError"] == 0 || len(counts) != 3 {
		t.Errorf("outcomes %v, want successes, InternalErrors and dropped connections only", counts)
	}
	if second := run(); strings.Join(first, ",") != strings.Join(second, ",") {
		t.Errorf("the same seed gave different sequences:\n%q\n%q", first, second)
	}
}
