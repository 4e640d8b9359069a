package level

import (
	"errors"
	"fmt"
	"time"

	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/plural"
)

const day = 24 * time.Hour

// DefaultWarnDays and DefaultCriticalDays are the absolute days left of a
// rule that sets only one of them, and of Unrenewed.
const (
	DefaultWarnDays     = 30
	DefaultCriticalDays = 7
)

// DefaultDeployGrace is how long a renewed leaf may wait for its
// deployment before the lag is critical: an hour is the rhythm of the
// watcher's retries and of certbot's timer, so a deployment that has not
// happened by then will not happen by itself.
const DefaultDeployGrace = time.Hour

// Rule judges certificates. The zero value is the lifetime rule with the
// default deploy grace.
//
// The lifetime rule follows certbot, so that a healthy setup is OK all its
// life whatever the certificate's lifetime L = notAfter − notBefore:
//   - certbot renews from R, the renewal due: notAfter − renew_before_expiry
//     where renewal/NAME.conf sets it, else notBefore + 2L/3, or + L/2 when
//     L is under 10 days (certbot ≥ 4.0);
//   - WARNING from R + G, G = min(L/10, 3 days): certbot's timer has had
//     time to run and the renewal is overdue;
//   - CRITICAL once half of the renewal window notAfter − R is gone.
//
// WarnDays and CriticalDays, when either is set, replace it with absolute
// days left, as monitoring used to judge 90-day certificates.
type Rule struct {
	// WarnDays and CriticalDays: WARNING with WarnDays days left or
	// fewer, CRITICAL with CriticalDays or fewer. Both 0 means the
	// lifetime rule; one 0 of two means 30 (warning) or 7 (critical).
	WarnDays, CriticalDays int
	// DeployGrace is how long after the lineage's current leaf was written
	// a place still serving an older certificate is only a WARNING;
	// CRITICAL after. 0 means DefaultDeployGrace.
	DeployGrace time.Duration
}

// Absolute reports whether the rule judges by absolute days left.
func (r Rule) Absolute() bool { return r.WarnDays != 0 || r.CriticalDays != 0 }

func (r Rule) withDefaults() Rule {
	if r.Absolute() {
		if r.WarnDays == 0 {
			r.WarnDays = DefaultWarnDays
		}
		if r.CriticalDays == 0 {
			r.CriticalDays = DefaultCriticalDays
		}
	}
	if r.DeployGrace == 0 {
		r.DeployGrace = DefaultDeployGrace
	}
	return r
}

// Unrenewed is the rule for a certificate no certbot renews, such as a
// client CA a person uploads: the lifetime rule would call a ten-year CA
// overdue years before it ends, so it judges by absolute days left, r's
// own or the defaults.
func (r Rule) Unrenewed() Rule {
	if !r.Absolute() {
		r.WarnDays, r.CriticalDays = DefaultWarnDays, DefaultCriticalDays
	}
	return r
}

// Check refuses days below 0, critical above warning, a negative grace.
func (r Rule) Check() error {
	d := r.withDefaults()
	switch {
	case d.WarnDays < 0 || d.CriticalDays < 0 || d.CriticalDays > d.WarnDays:
		return fmt.Errorf("warning at %d days and critical at %d days left: give days of 1 or more, warning at least critical", d.WarnDays, d.CriticalDays)
	case d.DeployGrace < 0:
		return errors.New("a negative deploy grace: give a duration such as 1h")
	}
	return nil
}

// Cert is what the rule needs of a certificate.
type Cert struct {
	NotBefore, NotAfter time.Time
	// RenewBefore is renew_before_expiry of certbot's renewal/NAME.conf;
	// 0 when it is not set (or for a certificate of no lineage).
	RenewBefore time.Duration
}

// Lifetime is notAfter − notBefore.
func (c Cert) Lifetime() time.Duration { return c.NotAfter.Sub(c.NotBefore) }

// RenewalDue is when certbot renews the certificate, within its validity.
func (c Cert) RenewalDue() time.Time {
	l := c.Lifetime()
	var due time.Time
	switch {
	case c.RenewBefore > 0:
		due = c.NotAfter.Add(-c.RenewBefore)
	case l < 10*day:
		due = c.NotBefore.Add(l / 2)
	default:
		due = c.NotBefore.Add(l / 3 * 2)
	}
	// renew_before_expiry longer than the lifetime: certbot renews at
	// every run.
	if due.Before(c.NotBefore) {
		due = c.NotBefore
	}
	return due
}

// RenewalPeriod is how long certbot keeps c as the current certificate:
// from notBefore until its renewal is overdue (the renewal due plus the
// grace the rule gives certbot's timer). Two certificates of this lifetime
// that certbot renews end at most this far apart, however their renewals
// fall; further apart, the one that ends sooner is not being renewed.
func (c Cert) RenewalPeriod() time.Duration { return c.RenewalDue().Add(c.grace()).Sub(c.NotBefore) }

// grace is how long after the renewal due a certificate may still be the
// current one without a warning.
func (c Cert) grace() time.Duration { return min(c.Lifetime()/10, 3*day) }

// Verdict is a level with the facts behind it.
type Verdict struct {
	Level      Level
	Lifetime   time.Duration
	RenewalDue time.Time
	// Reason says in words why the level is what it is, OK included.
	Reason string
}

// Expiry judges c's dates as of now.
func (r Rule) Expiry(c Cert, now time.Time) Verdict {
	r = r.withDefaults()
	v := Verdict{Lifetime: c.Lifetime(), RenewalDue: c.RenewalDue()}
	left := c.NotAfter.Sub(now)
	switch {
	case now.Before(c.NotBefore):
		v.Level, v.Reason = Critical, fmt.Sprintf("not valid until %s: clients refuse it", stamp(c.NotBefore))
	case left <= 0:
		v.Level, v.Reason = Critical, fmt.Sprintf("expired on %s: clients refuse it", stamp(c.NotAfter))
	case r.Absolute():
		days := lineage.DaysLeft(c.NotAfter, now)
		switch {
		case days <= r.CriticalDays:
			v.Level, v.Reason = Critical, fmt.Sprintf("%s left (critical at %d)", plural.Of(days, "day"), r.CriticalDays)
		case days <= r.WarnDays:
			v.Level, v.Reason = Warning, fmt.Sprintf("%s left (warning at %d)", plural.Of(days, "day"), r.WarnDays)
		default:
			v.Reason = fmt.Sprintf("%s left (warning at %d)", plural.Of(days, "day"), r.WarnDays)
		}
	default:
		window := c.NotAfter.Sub(v.RenewalDue)
		overdue := v.RenewalDue.Add(c.grace())
		switch {
		case left <= window/2:
			v.Level, v.Reason = Critical, fmt.Sprintf("%s left, less than half of the %s certbot had to renew it since %s: renew it now", Left(left), Words(window), stamp(v.RenewalDue))
		case !now.Before(overdue):
			v.Level, v.Reason = Warning, fmt.Sprintf("renewal overdue: due since %s (%s ago), %s left: check that certbot renew runs and succeeds", stamp(v.RenewalDue), Words(now.Sub(v.RenewalDue)), Left(left))
		case !now.Before(v.RenewalDue):
			v.Reason = fmt.Sprintf("renewal due since %s; overdue from %s", stamp(v.RenewalDue), stamp(overdue))
		default:
			v.Reason = fmt.Sprintf("renewal due on %s (in %s)", stamp(v.RenewalDue), Words(v.RenewalDue.Sub(now)))
		}
	}
	return v
}

// DeployLag judges places still serving an older certificate than the
// lineage's current leaf, written at written: a deployment that has not
// happened yet is a WARNING for the deploy grace, CRITICAL after it.
// places 0 is OK. Its reason names no command: the caller knows the
// lineage's directory that clbcert-deploy takes.
func (r Rule) DeployLag(places int, written, now time.Time) Verdict {
	r = r.withDefaults()
	if places == 0 {
		return Verdict{Reason: "every place serves the current certificate"}
	}
	age := max(now.Sub(written), 0)
	v := Verdict{Level: Critical}
	if age < r.DeployGrace {
		v.Level = Warning
	}
	v.Reason = fmt.Sprintf("an older certificate is still served on %s, %s after the current one was issued (critical after %s)", plural.Of(places, "target"), Words(age), Words(r.DeployGrace))
	return v
}

// Judge is the worse of Expiry and DeployLag, with both reasons where
// both are not OK.
func (r Rule) Judge(c Cert, lagging int, written, now time.Time) Verdict {
	v := r.Expiry(c, now)
	lag := r.DeployLag(lagging, written, now)
	switch {
	case lag.Level == OK:
	case v.Level == OK:
		v.Level, v.Reason = lag.Level, lag.Reason
	default:
		v.Level, v.Reason = Worse(v.Level, lag.Level), v.Reason+"; "+lag.Reason
	}
	return v
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// Words is a duration for people, rounded to the unit that matters: days
// from a week on, hours from two hours, then minutes and seconds ("45
// days", "160 hours", "90 minutes").
func Words(d time.Duration) string { return words(d, true) }

// Left is a time left in Words' units, rounded down as lineage.DaysLeft
// counts days: a reason never promises more time than the headline's days
// left, nor more than there is.
func Left(d time.Duration) string { return words(d, false) }

func words(d time.Duration, nearest bool) string {
	unit := func(u time.Duration, name string) string {
		n := int64(d / u)
		if nearest {
			n = int64((d + u/2) / u)
		}
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d >= 7*day:
		return unit(day, "day")
	case d >= 2*time.Hour:
		return unit(time.Hour, "hour")
	case d >= 2*time.Minute:
		return unit(time.Minute, "minute")
	}
	return unit(time.Second, "second")
}
