package clb

import (
	"encoding/json"
	"reflect"
	"testing"

	clbsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb/v20180317"

	"github.com/clbcert/clbcert/pkg/binding"
)

// The SDK's answers are read from JSON, the way the SDK itself gets them.
func decode[T any](t *testing.T, s string) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestListenerOf(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Listener
	}{
		{"plain TCP listener", `{"ListenerId":"lbl-1","ListenerName":"tcp","Protocol":"TCP","Port":80}`,
			Listener{ID: "lbl-1", Name: "tcp", Protocol: "TCP", Port: 80}},
		{"certificate without id is none", `{"ListenerId":"lbl-1","Protocol":"HTTPS","Certificate":{"SSLMode":"UNIDIRECTIONAL"}}`,
			Listener{ID: "lbl-1", Protocol: "HTTPS"}},
		{"mutual TLS keeps mode and CA", `{"ListenerId":"lbl-1","Protocol":"TCP_SSL","Certificate":{"SSLMode":"MUTUAL","CertId":"c1","CertCaId":"ca1"},"Scheduler":"WRR","SessionExpireTime":30}`,
			Listener{ID: "lbl-1", Protocol: "TCP_SSL", Certificate: &CertRef{ID: "c1", SSLMode: "MUTUAL", CAID: "ca1"}, Balancing: Balancing{Scheduler: "WRR", SessionExpireTime: 30}}},
		{"dual mutual binding: every member, OPTIONAL kept", `{"ListenerId":"lbl-4","Protocol":"HTTPS","Certificate":{"SSLMode":"MUTUAL","SSLVerifyClient":"OPTIONAL","CertId":"rsa1","CertCaId":"ca1","ExtCertIds":["ecc1"]}}`,
			Listener{ID: "lbl-4", Protocol: "HTTPS", Certificate: &CertRef{ID: "rsa1", ExtIDs: []string{"ecc1"}, SSLMode: "MUTUAL", CAID: "ca1", SSLVerifyClient: "OPTIONAL"}}},
		{"SNI rules lower-cased, nil rule skipped", `{"ListenerId":"lbl-2","Protocol":"HTTPS","SniSwitch":1,"Rules":[null,{"LocationId":"loc-1","Domain":"API.Example.test","Url":"/","Certificate":{"CertId":"c2"},"HealthCheck":{"HealthSwitch":1,"CheckType":"HTTP","HttpCode":31,"HttpCheckPath":"/ok"}}]}`,
			Listener{ID: "lbl-2", Protocol: "HTTPS", SNI: true, Rules: []Rule{{LocationID: "loc-1", Domain: "api.example.test", URL: "/", Certificate: &CertRef{ID: "c2"},
				Balancing: Balancing{HealthCheck: &HealthCheck{On: true, CheckType: "HTTP", HTTPCode: 31, HTTPCheckPath: "/ok"}}}}}},
		{"health check off", `{"ListenerId":"lbl-3","Protocol":"TCP","HealthCheck":{"HealthSwitch":0,"TimeOut":2,"IntervalTime":5,"HealthNum":3,"UnHealthNum":3,"CheckPort":81,"HttpVersion":"HTTP/1.1","HttpCheckDomain":"h","HttpCheckMethod":"GET"}}`,
			Listener{ID: "lbl-3", Protocol: "TCP", Balancing: Balancing{HealthCheck: &HealthCheck{TimeOut: 2, IntervalTime: 5, HealthNum: 3, UnHealthNum: 3, CheckPort: 81, HTTPVersion: "HTTP/1.1", HTTPCheckDomain: "h", HTTPCheckMethod: "GET"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listenerOf(decode[clbsdk.Listener](t, tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHealthStatus(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`{"HealthStatus":true,"HealthStatusDetail":"Alive"}`, HealthAlive},
		{`{"HealthStatus":false,"HealthStatusDetail":"Dead","HealthStatusDetial":"Alive"}`, HealthDead},
		{`{"HealthStatus":false,"HealthStatusDetial":"Close"}`, HealthClose},
		{`{"HealthStatus":true}`, HealthAlive},
		{`{"HealthStatus":false}`, HealthUnknown},
	}
	for _, tt := range tests {
		if got := healthStatus(decode[clbsdk.TargetHealth](t, tt.in)); got != tt.want {
			t.Errorf("healthStatus(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTargetHealthOf(t *testing.T) {
	in := decode[[]*clbsdk.LoadBalancerHealth](t, `[null,{"LoadBalancerId":"lb-1","Listeners":[null,{"ListenerId":"lbl-1","Rules":[null,
		{"LocationId":"loc-1","Domain":"WWW.example.test","Url":"/","Targets":[null,{"IP":"10.0.0.1","Port":80,"HealthStatus":true,"HealthStatusDetail":"Alive","Weight":10}]}]}]}]`)
	want := []TargetHealth{{Address: Address{Region: "r", LoadBalancerID: "lb-1", ListenerID: "lbl-1", LocationID: "loc-1", Domain: "www.example.test"}, URL: "/",
		IP: "10.0.0.1", Port: 80, Healthy: true, Status: HealthAlive, Weight: 10}}
	if got := targetHealthOf("r", *in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestHealthCheckInput(t *testing.T) {
	tests := []struct {
		name string
		in   *HealthCheck
		want string
	}{
		{"none", nil, `null`},
		{"off", &HealthCheck{}, `{"HealthSwitch":0,"TimeOut":0,"IntervalTime":0,"HealthNum":0,"UnHealthNum":0}`},
		{"TCP sends no HTTP fields", &HealthCheck{On: true, TimeOut: 2, IntervalTime: 5, HealthNum: 3, UnHealthNum: 2, CheckType: "TCP", HTTPCheckPath: "/x", CheckPort: 81},
			`{"HealthSwitch":1,"TimeOut":2,"IntervalTime":5,"HealthNum":3,"UnHealthNum":2,"CheckType":"TCP"}`},
		{"HTTP without domain", &HealthCheck{On: true, TimeOut: 2, IntervalTime: 5, HealthNum: 3, UnHealthNum: 2, CheckType: "HTTP", HTTPCode: 31, HTTPCheckPath: "/", HTTPCheckMethod: "HEAD"},
			`{"HealthSwitch":1,"TimeOut":2,"IntervalTime":5,"HealthNum":3,"UnHealthNum":2,"HttpCode":31,"HttpCheckPath":"/","HttpCheckMethod":"HEAD","CheckType":"HTTP"}`},
		{"HTTP with domain", &HealthCheck{On: true, CheckType: "HTTP", HTTPCheckPath: "/", HTTPCheckMethod: "GET", HTTPCheckDomain: "h.example.test"},
			`{"HealthSwitch":1,"TimeOut":0,"IntervalTime":0,"HealthNum":0,"UnHealthNum":0,"HttpCode":0,"HttpCheckPath":"/","HttpCheckDomain":"h.example.test","HttpCheckMethod":"GET","CheckType":"HTTP"}`},
		{"HTTPS sends the HTTP fields too", &HealthCheck{On: true, TimeOut: 2, IntervalTime: 5, HealthNum: 3, UnHealthNum: 2, CheckType: "HTTPS", HTTPCode: 6, HTTPCheckPath: "/healthz", HTTPCheckMethod: "GET", HTTPCheckDomain: "h.example.test"},
			`{"HealthSwitch":1,"TimeOut":2,"IntervalTime":5,"HealthNum":3,"UnHealthNum":2,"HttpCode":6,"HttpCheckPath":"/healthz","HttpCheckDomain":"h.example.test","HttpCheckMethod":"GET","CheckType":"HTTPS"}`},
		{"HTTP of a TCP listener keeps its version", &HealthCheck{On: true, CheckType: "HTTP", HTTPCheckPath: "/", HTTPCheckMethod: "GET", HTTPCheckDomain: "h.example.test", HTTPVersion: "HTTP/1.0"},
			`{"HealthSwitch":1,"TimeOut":0,"IntervalTime":0,"HealthNum":0,"UnHealthNum":0,"HttpCode":0,"HttpCheckPath":"/","HttpCheckDomain":"h.example.test","HttpCheckMethod":"GET","CheckType":"HTTP","HttpVersion":"HTTP/1.0"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(healthCheckInput(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCertRefBinding(t *testing.T) {
	ref := &CertRef{ID: "rsa1", ExtIDs: []string{"ecc1"}, SSLMode: "MUTUAL", CAID: "ca1", SSLVerifyClient: "OPTIONAL"}
	algs := map[string]binding.Algorithm{"rsa1": binding.RSA, "ecc1": binding.ECC}
	got := ref.Binding(func(id string) binding.Algorithm { return algs[id] })
	want := binding.Binding{Members: []binding.Member{{CertID: "rsa1", Algorithm: binding.RSA}, {CertID: "ecc1", Algorithm: binding.ECC}},
		SSLMode: "MUTUAL", CertCaID: "ca1", SSLVerifyClient: "OPTIONAL"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Binding() = %+v, want %+v", got, want)
	}
	var none *CertRef
	if b := none.Binding(nil); len(b.Members) != 0 || none.IDs() != nil {
		t.Errorf("nil CertRef: Binding() = %+v, IDs() = %v", b, none.IDs())
	}
}
