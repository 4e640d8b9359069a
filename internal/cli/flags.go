// Package cli is what the binaries share of their command lines: the
// flags, Settings (flags over environment over the config file, see
// Resolve), Run with its exit codes, man pages and shell completion, the
// logger, and how a library's typed hint is phrased with the flags,
// environment variables and settings that act on it. It links no CLB
// workflow (clbcert-dns uses it); package clbopts turns settings into the
// options of deploy and tune.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Flag names shared by the binaries.
const (
	flagConfig             = "config"
	flagEndpoint           = "endpoint"
	flagSite               = "site"
	flagDNSServer          = "dns-server"
	flagResolver           = "resolver"
	flagNameserverPort     = "nameserver-port"
	flagPropagationTimeout = "propagation-timeout"
	flagTTL                = "ttl"
	flagCertbotDir         = "certbot-dir"
	flagStateDir           = "state-dir"
	flagLogLevel           = "log-level"
	flagRegion             = "region"
)

// CommonFlags are the flags every binary takes (DESIGN.md, "Common flags").
func CommonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagConfig, EnvVars: []string{"CLBCERT_CONFIG"}, Value: config.DefaultPath, Usage: "config `FILE` (optional; must be mode 0600 if it holds a secret)"},
		&cli.StringFlag{Name: flagEndpoint, EnvVars: []string{"CLBCERT_ENDPOINT"}, Usage: "connect every API request to this `URL`, e.g. http://127.0.0.1:18080 (plain http only for loopback); each request keeps its real host name (clb.ap-guangzhou.tencentcloudapi.com, ...)"},
		&cli.StringFlag{Name: flagSite, EnvVars: []string{"CLBCERT_SITE"}, Usage: "API `SITE`: china (*.tencentcloudapi.com, default) or intl (*.intl.tencentcloudapi.com, for tencentcloud.com accounts)"},
		&cli.StringFlag{Name: flagLogLevel, EnvVars: []string{"CLBCERT_LOG_LEVEL"}, Usage: "log `LEVEL` on stderr: debug, info, warn, error (default: info on a terminal, else warn)"},
		&cli.StringFlag{Name: flagStateDir, EnvVars: []string{"CLBCERT_STATE_DIR"}, Value: "/var/lib/clbcert", Usage: "`DIR` for pending DNS records and deploy history"},
	}
}

// DNSFlags are the flags of the DNS-01 hook.
func DNSFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagDNSServer, EnvVars: []string{"CLBCERT_DNS_SERVER"}, Usage: "check propagation (and CNAMEs) against this `HOST:PORT` only, instead of each zone's authoritative nameservers"},
		&cli.DurationFlag{Name: flagPropagationTimeout, EnvVars: []string{"CLBCERT_PROPAGATION_TIMEOUT"}, Value: 180 * time.Second, Usage: "give up waiting for TXT records after `DURATION`"},
		&cli.Uint64Flag{Name: flagTTL, EnvVars: []string{"CLBCERT_DNS_TTL"}, Value: 600, Usage: "`TTL` of the TXT records (600 is the DNSPod free plan's minimum)"},
		&cli.StringSliceFlag{Name: flagResolver, EnvVars: []string{"CLBCERT_RESOLVER"}, Usage: "resolver `HOST:PORT` used only to find a zone's nameservers (default: /etc/resolv.conf)"},
		&cli.IntFlag{Name: flagNameserverPort, EnvVars: []string{"CLBCERT_NAMESERVER_PORT"}, Value: 53, Usage: "`PORT` authoritative nameservers are asked on"},
	}
}

// CertbotDirFlag is --certbot-dir, for the commands that read certbot's
// lineages (config file: certbot_dir).
func CertbotDirFlag() cli.Flag {
	return &cli.StringFlag{Name: flagCertbotDir, EnvVars: []string{"CLBCERT_CERTBOT_DIR"}, Value: "/etc/letsencrypt", Usage: "certbot's config `DIR`, whose live/* are the lineages (config file: certbot_dir)"}
}

// DeployFlags are the flags of the commands that change load balancers:
// RegionFlag, DryRunFlag and JSONFlag.
func DeployFlags() []cli.Flag {
	return []cli.Flag{RegionFlag(), DryRunFlag(), JSONFlag()}
}

// RegionFlag is --region (CLBCERT_REGIONS; config file: regions).
func RegionFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: flagRegion, EnvVars: []string{"CLBCERT_REGIONS"}, Usage: "CLB `REGION` to work on, e.g. ap-guangzhou (repeatable; env: a comma list)"}
}

// DryRunFlag is --dry-run.
func DryRunFlag() cli.Flag {
	return &cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"}
}

// JSONFlag is --json.
func JSONFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "machine-readable output"}
}

// Settings is what the flags, the environment and the config file resolve to.
type Settings struct {
	File       *config.File
	Endpoint   tencent.Endpoint
	Site       tencent.Site
	StateDir   string
	CertbotDir string // where the command has --certbot-dir
	Regions    []string
	// RegionsGiven says Regions come from --region or CLBCERT_REGIONS,
	// which win over a [[deploy]] entry's regions; the file's regions do not.
	RegionsGiven       bool
	DNSServer          string
	Resolvers          []string
	NameserverPort     int
	PropagationTimeout time.Duration
	TTL                uint64
	Logger             *slog.Logger
	// Rule judges certificates where the command has ExpiryFlags or
	// DeployGraceFlag.
	Rule level.Rule
	// Notify are the webhooks to notify where the command has NotifyFlag
	// or NotifyLevelFlag: the [[notify]] entries, then the --notify URLs.
	Notify []notify.Endpoint
}

// UsageError is bad input: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// Resolve reads the common flags (and the DNS flags where the command has
// them) and fills in from the config file what neither a flag nor the
// environment set.
func Resolve(c *cli.Context, stderr io.Writer) (*Settings, error) {
	f, err := config.Load(c.String(flagConfig), c.IsSet(flagConfig))
	if err != nil {
		return nil, UsageError{err}
	}
	s := &Settings{File: f}
	str := func(name, fromFile string) string {
		if c.IsSet(name) || fromFile == "" {
			return strings.TrimSpace(c.String(name))
		}
		return fromFile
	}
	// from names where a bad value came from: the flag or its variable
	// when either is set, else the config file's key, so the message
	// points at the line to mend. Tested by TestBadSettingsNameTheirSource.
	from := func(name, env, key string) string {
		if c.IsSet(name) {
			return "--" + name + " / " + env
		}
		return fmt.Sprintf("config file %s: %s", f.Path, key)
	}
	level := str(flagLogLevel, f.LogLevel)
	if level == "" && isTerminal(stderr) {
		// A person at a terminal wants the progress lines; certbot, which
		// shows any stderr of a successful hook as "error output", does not.
		level = "info"
	}
	if s.Logger, err = NewLogger(stderr, level); err != nil {
		return nil, Usagef("%s: %w", from(flagLogLevel, "CLBCERT_LOG_LEVEL", "log_level"), err)
	}
	if s.Endpoint, err = tencent.ParseEndpoint(str(flagEndpoint, f.Endpoint)); err != nil {
		return nil, Usagef("%s: %w", from(flagEndpoint, "CLBCERT_ENDPOINT", "endpoint"), err)
	}
	if s.Site, err = tencent.ParseSite(str(flagSite, f.Site)); err != nil {
		return nil, Usagef("%s: %w", from(flagSite, "CLBCERT_SITE", "site"), err)
	}
	s.StateDir = str(flagStateDir, f.StateDir)
	if HasFlag(c, flagCertbotDir) {
		s.CertbotDir = str(flagCertbotDir, f.CertbotDir)
	}
	if HasFlag(c, flagRegion) {
		s.RegionsGiven = c.IsSet(flagRegion)
		for _, r := range pick(c, flagRegion, f.Regions) {
			for _, part := range strings.Split(r, ",") {
				if part = strings.TrimSpace(part); part != "" && !slices.Contains(s.Regions, part) {
					s.Regions = append(s.Regions, part)
				}
			}
		}
	}
	if s.Rule, err = expiryRule(c, f); err != nil {
		return nil, err
	}
	// The [[notify]] entries are checked whatever the command, as when
	// the file is read.
	notifies, err := notifyEndpoints(c, f)
	if err != nil {
		return nil, err
	}
	if HasFlag(c, flagNotify) {
		s.Notify = notifies
	}
	if !HasFlag(c, flagDNSServer) {
		return s, nil
	}
	if s.DNSServer = str(flagDNSServer, f.DNSServer); s.DNSServer != "" {
		if err := checkHostPort(s.DNSServer); err != nil {
			return nil, Usagef("%s %q: %v: give it as HOST:PORT, e.g. 127.0.0.1:53", from(flagDNSServer, "CLBCERT_DNS_SERVER", "dns_server"), s.DNSServer, err)
		}
	}
	for _, r := range pick(c, flagResolver, f.Resolvers) {
		if err := checkHostPort(r); err != nil {
			return nil, Usagef("%s %q: %v: give it as HOST:PORT, e.g. 127.0.0.1:53", from(flagResolver, "CLBCERT_RESOLVER", "resolvers"), r, err)
		}
		s.Resolvers = append(s.Resolvers, r)
	}
	s.NameserverPort = c.Int(flagNameserverPort)
	if s.NameserverPort <= 0 || s.NameserverPort > 65535 {
		return nil, Usagef("--nameserver-port / CLBCERT_NAMESERVER_PORT %d: give a port between 1 and 65535", s.NameserverPort)
	}
	s.PropagationTimeout = c.Duration(flagPropagationTimeout)
	if !c.IsSet(flagPropagationTimeout) && f.PropagationTimeout.Duration != 0 {
		s.PropagationTimeout = f.PropagationTimeout.Duration
	}
	if s.PropagationTimeout <= 0 {
		return nil, Usagef("%s %s: give a positive duration such as 180s", from(flagPropagationTimeout, "CLBCERT_PROPAGATION_TIMEOUT", "propagation_timeout"), s.PropagationTimeout)
	}
	ttl := int64(min(c.Uint64(flagTTL), math.MaxInt64))
	if !c.IsSet(flagTTL) && f.TTL != 0 {
		ttl = f.TTL
	}
	if ttl < 1 || ttl > 604800 {
		return nil, Usagef("%s %d: give a TTL between 1 and 604800 seconds (600 on DNSPod's free plan)", from(flagTTL, "CLBCERT_DNS_TTL", "ttl"), ttl)
	}
	s.TTL = uint64(ttl)
	return s, nil
}

// RegionsOrDeployed is where the commands that only look (status, doctor)
// look: the regions of --region, CLBCERT_REGIONS or the file's regions, or
// else every region a [[deploy]] entry deploys to.
func (s *Settings) RegionsOrDeployed() []string {
	if len(s.Regions) > 0 {
		return s.Regions
	}
	var out []string
	for _, d := range s.File.Deploy {
		for _, r := range d.Regions {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// HasFlag reports whether the running command defines the flag at all
// (FlagNames would list only the flags that were set).
func HasFlag(c *cli.Context, name string) bool {
	if c.Command == nil {
		return false
	}
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

func pick(c *cli.Context, name string, fromFile []string) []string {
	if c.IsSet(name) || len(fromFile) == 0 {
		return c.StringSlice(name)
	}
	return fromFile
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" || port == "" {
		return errors.New("host or port missing")
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// NewLogger makes the stderr logger; level "" means warn, so a hook that
// succeeds prints nothing that certbot would show as "error output".
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	switch strings.ToLower(level) {
	case "", "warn", "warning":
		l = slog.LevelWarn
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Credential loads the API key: the environment, then the config file, then
// Tencent Cloud's profile file and CVM role.
func (s *Settings) Credential(ctx context.Context) (*tencent.Credential, error) {
	home, _ := os.UserHomeDir()
	cred, err := tencent.LoadCredential(ctx, tencent.CredentialOptions{
		LookupEnv:  os.LookupEnv,
		Home:       home,
		FileID:     s.File.SecretID,
		FileKey:    s.File.SecretKey,
		FileSource: "config file " + s.File.Path,
	})
	if err != nil {
		return nil, UsageError{err}
	}
	return cred, nil
}

// Cloud loads the API key and returns what every API client is built from:
// the key, the endpoint and site, the logger, and one rate limiter that
// every client of the process shares, since the limits are the account's.
func (s *Settings) Cloud(ctx context.Context) (tencent.Config, error) {
	cred, err := s.Credential(ctx)
	if err != nil {
		return tencent.Config{}, err
	}
	return tencent.Config{Credential: cred, Endpoint: s.Endpoint, Site: s.Site, Logger: s.Logger, Limiter: tencent.NewLimiter(nil)}, nil
}

// ExitStatus ends a command with that exit status and no message: the
// answer of a check that has written its report, such as clbcert status's
// 1 (warning), 2 (critical) and 3 (unknown).
type ExitStatus int

func (e ExitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// ExitCode maps an error to the exit status of DESIGN.md: 0 done, 1 failed,
// 2 usage or configuration error; an ExitStatus is its own. The README's
// exit codes table rests on TestExitCodes, clbcert's TestUsageErrorsExit2,
// clbcert-deploy's TestBadLineagesChangeNothing,
// TestMissingLineageDirIsAUsageError and
// TestSIGTERMReportsInterruptedAndRerunFinishes, and for clbcert-dns's
// (2: nothing changed in the cloud) on TestBadInput and
// TestUnwritableStateDir.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var es ExitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	var u UsageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// Run runs a binary's app and returns its exit status, printing a failure as
// one line on stderr, with what mends it where Hint or one of more knows.
// It also answers, from the app's definition, shell
// completion requests and the packagers' arguments ManPageArg and
// CompletionArg, which stay out of --help.
func Run(app *cli.App, args []string, stderr io.Writer, more ...Hinter) int {
	app.ErrWriter = stderr
	if app.Writer == nil {
		app.Writer = os.Stdout
	}
	var err error
	switch {
	case len(args) > 1 && args[1] == ManPageArg:
		if len(args) > 2 {
			err = Usagef("%s takes no arguments", ManPageArg)
			break
		}
		err = WriteManPage(app.Writer, app)
	case len(args) > 1 && args[1] == CompletionArg:
		if len(args) != 3 {
			err = Usagef("%s takes one argument: bash or zsh", CompletionArg)
			break
		}
		err = WriteCompletion(app.Writer, app.Name, args[2])
	case completing(args):
		err = writeCompletions(app.Writer, app, args)
	default:
		usage := func(c *cli.Context, err error, _ bool) error { return UsageError{withValueHint(c, err)} }
		app.OnUsageError = usage
		if app.Action == nil && len(app.Commands) > 0 {
			// Without an action of its own, urfave/cli answers an unknown
			// command with "No help topic" and exit status 3. Tested by
			// TestUnknownCommand.
			app.Action = NoCommand
		}
		for _, cmd := range app.Commands {
			cmd.OnUsageError = usage
		}
		app.ExitErrHandler = func(*cli.Context, error) {}
		err = app.Run(args)
	}
	if es := ExitStatus(0); err != nil && !errors.As(err, &es) {
		fmt.Fprintf(stderr, "%s: %s\n", app.Name, hinted(err, append([]Hinter{Hint}, more...)))
	}
	return ExitCode(err)
}

// flagInMessage finds the flag that urfave/cli names in its message about
// a value it could not parse, from a flag ("invalid value "30" for flag
// -propagation-timeout: parse error", "invalid boolean value "x" for
// -dry-run: parse error") or from an environment variable
// ("could not parse ... for flag propagation-timeout: ...").
var flagInMessage = regexp.MustCompile(`for (?:flag )?-{0,2}([A-Za-z0-9-]+)`)

// withValueHint adds to urfave/cli's message about a value it could not
// parse what to give instead, by the flag's type: its own message ends in
// "parse error". Tested by TestBadFlagValueSaysWhatToGive.
func withValueHint(c *cli.Context, err error) error {
	m := flagInMessage.FindStringSubmatch(err.Error())
	if m == nil || c == nil {
		return err
	}
	var flags []cli.Flag
	for _, l := range c.Lineage() {
		if l.Command != nil {
			flags = append(flags, l.Command.Flags...)
		}
	}
	if c.App != nil {
		flags = append(flags, c.App.Flags...)
	}
	for _, f := range flags {
		if !slices.Contains(f.Names(), m[1]) {
			continue
		}
		var hint string
		switch f.(type) {
		case *cli.DurationFlag:
			hint = "give a duration with its unit, e.g. 90s or 3m"
		case *cli.IntFlag, *cli.Int64Flag:
			hint = "give a whole number"
		case *cli.UintFlag, *cli.Uint64Flag:
			hint = "give a whole number, 0 or more"
		case *cli.Float64Flag:
			hint = "give a number, e.g. 0.1"
		case *cli.BoolFlag:
			hint = "give true or false, or the flag alone"
		default:
			return err
		}
		return fmt.Errorf("%w: %s", err, hint)
	}
	return err
}

// NoCommand is the action of an app that has only commands, given none or
// an unknown one: it shows the help, or refuses the unknown command (exit
// 2). Run makes it the action of such an app that has none.
func NoCommand(c *cli.Context) error {
	if c.Args().Present() {
		return Usagef("unknown command %q: run %s --help for the commands", c.Args().First(), c.App.Name)
	}
	return cli.ShowAppHelp(c)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
