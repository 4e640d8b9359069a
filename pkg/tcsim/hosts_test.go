package tcsim

import "testing"

func TestParseHost(t *testing.T) {
	tests := []struct {
		host, service string
		want          accessHost
		ok            bool
	}{
		{"clb.tencentcloudapi.com", "clb", accessHost{}, true},
		{"clb.ap-guangzhou.tencentcloudapi.com", "clb", accessHost{region: "ap-guangzhou"}, true},
		{"CLB.AP-Shanghai.TencentCloudAPI.com:443", "clb", accessHost{region: "ap-shanghai"}, true},
		{"clb.intl.tencentcloudapi.com", "clb", accessHost{}, true},
		{"ssl.intl.tencentcloudapi.com", "ssl", accessHost{}, true},
		{"127.0.0.1:18080", "dnspod", accessHost{}, true},
		{"localhost", "ssl", accessHost{}, true},
		{"ssl.tencentcloudapi.com", "clb", accessHost{}, false},
		{"clb.a.b.tencentcloudapi.com", "clb", accessHost{}, false},
	}
	for _, tt := range tests {
		got, ok := parseHost(tt.host, tt.service)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseHost(%q, %q) = %+v, %v; want %+v, %v", tt.host, tt.service, got, ok, tt.want, tt.ok)
		}
	}
}
