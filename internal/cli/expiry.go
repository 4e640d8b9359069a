package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/level"
)

// Flags of the commands that judge how soon certificates expire.
const (
	flagWarnDays     = "warn-days"
	flagCriticalDays = "critical-days"
	flagDeployGrace  = "deploy-grace"
)

// ExpiryFlags are --warn-days and --critical-days, for the commands that
// judge certificate dates (status, listeners, doctor); Resolve reads them,
// or warn_days and critical_days of the config file, into Settings.Rule.
// Without either the lifetime rule of package level judges: it follows
// certbot's renewal schedule, so that 6-day and 45-day certificates are
// not in alarm for most of their lives.
func ExpiryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: flagWarnDays, DefaultText: "by lifetime", Usage: "WARNING when a certificate has `N` days left or fewer, instead of when its renewal is overdue (30 if only --critical-days is given)"},
		&cli.IntFlag{Name: flagCriticalDays, DefaultText: "by lifetime", Usage: "CRITICAL when a certificate has `N` days left or fewer, instead of when half its renewal window is gone (7 if only --warn-days is given)"},
	}
}

// DeployGraceFlag is --deploy-grace, for the commands that judge a
// deployment lagging behind a renewal (status, clbcert-watch).
func DeployGraceFlag() cli.Flag {
	return &cli.DurationFlag{Name: flagDeployGrace, Value: level.DefaultDeployGrace, Usage: "a target still serving an older certificate is WARNING for `DURATION` after the renewal, CRITICAL after"}
}

// expiryRule reads ExpiryFlags and DeployGraceFlag where the command has
// them, else the config file: days of 1 or more, warning at least
// critical; a positive grace.
func expiryRule(c *cli.Context, f *config.File) (level.Rule, error) {
	var r level.Rule
	if HasFlag(c, flagWarnDays) {
		r.WarnDays, r.CriticalDays = f.WarnDays, f.CriticalDays
		if c.IsSet(flagWarnDays) {
			r.WarnDays = c.Int(flagWarnDays)
		}
		if c.IsSet(flagCriticalDays) {
			r.CriticalDays = c.Int(flagCriticalDays)
		}
		if r.Absolute() {
			if r.WarnDays == 0 && !c.IsSet(flagWarnDays) {
				r.WarnDays = 30
			}
			if r.CriticalDays == 0 && !c.IsSet(flagCriticalDays) {
				r.CriticalDays = 7
			}
			if r.CriticalDays < 1 || r.WarnDays < r.CriticalDays {
				return r, Usagef("--%s %d, --%s %d (or warn_days, critical_days in the config file): give days of 1 or more, --%s at least --%s", flagWarnDays, r.WarnDays, flagCriticalDays, r.CriticalDays, flagWarnDays, flagCriticalDays)
			}
		}
	}
	if HasFlag(c, flagDeployGrace) {
		r.DeployGrace = c.Duration(flagDeployGrace)
		if !c.IsSet(flagDeployGrace) && f.DeployGrace.Duration != 0 {
			r.DeployGrace = f.DeployGrace.Duration
		}
		if r.DeployGrace <= 0 {
			return r, Usagef("--%s %s (or deploy_grace in the config file): give a positive duration such as 1h", flagDeployGrace, r.DeployGrace)
		}
	}
	return r, nil
}
