package tune

import "testing"

func TestWithSSLProtocols(t *testing.T) {
	tls13 := []string{"TLSv1.2", "TLSv1.3"}
	tests := []struct{ name, in, want string }{
		{"empty", "", "ssl_protocols TLSv1.2 TLSv1.3;\n"},
		{"appended after a newline", "keepalive_timeout 60;\n", "keepalive_timeout 60;\nssl_protocols TLSv1.2 TLSv1.3;\n"},
		{"appended without one", "keepalive_timeout 60;", "keepalive_timeout 60;\nssl_protocols TLSv1.2 TLSv1.3;\n"},
		{"an unterminated last statement is closed", "keepalive_timeout 60", "keepalive_timeout 60;\nssl_protocols TLSv1.2 TLSv1.3;\n"},
		{"replaced in place", "a 1;\n  ssl_protocols TLSv1 TLSv1.1;  # old\nb 2;\n", "a 1;\n  ssl_protocols TLSv1.2 TLSv1.3;  # old\nb 2;\n"},
		{"earlier ones removed", "ssl_protocols TLSv1;\na 1;\nssl_protocols TLSv1.1;\n", "a 1;\nssl_protocols TLSv1.2 TLSv1.3;\n"},
		{"quoted ; and commented directive kept", "add_header X-A \"a;ssl_protocols b\";\n# ssl_protocols TLSv1;\n", "add_header X-A \"a;ssl_protocols b\";\n# ssl_protocols TLSv1;\nssl_protocols TLSv1.2 TLSv1.3;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withSSLProtocols(tt.in, tls13); got != tt.want {
				t.Errorf("withSSLProtocols(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
