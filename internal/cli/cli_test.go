package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/internal/configtest"
)

// resolve runs a one-command app with the DNS flags and returns its settings.
func resolve(t *testing.T, env map[string]string, args ...string) (*Settings, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var got *Settings
	app := &cli.App{Commands: []*cli.Command{{
		Name:  "auth",
		Flags: append(CommonFlags(), DNSFlags()...),
		Action: func(c *cli.Context) error {
			s, err := Resolve(c, io.Discard)
			got = s
			return err
		},
	}}}
	err := app.Run(append([]string{"x", "auth"}, args...))
	return got, err
}

func TestPrecedenceFlagEnvFile(t *testing.T) {
	file := configtest.Write(t, `
propagation_timeout = "2m"
ttl = 900
dns_server = "127.0.0.9:53"
state_dir = "/from/file"
`, 0o644)
	s, err := resolve(t, map[string]string{"CLBCERT_CONFIG": file, "CLBCERT_DNS_TTL": "1200", "CLBCERT_STATE_DIR": "/from/env"},
		"--state-dir", "/from/flag")
	if err != nil {
		t.Fatal(err)
	}
	if s.StateDir != "/from/flag" || s.TTL != 1200 || s.PropagationTimeout != 2*time.Minute || s.DNSServer != "127.0.0.9:53" {
		t.Fatalf("settings = %+v", s)
	}
}

func TestBadSettings(t *testing.T) {
	secretFile := configtest.Write(t, "secret_id = \"AKIDx\"\nsecret_key = \"k\"\n", 0o644)
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{name: "secret in a world-readable file", env: map[string]string{"CLBCERT_CONFIG": secretFile}, wantErr: "holds a secret but is readable by others (mode 0644): run chmod 600"},
		{name: "unknown key", env: map[string]string{"CLBCERT_CONFIG": configtest.Write(t, "ttll = 5\n", 0o600)}, wantErr: "unknown setting on line 1 (name not shown: it could be a secret), did you mean ttl?"},
		{name: "bad duration in file", env: map[string]string{"CLBCERT_CONFIG": configtest.Write(t, "propagation_timeout = \"soon\"\n", 0o600)}, wantErr: `"soon" is not a duration`},
		{name: "named file missing", args: []string{"--config", "/nonexistent/clbcert.toml"}, wantErr: "config file /nonexistent/clbcert.toml"},
		{name: "ttl zero", args: []string{"--ttl", "0"}, wantErr: "--ttl / CLBCERT_DNS_TTL 0: give a TTL between 1 and 604800"},
		{name: "negative timeout", args: []string{"--propagation-timeout", "-1s"}, wantErr: "give a positive duration"},
		{name: "resolver without port", args: []string{"--resolver", "127.0.0.1"}, wantErr: "--resolver / CLBCERT_RESOLVER"},
		{name: "endpoint", env: map[string]string{"CLBCERT_ENDPOINT": "http://198.51.100.7"}, wantErr: "plain http is allowed only for loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CLBCERT_CONFIG": configtest.Write(t, "", 0o600)}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := resolve(t, env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ExitCode(err) != 2 {
				t.Fatalf("err = %v (exit %d), want exit 2 with %q", err, ExitCode(err), tt.wantErr)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{nil: 0, errors.New("x"): 1, Usagef("bad"): 2} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// A bad value from the config file is named by its key and file, a bad
// value from a flag or variable by them: the message points at what to
// mend. A negative ttl is shown as written.
func TestBadSettingsNameTheirSource(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		wantErr    string
	}{
		{name: "ttl in file", file: "ttl = 99999999\n", wantErr: ": ttl 99999999: give a TTL between 1 and 604800"},
		{name: "negative ttl in file", file: "ttl = -5\n", wantErr: ": ttl -5: give a TTL between 1 and 604800"},
		{name: "ttl in env", file: "ttl = 900\n", env: map[string]string{"CLBCERT_DNS_TTL": "0"}, wantErr: "--ttl / CLBCERT_DNS_TTL 0: give"},
		{name: "timeout in file", file: "propagation_timeout = \"-3s\"\n", wantErr: ": propagation_timeout -3s: give a positive duration"},
		{name: "log level in file", file: "log_level = \"verbose\"\n", wantErr: ": log_level: log level \"verbose\": use debug, info, warn or error"},
		{name: "log level in env", env: map[string]string{"CLBCERT_LOG_LEVEL": "verbose"}, wantErr: "--log-level / CLBCERT_LOG_LEVEL: log level \"verbose\""},
		{name: "endpoint in file", file: "endpoint = \"http://198.51.100.7\"\n", wantErr: ": endpoint: endpoint \"http://198.51.100.7\": plain http is allowed only for loopback"},
		{name: "site in file", file: "site = \"moon\"\n", wantErr: ": site: site \"moon\" is not known"},
		{name: "dns server in file", file: "dns_server = \"x\"\n", wantErr: ": dns_server \"x\": address x: missing port"},
		{name: "resolver in file", file: "resolvers = [\"x\"]\n", wantErr: ": resolvers \"x\": address x: missing port"},
		{name: "resolver in env", file: "resolvers = [\"127.0.0.1:53\"]\n", env: map[string]string{"CLBCERT_RESOLVER": "y"}, wantErr: "--resolver / CLBCERT_RESOLVER \"y\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := configtest.Write(t, tt.file, 0o600)
			env := map[string]string{"CLBCERT_CONFIG": file}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := resolve(t, env)
			want := tt.wantErr
			if strings.HasPrefix(want, ": ") {
				want = "config file " + file + want
			}
			if err == nil || !strings.Contains(err.Error(), want) || ExitCode(err) != 2 {
				t.Fatalf("err = %v (exit %d), want exit 2 with %q", err, ExitCode(err), want)
			}
		})
	}
}

// A flag or variable value urfave/cli cannot parse is refused (exit 2)
// with what to give instead, by the flag's type.
func TestBadFlagValueSaysWhatToGive(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "duration without unit", args: []string{"--propagation-timeout", "30"}, want: `invalid value "30" for flag -propagation-timeout: parse error: give a duration with its unit, e.g. 90s or 3m`},
		{name: "duration in env", env: map[string]string{"CLBCERT_PROPAGATION_TIMEOUT": "5"}, want: `environment variable "CLBCERT_PROPAGATION_TIMEOUT" for flag propagation-timeout: time: missing unit in duration "5": give a duration with its unit`},
		{name: "negative ttl", args: []string{"--ttl", "-1"}, want: `for flag -ttl: parse error: give a whole number, 0 or more`},
		{name: "port", args: []string{"--nameserver-port", "dns"}, want: `for flag -nameserver-port: parse error: give a whole number`},
		{name: "bool", args: []string{"--dry-run=maybe"}, want: `invalid boolean value "maybe" for -dry-run: parse error: give true or false, or the flag alone`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			app := &cli.App{Name: "x", Commands: []*cli.Command{{
				Name:   "auth",
				Flags:  append(append(CommonFlags(), DNSFlags()...), DryRunFlag()),
				Action: func(*cli.Context) error { t.Error("the action ran"); return nil },
			}}}
			var stderr strings.Builder
			code := Run(app, append([]string{"x", "auth"}, tt.args...), &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Fatalf("exit %d, stderr %q, want exit 2 and one line with %q", code, stderr.String(), tt.want)
			}
		})
	}
}
