// Command clbcert-dns answers ACME DNS-01 challenges through DNSPod: certbot
// calls it as --manual-auth-hook and --manual-cleanup-hook, lego's exec
// provider as "present FQDN VALUE" and "cleanup FQDN VALUE".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/version"
	"github.com/clbcert/clbcert/pkg/dns01"
	"github.com/clbcert/clbcert/pkg/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := clbcli.Run(app(ctx, os.Stdout, os.Stderr), os.Args, os.Stderr)
	stop()
	os.Exit(code)
}

const certbotUsage = `certbot certonly --manual --preferred-challenges dns \
     -d example.com -d '*.example.com' \
     --manual-auth-hook 'clbcert-dns auth' --manual-cleanup-hook 'clbcert-dns cleanup'`

func app(ctx context.Context, stdout, stderr io.Writer) *cli.App {
	flags := append(clbcli.CommonFlags(), clbcli.DNSFlags()...)
	return &cli.App{
		Name:    "clbcert-dns",
		Version: version.Version,
		Usage:   "answer ACME DNS-01 challenges with TXT records in DNSPod",
		Description: "Run by certbot:\n\n   " + certbotUsage + `

   auth adds TXT _acme-challenge.<domain> (following a CNAME on it into another
   DNSPod zone) and prints the record's identity for cleanup; the last challenge
   of a run waits until every record of the run is served by all authoritative
   nameservers of its zone. cleanup deletes exactly that record and nothing else.

   Credentials: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY
   (+ TENCENTCLOUD_SESSION_TOKEN), secret_id/secret_key in the config file,
   ~/.tencentcloud/credentials, or the CVM role.
   Exit status: 0 done, 1 failed, 2 usage or configuration error.`,
		HideHelpCommand: true,
		// Without a command, the help would go to stdout with exit status
		// 0: certbot, given the hook as plain "clbcert-dns", would take it
		// for a record created and pass the help to cleanup. Tested by
		// TestBadInput ("certbot hook without its command").
		Action: func(c *cli.Context) error {
			if !c.Args().Present() && os.Getenv("CERTBOT_DOMAIN") != "" {
				return clbcli.Usagef("no command given: certbot runs this as --manual-auth-hook 'clbcert-dns auth' and --manual-cleanup-hook 'clbcert-dns cleanup'")
			}
			return clbcli.NoCommand(c)
		},
		Commands: []*cli.Command{
			{
				Name:  "auth",
				Usage: "certbot --manual-auth-hook: add the TXT record (reads CERTBOT_DOMAIN, CERTBOT_VALIDATION, CERTBOT_REMAINING_CHALLENGES, CERTBOT_ALL_DOMAINS)",
				Flags: flags,
				Action: func(c *cli.Context) error {
					if c.Args().Present() {
						return clbcli.Usagef("auth takes no arguments (certbot passes CERTBOT_* variables); for lego use: clbcert-dns present FQDN VALUE")
					}
					hook, ch, err := certbotHook(ctx, c, stderr, false)
					if err != nil {
						return err
					}
					rec, err := hook.Auth(ctx, ch)
					if rec.ID != 0 {
						fmt.Fprintln(stdout, rec)
					}
					return stateError(err)
				},
			},
			{
				Name:      "cleanup",
				Usage:     "certbot --manual-cleanup-hook (no arguments; reads CERTBOT_* and CERTBOT_AUTH_OUTPUT), or lego exec: cleanup FQDN VALUE",
				ArgsUsage: "[FQDN VALUE]",
				Flags:     flags,
				Action: func(c *cli.Context) error {
					if c.NArg() == 2 {
						if err := dns01.CheckName(c.Args().Get(0)); err != nil {
							return clbcli.UsageError{Err: fmt.Errorf("FQDN: %w", err)}
						}
						hook, err := newHook(ctx, c, stderr)
						if err != nil {
							return err
						}
						return hook.CleanupFQDN(ctx, c.Args().Get(0), c.Args().Get(1))
					}
					if c.NArg() != 0 {
						return clbcli.Usagef("cleanup takes no arguments (certbot) or exactly FQDN VALUE (lego exec), got %d", c.NArg())
					}
					hook, ch, err := certbotHook(ctx, c, stderr, true)
					if err != nil {
						return err
					}
					return hook.Cleanup(ctx, ch, os.Getenv("CERTBOT_AUTH_OUTPUT"))
				},
			},
			{
				Name:      "present",
				Usage:     "lego exec provider: add TXT VALUE at FQDN and wait until it is served",
				ArgsUsage: "FQDN VALUE",
				Flags:     flags,
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return clbcli.Usagef("present takes FQDN VALUE, e.g. clbcert-dns present _acme-challenge.example.com. TOKEN")
					}
					if err := dns01.CheckName(c.Args().Get(0)); err != nil {
						return clbcli.UsageError{Err: fmt.Errorf("FQDN: %w", err)}
					}
					hook, err := newHook(ctx, c, stderr)
					if err != nil {
						return err
					}
					rec, err := hook.Present(ctx, c.Args().Get(0), c.Args().Get(1))
					if rec.ID != 0 {
						fmt.Fprintln(stdout, rec)
					}
					return stateError(err)
				},
			},
		},
	}
}

// challengeFromEnv reads the variables certbot sets for manual hooks.
func challengeFromEnv(cleanup bool) (dns01.Challenge, error) {
	hook, lego := "--manual-auth-hook", "present"
	if cleanup {
		hook, lego = "--manual-cleanup-hook", "cleanup"
	}
	var missing []string
	get := func(name string) string {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	ch := dns01.Challenge{Domain: get("CERTBOT_DOMAIN"), Value: get("CERTBOT_VALIDATION")}
	if len(missing) > 0 {
		return ch, clbcli.Usagef("%s not set: run this as certbot's %s (certbot sets it), or use: clbcert-dns %s FQDN VALUE", strings.Join(missing, ", "), hook, lego)
	}
	if err := dns01.CheckName(ch.Domain); err != nil {
		return ch, clbcli.Usagef("CERTBOT_DOMAIN: %w", err)
	}
	if r := strings.TrimSpace(os.Getenv("CERTBOT_REMAINING_CHALLENGES")); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 0 {
			return ch, clbcli.Usagef("CERTBOT_REMAINING_CHALLENGES=%q is not a count", r)
		}
		ch.Remaining = n
	}
	for _, d := range strings.Split(os.Getenv("CERTBOT_ALL_DOMAINS"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			ch.AllDomains = append(ch.AllDomains, d)
		}
	}
	return ch, nil
}

// stateError makes an unwritable state dir a configuration error (exit 2):
// auth and present find it out before creating anything. Tested by
// TestUnwritableStateDir.
func stateError(err error) error {
	if errors.Is(err, store.ErrNotWritable) {
		return clbcli.UsageError{Err: err}
	}
	return err
}

// certbotHook is the hook for the challenge certbot's variables give, to
// answer (auth) or to take back (cleanup).
func certbotHook(ctx context.Context, c *cli.Context, stderr io.Writer, cleanup bool) (*dns01.Hook, dns01.Challenge, error) {
	ch, err := challengeFromEnv(cleanup)
	if err != nil {
		return nil, ch, err
	}
	hook, err := newHook(ctx, c, stderr)
	return hook, ch, err
}

func newHook(ctx context.Context, c *cli.Context, stderr io.Writer) (*dns01.Hook, error) {
	s, err := clbcli.Resolve(c, stderr)
	if err != nil {
		return nil, err
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	resolvers := s.Resolvers
	if len(resolvers) == 0 && s.DNSServer == "" {
		if resolvers, err = dns01.SystemResolvers("/etc/resolv.conf"); err != nil {
			return nil, clbcli.UsageError{Err: err}
		}
	}
	provider, err := dns01.New(cloud, dns01.Options{
		TTL:                s.TTL,
		PropagationTimeout: s.PropagationTimeout,
		DNSServer:          s.DNSServer,
		Resolvers:          resolvers,
		NameserverPort:     s.NameserverPort,
		Logger:             s.Logger,
	})
	if err != nil {
		return nil, clbcli.UsageError{Err: err}
	}
	st, err := store.Open(s.StateDir)
	if err != nil {
		return nil, clbcli.UsageError{Err: err}
	}
	return &dns01.Hook{Provider: provider, Store: st, Log: s.Logger}, nil
}
