package tencent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// noMetadata is a metadata URL on a closed loopback port: the chain must end
// there quickly, as on any machine that is not a CVM.
func noMetadata(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

func TestLoadCredential(t *testing.T) {
	home := t.TempDir()
	profileDir := filepath.Join(home, ".tencentcloud")
	if err := os.MkdirAll(profileDir, 0o700); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(profileDir, "credentials")
	if err := os.WriteFile(profile, []byte("[other]\nsecret_id = AKIDother\n[default]\nsecret_id = AKIDprofile0000\nsecret_key = profilekey\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badProfile := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(badProfile, []byte("[default]\nsecret_id = AKIDx\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		env        map[string]string
		file       [2]string
		home       string
		wantID     string
		wantToken  string
		wantSource string
		wantErr    string
	}{
		{name: "env wins over profile", env: map[string]string{EnvSecretID: "AKIDenv000000", EnvSecretKey: "envkey"}, home: home,
			wantID: "AKIDenv000000", wantSource: "environment"},
		{name: "env with session token", env: map[string]string{EnvSecretID: "AKIDtmp000000", EnvSecretKey: "k", EnvSessionToken: "tok"},
			wantID: "AKIDtmp000000", wantToken: "tok", wantSource: "environment"},
		{name: "profile when env unset", home: home, wantID: "AKIDprofile0000", wantSource: "profile " + profile + " [default]"},
		{name: "profile from TENCENTCLOUD_CREDENTIALS_FILE", env: map[string]string{EnvCredentialsFile: profile}, wantID: "AKIDprofile0000"},
		{name: "half-set env", env: map[string]string{EnvSecretID: "AKIDenv"}, home: home, wantErr: "TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is empty"},
		{name: "legacy DNSPod token in id", env: map[string]string{EnvSecretID: "123456", EnvSecretKey: "0123456789abcdef0123456789abcdef"}, wantErr: "legacy DNSPod token"},
		{name: "legacy ID,Token in key", env: map[string]string{EnvSecretID: "AKIDx", EnvSecretKey: "123456,0123456789abcdef"}, wantErr: "legacy DNSPod token"},
		{name: "SecretId and SecretKey swapped", env: map[string]string{EnvSecretID: "0123456789abcdef0123456789abcdef", EnvSecretKey: "AKIDenv000000"}, wantErr: "look swapped"},
		{name: "explicit profile missing", env: map[string]string{EnvCredentialsFile: filepath.Join(home, "nope")}, wantErr: "read credentials profile"},
		{name: "profile without key", env: map[string]string{EnvCredentialsFile: badProfile}, wantErr: "has no secret_id and secret_key"},
		{name: "config file after env", env: map[string]string{EnvSecretID: "AKIDenv000000", EnvSecretKey: "envkey"}, file: [2]string{"AKIDfile00000", "filekey"},
			wantID: "AKIDenv000000"},
		{name: "config file before profile", file: [2]string{"AKIDfile00000", "filekey"}, home: home, wantID: "AKIDfile00000", wantSource: "config file /etc/clbcert/config.toml"},
		{name: "config file with half a key", file: [2]string{"AKIDfile00000", ""}, wantErr: "has only one of secret_id and secret_key"},
		{name: "nothing anywhere", home: t.TempDir(), wantErr: "no Tencent Cloud API key found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := LoadCredential(context.Background(), CredentialOptions{LookupEnv: envOf(tt.env), Home: tt.home, MetadataURL: noMetadata(t),
				FileID: tt.file[0], FileKey: tt.file[1], FileSource: "config file /etc/clbcert/config.toml"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "0123456789abcdef") {
					t.Fatalf("error reveals the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			id, _, token := cred.GetCredential()
			if id != tt.wantID || token != tt.wantToken || !strings.Contains(cred.Source, tt.wantSource) {
				t.Fatalf("got id=%q token=%q source=%q", id, token, cred.Source)
			}
		})
	}
}

func TestCVMRoleCredentialRenews(t *testing.T) {
	fetches := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/latest/meta-data/cam/security-credentials/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/security-credentials/") {
			w.Write([]byte("clbcert-role"))
			return
		}
		fetches++
		// The first keys are about to expire, the second are fresh.
		exp := time.Now().Add(time.Minute).Unix()
		if fetches > 1 {
			exp = time.Now().Add(time.Hour).Unix()
		}
		w.Write([]byte(`{"TmpSecretId":"AKIDrole` + string(rune('0'+fetches)) + `","TmpSecretKey":"rk","Token":"rt","ExpiredTime":` + strconv.FormatInt(exp, 10) + `,"Code":"Success"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cred, err := LoadCredential(context.Background(), CredentialOptions{MetadataURL: srv.URL + "/latest/meta-data/"})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Source != `CVM role "clbcert-role"` {
		t.Fatalf("source = %q", cred.Source)
	}
	id, key, token := cred.GetCredential()
	if id != "AKIDrole2" || key != "rk" || token != "rt" {
		t.Fatalf("keys near expiry were not renewed: id=%q", id)
	}
	cred.GetCredential()
	if fetches != 2 {
		t.Fatalf("fresh keys fetched again: %d fetches", fetches)
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		want    Endpoint
		wantErr string
	}{
		{in: "", want: Endpoint{}},
		{in: "http://127.0.0.1:18080", want: Endpoint{Scheme: "HTTP", Host: "127.0.0.1:18080"}},
		{in: "http://127.0.0.5:1/", want: Endpoint{Scheme: "HTTP", Host: "127.0.0.5:1"}},
		{in: "http://localhost:9", want: Endpoint{Scheme: "HTTP", Host: "localhost:9"}},
		{in: "http://[::1]:9", want: Endpoint{Scheme: "HTTP", Host: "[::1]:9"}},
		{in: "https://clb.ap-guangzhou.tencentcloudapi.com", want: Endpoint{Scheme: "HTTPS", Host: "clb.ap-guangzhou.tencentcloudapi.com"}},
		{in: "http://10.0.0.1:80", wantErr: "plain http is allowed only for loopback"},
		{in: "http://example.com", wantErr: "plain http is allowed only for loopback"},
		{in: "127.0.0.1:18080", wantErr: "is not a URL"},
		{in: "ftp://127.0.0.1", wantErr: "is not a URL"},
		{in: "https://h/path", wantErr: "give only scheme, host and port"},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEndpoint(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]Kind{
		"RequestLimitExceeded":                        KindThrottled,
		"RequestLimitExceeded.RequestLimitExceeded":   KindThrottled,
		"LimitExceeded.RateLimitExceeded":             KindThrottled,
		"FailedOperation.FrequencyLimit":              KindThrottled,
		"InternalError":                               KindTransient,
		"InternalError.DbError":                       KindTransient,
		"ClientError.NetworkError":                    KindUnreachable,
		"FailedOperation.ResourceInOperating":         KindBusy,
		"AuthFailure.SecretIdNotFound":                KindAuth,
		"AuthFailure.SignatureFailure":                KindAuth,
		"AuthFailure.UnauthorizedOperation":           KindPermission,
		"UnauthorizedOperation":                       KindPermission,
		"OperationDenied.NoPermissionToOperateDomain": KindPermission,
		"InvalidParameter.RecordLineInvalid":          KindInvalid,
		"MissingParameter":                            KindInvalid,
		"LimitExceeded.RecordTtlLimit":                KindInvalid,
		"ResourceNotFound.NoDataOfRecord":             KindNotFound,
		"FailedOperation.DomainIsLocked":              KindOther,
	}
	for code, want := range tests {
		if got := Classify(code); got != want {
			t.Errorf("Classify(%q) = %v, want %v", code, got, want)
		}
	}
}

func testCaller(waits *[]time.Duration) *Caller {
	return &Caller{
		Product: "dnspod", Host: "http://127.0.0.1:1", Source: "environment", KeyHint: "AKID****abcd",
		Policy:   DefaultRetry,
		now:      time.Now,
		sleep:    func(_ context.Context, d time.Duration) error { *waits = append(*waits, d); return nil },
		jitterFn: func(max time.Duration) time.Duration { return max },
	}
}

func TestDoRetries(t *testing.T) {
	sdk := func(code string) error { return tcerr.NewTencentCloudSDKError(code, "m", "req-1") }
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantWaits []time.Duration
		wantKind  Kind
		wantMsg   string
	}{
		{name: "throttled then ok", errs: []error{sdk("RequestLimitExceeded"), sdk("LimitExceeded.RateLimitExceeded"), nil},
			wantCalls: 3, wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{name: "auth failure is not retried", errs: []error{sdk("AuthFailure.SecretIdNotFound")},
			wantCalls: 1, wantKind: KindAuth, wantMsg: "Tencent Cloud does not know SecretId AKID****abcd from TENCENTCLOUD_SECRET_ID"},
		{name: "invalid parameter is not retried", errs: []error{sdk("InvalidParameter.RecordLineInvalid")},
			wantCalls: 1, wantKind: KindInvalid, wantMsg: "dnspod:CreateRecord failed (InvalidParameter.RecordLineInvalid: m, RequestId req-1)"},
		{name: "internal errors until attempts run out", errs: []error{sdk("InternalError"), sdk("InternalError"), sdk("InternalError"), sdk("InternalError"), sdk("InternalError")},
			wantCalls: 5, wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second},
			wantKind: KindTransient, wantMsg: "failed 5 times in a row"},
		{name: "unreachable says where", errs: []error{errors.New("dial tcp: refused"), errors.New("dial tcp: refused"), errors.New("dial tcp: refused"), errors.New("dial tcp: refused"), errors.New("dial tcp: refused")},
			wantCalls: 5, wantWaits: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second},
			wantKind: KindUnreachable, wantMsg: "dnspod:CreateRecord: cannot reach http://127.0.0.1:1 after 5 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			calls := 0
			_, err := Do(context.Background(), testCaller(&waits), "CreateRecord", func(context.Context) (int, error) {
				calls++
				return 0, tt.errs[calls-1]
			})
			if calls != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if len(waits) != len(tt.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, tt.wantWaits)
			}
			for i := range waits {
				if waits[i] != tt.wantWaits[i] {
					t.Fatalf("waits = %v, want %v", waits, tt.wantWaits)
				}
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v (kind %v), want kind %v and %q on one line", err, KindOf(err), tt.wantKind, tt.wantMsg)
			}
		})
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	p := RetryPolicy{Base: time.Second, Cap: 3 * time.Second}
	none := func(time.Duration) time.Duration { return 0 }
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 1500 * time.Millisecond, 60: 1500 * time.Millisecond} {
		if got := p.backoff(n, none); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	for i := 0; i < 100; i++ {
		if d := p.backoff(2, randJitter); d < time.Second || d >= 2*time.Second {
			t.Fatalf("jittered backoff %v outside [1s, 2s)", d)
		}
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := testCaller(new([]time.Duration))
	// The context ends while Do waits to retry, an hour before it would.
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return Sleep(ctx, d)
	}
	c.Policy = RetryPolicy{MaxAttempts: 100, MaxElapsed: 10 * time.Hour, Base: time.Hour, Cap: time.Hour}
	_, err := Do(ctx, c, "DescribeDomainList", func(context.Context) (int, error) {
		return 0, tcerr.NewTencentCloudSDKError("InternalError", "", "")
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A SecretKey pasted as the SecretId (a key that does not start as every
// SecretId does) is never shown, not even its ends.
func TestSecretKeyAsSecretIDIsNeverShown(t *testing.T) {
	for id, want := range map[string]string{
		"AKIDenv0000000000000000000000000abcd": "AKID****************************abcd",
		"1U6XKd6YRHGTdb0Hj8nwTVIlc1QumOOM":     "********************************",
		"short":                                "*****",
	} {
		if got := maskID(id); got != want {
			t.Errorf("maskID(%q) = %q, want %q", id, got, want)
		}
	}
}
