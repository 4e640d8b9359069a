package acmetest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Certbot runs the real certbot against a Pebble, with all of certbot's state in one directory.
type Certbot struct {
	pebble *Pebble
	dir    string
	env    []string
}

// Result is what one certbot run produced.
type Result struct {
	Args     []string // certbot's full argument list, as run
	Stdout   string
	Stderr   string
	Duration time.Duration
	ExitCode int // -1 when certbot was killed or never started
}

// NewCertbot returns a Certbot whose config, work and logs directories live under dir and whose
// runs see env (e.g. PATH with the hook binaries) on top of the test's environment.
func NewCertbot(p *Pebble, dir string, env []string) *Certbot {
	if abs, err := filepath.Abs(dir); err == nil {
		// Certbot records paths in renewal/*.conf and hands them to hooks; a relative one would
		// depend on the working directory of whoever reads it.
		dir = abs
	}
	return &Certbot{pebble: p, dir: dir, env: env}
}

// ConfigDir is certbot's --config-dir (the equivalent of /etc/letsencrypt).
func (c *Certbot) ConfigDir() string { return filepath.Join(c.dir, "config") }

// LogPath is certbot's current debug log; each run rotates the previous one to a numbered name.
func (c *Certbot) LogPath() string { return filepath.Join(c.dir, "logs", "letsencrypt.log") }

// LivePath is the live/NAME directory of lineage name (cert.pem, chain.pem, fullchain.pem,
// privkey.pem).
func (c *Certbot) LivePath(name string) string { return filepath.Join(c.ConfigDir(), "live", name) }

// Leaf parses the leaf certificate of lineage name (live/NAME/cert.pem).
func (c *Certbot) Leaf(name string) (*x509.Certificate, error) {
	path := filepath.Join(c.LivePath(name), "cert.pem")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acmetest: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("acmetest: %s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("acmetest: %s: %w", path, err)
	}
	return cert, nil
}

// Run runs `certbot SUBCOMMAND ARGS...`; args[0] must be the subcommand. The harness puts its
// own flags right after the subcommand (state directories, --non-interactive, --agree-tos,
// -m test@example.test, --server, and for renew --no-random-sleep-on-renew), so a later value
// in args (say -m or --server) overrides the harness's. certbot is killed, with every hook it started, when ctx ends. The error
// is non-nil when certbot does not exit 0 and then carries the tails of certbot's stdout (where
// it prints the CA's problem detail), its stderr, its log and pebble's log.
func (c *Certbot) Run(ctx context.Context, args ...string) (Result, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return Result{ExitCode: -1}, errors.New(`acmetest: Certbot.Run needs the subcommand first, e.g. Run(ctx, "certonly", ...)`)
	}
	argv := append([]string{args[0]}, c.harnessFlags(args[0])...)
	argv = append(argv, args[1:]...)
	res := Result{Args: argv, ExitCode: -1}

	cmd := exec.CommandContext(ctx, "certbot", argv...)
	cmd.Env = append(os.Environ(),
		"REQUESTS_CA_BUNDLE="+c.pebble.CABundle(),
		// requests would send even loopback traffic through an ambient HTTPS_PROXY.
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	)
	cmd.Env = append(cmd.Env, c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd) }
	// Bounds Wait if something outside certbot's process group still holds its output pipes.
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	err := cmd.Start()
	if errors.Is(err, exec.ErrNotFound) {
		return res, fmt.Errorf("acmetest: %w; install with: apt-get install -y certbot pebble", err)
	}
	if err == nil {
		err = waitSweep(cmd)
	}
	res.Duration = time.Since(start)
	res.Stdout = stdout.String()
	res.Stderr = stderr.String()
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return res, fmt.Errorf("acmetest: certbot %s failed after %s: %w\n"+
		"--- certbot stdout (tail) ---\n%s\n"+
		"--- certbot stderr (tail) ---\n%s\n"+
		"--- %s (tail, tracebacks elided) ---\n%s\n"+
		"--- %s (tail) ---\n%s",
		args[0], res.Duration.Round(time.Millisecond), err,
		tail(res.Stdout, 15),
		tail(res.Stderr, 15),
		c.LogPath(), c.logTail(40),
		c.pebble.LogPath(), tailFile(c.pebble.LogPath(), 10))
}

// logTail returns the last n lines of certbot's log without Python tracebacks: certbot ends
// every failed run with two of them, which would otherwise fill the whole tail and hide the
// records before them (the CA's problem document, hook warnings).
func (c *Certbot) logTail(n int) string {
	data, err := os.ReadFile(c.LogPath())
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", c.LogPath(), err)
	}
	var kept []string
	inTraceback := false
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "Traceback (most recent call last):":
			inTraceback = true
		case inTraceback && strings.HasPrefix(line, " "):
			// A frame or its source line; the exception line that ends the traceback is kept.
		default:
			inTraceback = false
			kept = append(kept, line)
		}
	}
	return tail(strings.Join(kept, "\n"), n)
}

// harnessFlags are the flags every run gets. Certbot 2.1 parses all flags for every subcommand,
// so the ACME flags are harmless where unused; --no-random-sleep-on-renew is kept to renew, the
// only subcommand that sleeps (a random 1-480 s when there is no terminal).
func (c *Certbot) harnessFlags(subcommand string) []string {
	flags := []string{
		"--config-dir", c.ConfigDir(),
		"--work-dir", filepath.Join(c.dir, "work"),
		"--logs-dir", filepath.Dir(c.LogPath()),
		"--non-interactive",
		"--agree-tos",
		"-m", "test@example.test",
		"--server", c.pebble.DirectoryURL(),
	}
	if subcommand == "renew" {
		flags = append(flags, "--no-random-sleep-on-renew")
	}
	return flags
}
