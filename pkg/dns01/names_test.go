package dns01

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, tt := range []struct{ name, wantErr string }{
		{"example.com", ""},
		{"example.com.", ""},
		{"*.example.com", ""},
		{"_acme-challenge.www.example.com.", ""},
		{"xn--bcher-kva.example", ""},
		{"bücher.example", "internationalized name"},
		{"例子.测试", "internationalized name"},
		{"a..example.com", "empty label"},
		{".example.com", "empty label"},
		{"example.com..", "empty label"},
		{"*..example.com", "empty label"},
		{"", "is not a domain name"},
		{".", "is not a domain name"},
		{"exa mple.com", "character DNS names do not use"},
		{"www.*.example.com", "character DNS names do not use"},
		{strings.Repeat("a", 64) + ".com", "longer than the 63"},
		{strings.Repeat("abcdefghi.", 26) + "com", "longer than the 253"},
	} {
		err := CheckName(tt.name)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckName(%q) = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
