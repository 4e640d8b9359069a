package tcsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
)

// TestSignatureMatchesSDK checks the verifier against what the SDK really sends, captured by
// a plain HTTP server, independently of the gateway.
func TestSignatureMatchesSDK(t *testing.T) {
	const id, key = "AKIDcapture", "capture-secret"
	for _, unsigned := range []bool{false, true} {
		var auth authorization
		var parseErr error
		var got, want string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			auth, parseErr = parseAuthorization(r.Header.Get("Authorization"))
			got = auth.Signature
			want = expectedSignature(r, body, auth, r.Header.Get("X-TC-Timestamp"), key)
			if expectedSignature(r, body, auth, r.Header.Get("X-TC-Timestamp"), key+"x") == want {
				t.Errorf("another key gave the same signature")
			}
			_, _ = io.WriteString(w, `{"Response":{"RequestId":"x"}}`)
		}))
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint = strings.TrimPrefix(srv.URL, "http://")
		cpf.HttpProfile.Scheme = "HTTP"
		cpf.UnsignedPayload = unsigned
		c, err := dnspodsdk.NewClient(common.NewCredential(id, key), "", cpf)
		if err != nil {
			t.Fatal(err)
		}
		req := createTXT("example.test", "_acme-challenge", "value with spaces and 默认")
		if _, err := c.CreateRecord(req); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if parseErr != nil {
			t.Fatalf("unsigned=%v: the SDK's Authorization header did not parse: %v", unsigned, parseErr)
		}
		if auth.SecretID != id || auth.Service != "dnspod" || auth.SignedHeaders != "content-type;host" {
			t.Errorf("parsed %+v", auth)
		}
		if got != want {
			t.Errorf("unsigned=%v: SDK signature %s, tcsim computes %s", unsigned, got, want)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	valid := "TC3-HMAC-SHA256 Credential=AKID/2024-05-06/dnspod/tc3_request, SignedHeaders=content-type;host, Signature=" + sig
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"SDK shape", valid, true},
		{"extra signed header", strings.Replace(valid, "content-type;host", "content-type;host;x-tc-action", 1), true},
		{"no spaces after commas", strings.ReplaceAll(valid, ", ", ","), true},
		{"empty", "", false},
		{"other algorithm", strings.Replace(valid, "TC3-HMAC-SHA256", "HMAC-SHA1", 1), false},
		{"scope too short", strings.Replace(valid, "/dnspod/tc3_request", "/dnspod", 1), false},
		{"bad terminator", strings.Replace(valid, "tc3_request", "tc2_request", 1), false},
		{"bad date", strings.Replace(valid, "2024-05-06", "20240506", 1), false},
		{"empty secret id", strings.Replace(valid, "AKID/", "/", 1), false},
		{"unsorted signed headers", strings.Replace(valid, "content-type;host", "host;content-type", 1), false},
		{"upper-case signed header", strings.Replace(valid, "content-type;host", "Content-Type;host", 1), false},
		{"content-type not signed", strings.Replace(valid, "content-type;host", "host", 1), false},
		{"short signature", strings.Replace(valid, sig, sig[:10], 1), false},
		{"upper-case signature", strings.Replace(valid, sig, strings.ToUpper(sig), 1), false},
		{"non-hex signature", strings.Replace(valid, sig, strings.Repeat("zz", 32), 1), false},
		{"duplicate element", valid + ", Signature=" + sig, false},
		{"unknown element", strings.Replace(valid, "SignedHeaders=", "Headers=", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAuthorization(tt.header)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
