// Package config reads the optional config file. It knows no flags and no
// workflow: internal/cli lays flags and environment variables over the file
// and turns its values into each workflow's options.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultPath is where the config file is looked for when none is named.
const DefaultPath = "/etc/clbcert/config.toml"

// File is the config file. Every field is optional.
type File struct {
	Regions            []string `toml:"regions"`
	Endpoint           string   `toml:"endpoint"`
	Site               string   `toml:"site"`
	DNSServer          string   `toml:"dns_server"`
	Resolvers          []string `toml:"resolvers"`
	PropagationTimeout Duration `toml:"propagation_timeout"`
	TTL                int64    `toml:"ttl"` // signed: a negative TTL is refused as written, not wrapped
	CertbotDir         string   `toml:"certbot_dir"`
	StateDir           string   `toml:"state_dir"`
	LogLevel           string   `toml:"log_level"`
	// WarnDays, CriticalDays and DeployGrace are --warn-days,
	// --critical-days and --deploy-grace where no flag gives them.
	WarnDays     int      `toml:"warn_days"`
	CriticalDays int      `toml:"critical_days"`
	DeployGrace  Duration `toml:"deploy_grace"`
	// SecretID and SecretKey are an API key kept in the file; the file must
	// then be readable by its owner only.
	SecretID  string `toml:"secret_id"`
	SecretKey string `toml:"secret_key"`

	// Products are the products every lineage's certificate goes to (see
	// Settings.Products); a [[deploy]] entry's own products win.
	Products []string `toml:"products"`

	// Deploy pins what clbcert-deploy does per lineage; a lineage without an
	// entry is deployed by discovery in the regions given by flag or env.
	Deploy []DeployEntry `toml:"deploy"`

	// Notify are the webhooks clbcert-deploy, clbcert-watch and clbcert
	// status --notify tell about failures (and, with on = "all", successes).
	Notify []NotifyEntry `toml:"notify"`

	// Tune holds the settings clbcert tune applies where no flag gives
	// them (see TuneTable).
	Tune TuneTable `toml:"tune"`

	// Path is where the file was read from ("" when there was none).
	Path string `toml:"-"`
}

// DeployEntry is one [[deploy]] table.
type DeployEntry struct {
	// Lineage is certbot's lineage name: the directory under live/.
	Lineage string `toml:"lineage"`
	// Regions to deploy to; empty means the regions of --region / CLBCERT_REGIONS.
	Regions []string `toml:"regions"`
	// Targets pins "lb-id/listener-id" or "lb-id/listener-id/sni-domain";
	// empty means discover every target the certificate covers.
	Targets []string `toml:"targets"`
	// Keep is how many superseded uploads of the lineage to keep; 0 means 2.
	Keep int `toml:"keep"`
	// Products are the products this lineage's certificate goes to.
	Products []string `toml:"products"`
}

// NotifyEntry is one [[notify]] table.
type NotifyEntry struct {
	// URL is the webhook as the service shows it; its token is a secret.
	URL string `toml:"url"`
	// Kind is wecom, dingtalk, feishu, slack or json; empty guesses it
	// from the URL's host (json for an unknown one).
	Kind string `toml:"kind"`
	// Secret is a DingTalk or Feishu robot's signing secret.
	Secret string `toml:"secret"`
	// On is "failures" (the default) or "all", which adds deployments
	// done and recoveries.
	On string `toml:"on"`
}

// DeployFor returns the [[deploy]] entry of a lineage, if there is one.
func (f *File) DeployFor(lineage string) (DeployEntry, bool) {
	for _, d := range f.Deploy {
		if d.Lineage == lineage {
			return d, true
		}
	}
	return DeployEntry{}, false
}

// TuneTable is the config file's [tune] table: the settings `clbcert tune`
// applies when no flag gives them. Every key is optional; one left out
// leaves that setting as each listener has it.
//
//	[tune]
//	scheduler = "WRR"                 # WRR, LEAST_CONN or IP_HASH
//	session_persistence = 0           # seconds; 0 off, else 30-86400 (30-3600 on TCP)
//	health_check = true               # on (true) or off (false)
//	health_check_type = "HTTP"        # TCP or HTTP; HTTPS on rules of HTTPS listeners
//	health_check_path = "/healthz"
//	health_check_domain = "www.example.com"  # Host of an HTTP(S) check (TCP listeners need one)
//	health_check_interval = 30        # seconds, 2-300
//	health_check_timeout = 5          # seconds, 2-60, below the interval
//	healthy_threshold = 2             # 2-10
//	unhealthy_threshold = 3           # 2-10
//	health_check_http_codes = ["2xx", "3xx"]   # status classes that count as healthy
//	tls_protocols = ["TLSv1.2", "TLSv1.3"]     # per load balancer, HTTP/HTTPS listeners
type TuneTable struct {
	Scheduler            *string  `toml:"scheduler"`
	SessionPersistence   *int64   `toml:"session_persistence"`
	HealthCheck          *bool    `toml:"health_check"`
	HealthCheckType      *string  `toml:"health_check_type"`
	HealthCheckPath      *string  `toml:"health_check_path"`
	HealthCheckDomain    *string  `toml:"health_check_domain"`
	HealthCheckInterval  *int64   `toml:"health_check_interval"`
	HealthCheckTimeout   *int64   `toml:"health_check_timeout"`
	HealthyThreshold     *int64   `toml:"healthy_threshold"`
	UnhealthyThreshold   *int64   `toml:"unhealthy_threshold"`
	HealthCheckHTTPCodes []string `toml:"health_check_http_codes"`
	TLSProtocols         []string `toml:"tls_protocols"`
}

// Duration is a time.Duration written as "90s" or "3m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like 90s or 3m", b)
	}
	d.Duration = v
	return nil
}

// Load reads the config file at path. A missing file is an empty config
// unless the user named it explicitly.
func Load(path string, explicit bool) (*File, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return &File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	f := File{Path: path}
	md, err := toml.Decode(string(content), &f)
	if err != nil {
		return nil, decodeError(path, string(content), err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, unknownSettings(path, string(content), undecoded)
	}
	seen := map[string]bool{}
	for i, d := range f.Deploy {
		switch {
		case d.Lineage == "":
			return nil, fmt.Errorf("config file %s: [[deploy]] entry %d has no lineage: name the directory under live/, e.g. lineage = \"example.com\"", path, i+1)
		case seen[d.Lineage]:
			return nil, fmt.Errorf("config file %s: two [[deploy]] entries for lineage %q: merge them", path, d.Lineage)
		case d.Keep < 0:
			return nil, fmt.Errorf("config file %s: [[deploy]] %s: keep = %d: give 0 or more", path, d.Lineage, d.Keep)
		}
		seen[d.Lineage] = true
	}
	for i, n := range f.Notify {
		if n.On != "" && n.On != "failures" && n.On != "all" {
			return nil, fmt.Errorf("config file %s: [[notify]] entry %d: on = %q: give \"failures\" or \"all\"", path, i+1, n.On)
		}
	}
	if (f.SecretID != "" || f.SecretKey != "" || len(f.Notify) > 0) && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("config file %s holds a secret but is readable by others (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	return &f, nil
}

// secretKeys are the settings whose values are secret.
var secretKeys = []string{"secret_id", "secret_key", "secret", "url"}

// settingNames are the names the file may use, at any depth. Any other name
// may be a secret pasted in the wrong place, so it is never quoted back.
func settingNames() map[string]bool {
	names := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
			if name != "" && name != "-" {
				names[name] = true
				walk(t.Field(i).Type)
			}
		}
	}
	walk(reflect.TypeOf(File{}))
	return names
}

// known reports whether every part of a dotted name is a setting's name.
func known(names map[string]bool, parts ...string) bool {
	for _, p := range parts {
		if !names[p] {
			return false
		}
	}
	return len(parts) > 0
}

// lineKey is the dotted name a line sets or the table it opens, split into
// its parts, with any quotes removed.
func lineKey(line string) []string {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "[") {
		line = strings.Trim(line, "[] \t")
	} else if k, _, ok := strings.Cut(line, "="); ok {
		line = k
	} else {
		return nil
	}
	parts := strings.Split(line, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return parts
}

// unknownSettings names each unknown setting by its line, never by its
// text (it may be a secret), and suggests the setting it resembles.
func unknownSettings(path, content string, keys []toml.Key) error {
	names := settingNames()
	lines := strings.Split(content, "\n")
	var what []string
	for _, k := range keys {
		if known(names, k...) {
			what = append(what, k.String())
			continue
		}
		desc := "(name not shown: it could be a secret)"
		for i, line := range lines {
			if parts := lineKey(line); len(parts) > 0 && parts[len(parts)-1] == k[len(k)-1] {
				desc = fmt.Sprintf("on line %d (name not shown: it could be a secret)", i+1)
				break
			}
		}
		if near := nearest(names, k[len(k)-1]); near != "" {
			desc += fmt.Sprintf(", did you mean %s?", near)
		}
		what = append(what, desc)
	}
	return fmt.Errorf("config file %s: unknown setting %s: check the spelling against the README", path, strings.Join(what, "; "))
}

// nearest is the setting name within two edits of name, if there is one.
func nearest(names map[string]bool, name string) string {
	best, bestDist := "", 3
	for n := range names {
		if d := editDistance(n, name); d < bestDist || (d == bestDist && best != "" && n < best) {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// decodeError explains a file that does not decode. The parser's message
// quotes what it found, which may be part of a secret: on a secret's line
// (secret_key = unquoted…), or on a line whose name is no setting (a secret
// pasted alone or as a name). There only the line and the fix are said.
func decodeError(path, content string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	n := pe.Position.Line
	line := ""
	if lines := strings.Split(content, "\n"); n >= 1 && n <= len(lines) {
		line = lines[n-1]
	}
	names := settingNames()
	lastKey := strings.Split(pe.LastKey, ".")
	if pe.LastKey == "" {
		lastKey = nil
	}
	if strings.Contains(pe.Message, "has already been defined") && known(names, lastKey...) {
		return fmt.Errorf("config file %s, line %d: %s is set twice (values not shown): keep one", path, n, pe.LastKey)
	}
	for _, k := range secretKeys {
		if pe.LastKey == k || strings.Contains(line, k) {
			return fmt.Errorf("config file %s, line %d: the value of %s cannot be read (not shown: it is secret): write it as a quoted string, e.g. %s = \"…\"", path, n, k, k)
		}
	}
	if known(names, lineKey(line)...) && (lastKey == nil || known(names, lastKey...)) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return fmt.Errorf("config file %s, line %d cannot be read (not shown: it could hold a secret): write each setting as name = \"value\" with a name from the README", path, n)
}
