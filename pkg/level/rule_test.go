package level

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestExpiry(t *testing.T) {
	nb := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cert := func(lifetime, renewBefore time.Duration) Cert {
		return Cert{NotBefore: nb, NotAfter: nb.Add(lifetime), RenewBefore: renewBefore}
	}
	const h, d = time.Hour, day
	lifetime := Rule{}
	absolute := Rule{WarnDays: 30, CriticalDays: 7}
	tight := Rule{WarnDays: 3, CriticalDays: 1}
	tests := []struct {
		name string
		rule Rule
		cert Cert
		age  time.Duration
		want Level
		due  time.Duration // renewal due after notBefore; 0 means not checked
		says string
	}{
		// 160 hours (Let's Encrypt shortlived): due at L/2 = 80 h, grace 16 h,
		// window 80 h, critical at 40 h left.
		{"160h fresh", lifetime, cert(160*h, 0), 0, OK, 80 * h, "renewal due on"},
		{"160h before due", lifetime, cert(160*h, 0), 80*h - time.Second, OK, 80 * h, "renewal due on"},
		{"160h at due", lifetime, cert(160*h, 0), 80 * h, OK, 80 * h, "renewal due since"},
		{"160h end of grace", lifetime, cert(160*h, 0), 96*h - time.Second, OK, 0, ""},
		{"160h overdue", lifetime, cert(160*h, 0), 96 * h, Warning, 0, "renewal overdue"},
		{"160h half window left", lifetime, cert(160*h, 0), 120*h - time.Second, Warning, 0, ""},
		{"160h half window gone", lifetime, cert(160*h, 0), 120 * h, Critical, 0, "less than half"},
		{"160h expired", lifetime, cert(160*h, 0), 160 * h, Critical, 0, "expired"},
		{"160h not yet valid", lifetime, cert(160*h, 0), -time.Second, Critical, 0, "not valid until"},
		// renew_before_expiry = 2 days: due at 112 h, window 48 h.
		{"160h rbe before grace", lifetime, cert(160*h, 48*h), 128*h - time.Second, OK, 112 * h, ""},
		{"160h rbe overdue", lifetime, cert(160*h, 48*h), 128 * h, Warning, 112 * h, ""},
		{"160h rbe critical", lifetime, cert(160*h, 48*h), 136 * h, Critical, 112 * h, ""},
		// Absolute days: 30/7 makes a shortlived certificate critical all
		// its life, which is why the lifetime rule is the default.
		{"160h absolute fresh", absolute, cert(160*h, 0), 0, Critical, 0, "6 days left (critical at 7)"},
		{"160h tight fresh", tight, cert(160*h, 0), 0, OK, 0, "6 days left"},
		{"160h tight warning", tight, cert(160*h, 0), 88 * h, Warning, 0, "3 days left (warning at 3)"},
		{"160h tight critical", tight, cert(160*h, 0), 136 * h, Critical, 0, "1 day left (critical at 1)"},

		// 45 days: due at 30 d, grace 3 d, window 15 d, critical at 7.5 d left.
		{"45d before due", lifetime, cert(45*d, 0), 30*d - time.Second, OK, 30 * d, ""},
		{"45d in grace", lifetime, cert(45*d, 0), 33*d - time.Second, OK, 30 * d, ""},
		{"45d overdue", lifetime, cert(45*d, 0), 33 * d, Warning, 30 * d, ""},
		{"45d before critical", lifetime, cert(45*d, 0), 37*d + 12*h - time.Second, Warning, 30 * d, ""},
		{"45d critical", lifetime, cert(45*d, 0), 37*d + 12*h, Critical, 30 * d, ""},
		// renew_before_expiry = 10 days: due at 35 d, window 10 d.
		{"45d rbe in grace", lifetime, cert(45*d, 10*d), 38*d - time.Second, OK, 35 * d, ""},
		{"45d rbe overdue", lifetime, cert(45*d, 10*d), 38 * d, Warning, 35 * d, ""},
		{"45d rbe critical", lifetime, cert(45*d, 10*d), 40 * d, Critical, 35 * d, ""},
		// Absolute 30/7 warns 15 days of every healthy cycle.
		{"45d absolute 31 left", absolute, cert(45*d, 0), 14 * d, OK, 0, ""},
		{"45d absolute 30 left", absolute, cert(45*d, 0), 15 * d, Warning, 0, "30 days left (warning at 30)"},
		{"45d absolute 7 left", absolute, cert(45*d, 0), 38 * d, Critical, 0, ""},

		// 90 days: due at 60 d, grace 3 d, window 30 d, critical at 15 d left.
		{"90d renewed by certbot now", lifetime, cert(90*d, 0), 60 * d, OK, 60 * d, ""},
		{"90d in grace", lifetime, cert(90*d, 0), 63*d - time.Second, OK, 60 * d, ""},
		{"90d overdue", lifetime, cert(90*d, 0), 63 * d, Warning, 60 * d, ""},
		{"90d before critical", lifetime, cert(90*d, 0), 75*d - time.Second, Warning, 60 * d, ""},
		{"90d critical", lifetime, cert(90*d, 0), 75 * d, Critical, 60 * d, ""},
		// Days left are rounded down, as the headline's (lineage.DaysLeft) are.
		{"90d overdue, 26.5 days left", lifetime, cert(90*d, 0), 63*d + 12*h, Warning, 60 * d, ", 26 days left"},
		{"90d critical, 14.5 days left", lifetime, cert(90*d, 0), 75*d + 12*h, Critical, 60 * d, "14 days left, less than half"},
		// renew_before_expiry = 20 days: due at 70 d, window 20 d.
		{"90d rbe in grace", lifetime, cert(90*d, 20*d), 73*d - time.Second, OK, 70 * d, ""},
		{"90d rbe overdue", lifetime, cert(90*d, 20*d), 73 * d, Warning, 70 * d, ""},
		{"90d rbe critical", lifetime, cert(90*d, 20*d), 80 * d, Critical, 70 * d, ""},
		// renew_before_expiry beyond the lifetime: certbot renews at every run.
		{"90d rbe too long", lifetime, cert(90*d, 100*d), 0, OK, time.Nanosecond, ""},
		// Absolute 30/7 warns the moment certbot renews.
		{"90d absolute at renewal", absolute, cert(90*d, 0), 60 * d, Warning, 0, ""},
		{"90d absolute 31 left", absolute, cert(90*d, 0), 59 * d, OK, 0, ""},
		{"90d absolute 7 left", absolute, cert(90*d, 0), 83 * d, Critical, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.rule.Expiry(tt.cert, nb.Add(tt.age))
			if v.Level != tt.want {
				t.Errorf("level %s (%s), want %s", v.Level, v.Reason, tt.want)
			}
			if v.Lifetime != tt.cert.Lifetime() {
				t.Errorf("lifetime %s, want %s", v.Lifetime, tt.cert.Lifetime())
			}
			switch {
			case tt.due == time.Nanosecond:
				if !v.RenewalDue.Equal(nb) {
					t.Errorf("renewal due %s, want notBefore %s", v.RenewalDue, nb)
				}
			case tt.due != 0 && !v.RenewalDue.Equal(nb.Add(tt.due)):
				t.Errorf("renewal due %s, want %s", v.RenewalDue, nb.Add(tt.due))
			}
			if v.Reason == "" || !strings.Contains(v.Reason, tt.says) {
				t.Errorf("reason %q, want it to say %q", v.Reason, tt.says)
			}
		})
	}
}

func TestDeployLag(t *testing.T) {
	written := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		rule   Rule
		places int
		age    time.Duration
		want   Level
	}{
		{"none lagging", Rule{}, 0, 48 * time.Hour, OK},
		{"fresh", Rule{}, 2, 0, Warning},
		{"within default grace", Rule{}, 2, time.Hour - time.Second, Warning},
		{"default grace over", Rule{}, 2, time.Hour, Critical},
		{"own grace", Rule{DeployGrace: 10 * time.Minute}, 1, 10 * time.Minute, Critical},
		{"clock behind the file", Rule{}, 1, -time.Minute, Warning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.rule.DeployLag(tt.places, written, written.Add(tt.age))
			if v.Level != tt.want || v.Reason == "" {
				t.Errorf("%s (%q), want %s with a reason", v.Level, v.Reason, tt.want)
			}
		})
	}
}

func TestJudgeTakesTheWorse(t *testing.T) {
	nb := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := Cert{NotBefore: nb, NotAfter: nb.Add(90 * day)}
	v := Rule{}.Judge(c, 1, nb, nb.Add(time.Minute))
	if v.Level != Warning || !strings.Contains(v.Reason, "older certificate") {
		t.Errorf("fresh leaf lagging: %s %q, want WARNING about the older certificate", v.Level, v.Reason)
	}
	v = Rule{}.Judge(c, 1, nb, nb.Add(64*day))
	if v.Level != Critical || !strings.Contains(v.Reason, "renewal overdue") || !strings.Contains(v.Reason, "older certificate") {
		t.Errorf("overdue and lagging: %s %q, want CRITICAL with both reasons", v.Level, v.Reason)
	}
	v = Rule{}.Judge(c, 0, nb, nb.Add(64*day))
	if v.Level != Warning {
		t.Errorf("overdue, nothing lagging: %s, want WARNING", v.Level)
	}
}

func TestRuleCheck(t *testing.T) {
	for _, tt := range []struct {
		rule Rule
		ok   bool
	}{
		{Rule{}, true},
		{Rule{WarnDays: 30, CriticalDays: 7}, true},
		{Rule{WarnDays: 3}, false}, // critical defaults to 7, above warning
		{Rule{CriticalDays: 1}, true},
		{Rule{WarnDays: 5, CriticalDays: 6}, false},
		{Rule{WarnDays: -1, CriticalDays: -2}, false},
		{Rule{DeployGrace: -time.Second}, false},
	} {
		if err := tt.rule.Check(); (err == nil) != tt.ok {
			t.Errorf("%+v: Check() = %v, want ok %v", tt.rule, err, tt.ok)
		}
	}
}

func TestLevelOrderAndJSON(t *testing.T) {
	if Worse(Warning, Unknown) != Unknown || Worse(Critical, Unknown) != Critical || Worse(OK, Warning) != Warning {
		t.Error("Worse: want CRITICAL > UNKNOWN > WARNING > OK")
	}
	if !Critical.WorseThan(Unknown) || Warning.WorseThan(Warning) {
		t.Error("WorseThan")
	}
	for _, l := range []Level{OK, Warning, Critical, Unknown} {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back Level
		if err := json.Unmarshal(b, &back); err != nil || back != l {
			t.Errorf("%s: JSON %s read back as %s, %v", l, b, back, err)
		}
	}
	if _, err := Parse("SEVERE"); err == nil {
		t.Error("Parse accepted SEVERE")
	}
}

func TestWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * day: "45 days", 36 * time.Hour: "36 hours", day: "24 hours", 90 * time.Minute: "90 minutes",
		160*time.Hour - time.Second: "160 hours", 5 * day: "120 hours", 7*day + 13*time.Hour: "8 days",
		time.Minute: "60 seconds", time.Second: "1 second",
	} {
		if got := Words(d); got != want {
			t.Errorf("Words(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestLeft(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * day: "45 days", 7*day + 23*time.Hour: "7 days", 160*time.Hour - time.Second: "159 hours",
		2*time.Hour - time.Second: "119 minutes", 119 * time.Second: "119 seconds", time.Second: "1 second",
	} {
		if got := Left(d); got != want {
			t.Errorf("Left(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestRenewalPeriod(t *testing.T) {
	nb := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name        string
		lifetime    time.Duration
		renewBefore time.Duration
		want        time.Duration
	}{
		{"90 days: due at 60, 3 days' grace", 90 * day, 0, 63 * day},
		{"160 hours: due at 80 h, 16 h grace", 160 * time.Hour, 0, 96 * time.Hour},
		{"90 days, renew_before_expiry 10 days", 90 * day, 10 * day, 83 * day},
	} {
		c := Cert{NotBefore: nb, NotAfter: nb.Add(tt.lifetime), RenewBefore: tt.renewBefore}
		if got := c.RenewalPeriod(); got != tt.want {
			t.Errorf("%s: RenewalPeriod() = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestUnrenewed(t *testing.T) {
	nb := time.Date(2016, 3, 1, 0, 0, 0, 0, time.UTC)
	ca := Cert{NotBefore: nb, NotAfter: nb.AddDate(10, 0, 0)}
	for _, tt := range []struct {
		name string
		rule Rule
		left time.Duration
		want Level
	}{
		{"lifetime rule: a CA with a year left is OK", Rule{}, 365 * day, OK},
		{"lifetime rule: 30 days left warns", Rule{}, 30 * day, Warning},
		{"lifetime rule: 7 days left is critical", Rule{}, 7 * day, Critical},
		{"absolute rule kept", Rule{WarnDays: 60, CriticalDays: 10}, 45 * day, Warning},
	} {
		if got := tt.rule.Unrenewed().Expiry(ca, ca.NotAfter.Add(-tt.left)).Level; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
