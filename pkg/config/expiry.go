package config

import "github.com/urfave/cli/v2"

// Flags of the commands that judge how soon certificates expire.
const (
	flagWarnDays     = "warn-days"
	flagCriticalDays = "critical-days"
)

// ExpiryFlags are --warn-days and --critical-days, for the commands that
// judge certificate dates (status, listeners, doctor); Resolve reads them
// into Settings.WarnDays and Settings.CriticalDays. The defaults follow certbot,
// which renews at 30 days left: a certificate there has missed a renewal,
// and at 7 it is an emergency.
func ExpiryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: flagWarnDays, Value: 30, Usage: "WARNING when a certificate has `N` days left or fewer"},
		&cli.IntFlag{Name: flagCriticalDays, Value: 7, Usage: "CRITICAL when a certificate has `N` days left or fewer"},
	}
}

// expiryDays reads ExpiryFlags: days of 1 or more, warning at least
// critical.
func expiryDays(c *cli.Context) (warn, critical int, err error) {
	warn, critical = c.Int(flagWarnDays), c.Int(flagCriticalDays)
	if critical < 1 || warn < critical {
		return 0, 0, Usagef("--%s %d, --%s %d: give days of 1 or more, --%s at least --%s", flagWarnDays, warn, flagCriticalDays, critical, flagWarnDays, flagCriticalDays)
	}
	return warn, critical, nil
}
