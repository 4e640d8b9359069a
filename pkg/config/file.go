// Package config turns flags, environment variables and the optional config
// file into the plain settings the other packages take. Precedence: a flag
// wins over its environment variable, which wins over the config file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/clbcert/clbcert/pkg/notify"
)

// DefaultPath is where the config file is looked for when none is named.
const DefaultPath = "/etc/clbcert/config.toml"

// File is the config file. Every field is optional.
type File struct {
	Regions            []string `toml:"regions"`
	Endpoint           string   `toml:"endpoint"`
	DNSServer          string   `toml:"dns_server"`
	Resolvers          []string `toml:"resolvers"`
	PropagationTimeout Duration `toml:"propagation_timeout"`
	TTL                uint64   `toml:"ttl"`
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

// Endpoint is the entry as package notify takes it.
func (n NotifyEntry) Endpoint() notify.Endpoint {
	kind, raw := notify.GuessKind(n.URL)
	if n.Kind != "" {
		kind = notify.Kind(n.Kind)
	}
	return notify.Endpoint{URL: raw, Kind: kind, Secret: n.Secret, All: n.On == "all"}
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
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config file %s: unknown setting %s: check the spelling against the README", path, strings.Join(keys, ", "))
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
		if err := n.Endpoint().Check(); err != nil {
			return nil, fmt.Errorf("config file %s: [[notify]] entry %d: %w", path, i+1, err)
		}
	}
	if (f.SecretID != "" || f.SecretKey != "" || len(f.Notify) > 0) && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("config file %s holds a secret but is readable by others (mode %04o): run chmod 600 %s", path, info.Mode().Perm(), path)
	}
	return &f, nil
}

// secretKeys are the settings whose values are secret.
var secretKeys = []string{"secret_id", "secret_key", "secret", "url"}

// decodeError explains a file that does not decode. The parser's message
// quotes what it found, which on a secret's line is part of the secret
// (secret_key = unquoted…): there only the line and the fix are said.
func decodeError(path, content string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	line := ""
	if lines := strings.Split(content, "\n"); pe.Position.Line >= 1 && pe.Position.Line <= len(lines) {
		line = lines[pe.Position.Line-1]
	}
	for _, k := range secretKeys {
		if pe.LastKey == k || strings.Contains(line, k) {
			return fmt.Errorf("config file %s, line %d: the value of %s cannot be read (not shown: it is secret): write it as a quoted string, e.g. %s = \"…\"", path, pe.Position.Line, k, k)
		}
	}
	return fmt.Errorf("config file %s: %w", path, err)
}
