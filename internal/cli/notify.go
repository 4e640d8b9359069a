package cli

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/notify"
)

const flagNotify = "notify"

// NotifyFlag is --notify URL, a one-off webhook besides the [[notify]]
// entries, for clbcert-deploy and clbcert-watch; Resolve reads both into
// Settings.Notify.
func NotifyFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: flagNotify, Usage: "also notify the webhook `URL` of failures (repeatable); the kind is guessed from the host (WeCom, DingTalk, Feishu, Slack, else json) or given first, as in slack+https://…"}
}

// NotifyLevelFlag is clbcert status's --notify: tell the [[notify]]
// entries when a lineage's level gets worse than at its last notification.
func NotifyLevelFlag() cli.Flag {
	return &cli.BoolFlag{Name: flagNotify, Usage: "notify the config file's [[notify]] entries when a lineage's level gets worse than at its last notification (kept in the state dir)"}
}

// notifyEndpoints are the [[notify]] entries, checked, and the --notify
// URLs where the command has NotifyFlag.
func notifyEndpoints(c *cli.Context, f *config.File) ([]notify.Endpoint, error) {
	var out []notify.Endpoint
	for i, n := range f.Notify {
		e := endpoint(n)
		if err := e.Check(); err != nil {
			return nil, UsageError{fmt.Errorf("config file %s: [[notify]] entry %d: %w", f.Path, i+1, err)}
		}
		out = append(out, e)
	}
	for _, raw := range c.StringSlice(flagNotify) {
		kind, u := notify.GuessKind(raw)
		e := notify.Endpoint{URL: u, Kind: kind}
		if err := e.Check(); err != nil {
			return nil, Usagef("--%s: %v", flagNotify, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// endpoint is a [[notify]] entry as package notify takes it.
func endpoint(n config.NotifyEntry) notify.Endpoint {
	kind, raw := notify.GuessKind(n.URL)
	if n.Kind != "" {
		kind = notify.Kind(n.Kind)
	}
	return notify.Endpoint{URL: raw, Kind: kind, Secret: n.Secret, All: n.On == "all"}
}

// Notifier sends to Settings.Notify, scrubbing redact (the API key, say)
// from every message; it logs what it cannot deliver.
func (s *Settings) Notifier(redact ...string) (*notify.Notifier, error) {
	host, _ := os.Hostname()
	n, err := notify.New(s.Notify, notify.Options{Host: host, Redact: redact, Logger: s.Logger})
	if err != nil {
		return nil, UsageError{err}
	}
	return n, nil
}
