package clbopts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/tune"
)

// TuneFlags are clbcert tune's settings, named as tune.Field* names them.
func TuneFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: tune.FieldScheduler, Usage: "scheduling `NAME`: WRR, LEAST_CONN or IP_HASH"},
		&cli.StringFlag{Name: tune.FieldSessionPersistence, Usage: "session persistence `SECONDS` (30s, 10m), 0 or off to turn it off"},
		&cli.StringFlag{Name: tune.FieldHealthCheck, Usage: "health check `on|off`"},
		&cli.StringFlag{Name: tune.FieldHealthCheckType, Usage: "health check `TYPE`: TCP or HTTP; HTTPS on rules of HTTPS listeners whose backends serve HTTPS"},
		&cli.StringFlag{Name: tune.FieldHealthCheckPath, Usage: "HTTP or HTTPS health check `PATH`, e.g. /healthz"},
		&cli.StringFlag{Name: tune.FieldHealthCheckDomain, Usage: "HTTP or HTTPS health check Host `NAME` (a TCP listener's HTTP check needs one)"},
		&cli.StringFlag{Name: tune.FieldHealthCheckInterval, Usage: "`SECONDS` between checks, 2-300 (30 or 30s)"},
		&cli.StringFlag{Name: tune.FieldHealthCheckTimeout, Usage: "`SECONDS` a check may take, 2-60 and below the interval"},
		&cli.StringFlag{Name: tune.FieldHealthyThreshold, Usage: "successes that make a backend healthy: `N`, 2-10"},
		&cli.StringFlag{Name: tune.FieldUnhealthyThreshold, Usage: "failures that make a backend unhealthy: `N`, 2-10"},
		&cli.StringFlag{Name: tune.FieldHTTPCodes, Usage: "HTTP status `CLASSES` that count as healthy, e.g. 2xx,3xx (or CLB's bit mask, 6)"},
		&cli.StringFlag{Name: tune.FieldTLSProtocols, Usage: "TLS `VERSIONS` of the load balancer's HTTP/HTTPS listeners, e.g. TLSv1.2,TLSv1.3"},
	}
}

// fileKey is the [tune] key of a flag (config.TuneTable's): its name with underscores.
func fileKey(field string) string { return strings.ReplaceAll(field, "-", "_") }

// Tune is the settings of TuneFlags, each from its flag if set,
// else from the config file's [tune] table, checked against CLB's ranges.
// A bad value is a UsageError naming the flag (or the file's key) and what
// to give instead.
func Tune(c *cli.Context, s *clbcli.Settings) (tune.Settings, error) {
	var out tune.Settings
	f := s.File.Tune
	fromFile := map[string]bool{}
	bad := func(field, value, fix string) error {
		return tuneError(s.File.Path, field, fromFile[field], value, fix)
	}
	str := func(field string, file *string) (*string, bool) {
		if c.IsSet(field) {
			v := strings.TrimSpace(c.String(field))
			return &v, true
		}
		if file != nil {
			fromFile[field] = true
		}
		return file, false
	}
	// num reads a whole number from its flag with parse, else the file.
	num := func(field string, file *int64, parse func(string) (int64, error), fix string) (*int64, error) {
		if !c.IsSet(field) {
			if file != nil {
				fromFile[field] = true
			}
			return file, nil
		}
		v := strings.TrimSpace(c.String(field))
		n, err := parse(v)
		if err != nil {
			return nil, bad(field, v, fix)
		}
		return &n, nil
	}
	integer := func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
	var err error
	out.Scheduler, _ = str(tune.FieldScheduler, f.Scheduler)
	if out.Scheduler != nil {
		up := strings.ToUpper(*out.Scheduler)
		out.Scheduler = &up
	}
	session := func(s string) (int64, error) {
		if s == "off" {
			return 0, nil
		}
		return parseSeconds(s)
	}
	if out.SessionExpireTime, err = num(tune.FieldSessionPersistence, f.SessionPersistence, session, "give seconds (0 or off to turn it off, else 30-86400), e.g. 600 or 10m"); err != nil {
		return out, err
	}
	if v, flag := str(tune.FieldHealthCheck, nil); flag {
		on, err := parseOnOff(*v)
		if err != nil {
			return out, bad(tune.FieldHealthCheck, *v, "give on or off")
		}
		out.HealthCheck.On = &on
	} else if f.HealthCheck != nil {
		fromFile[tune.FieldHealthCheck] = true
		out.HealthCheck.On = f.HealthCheck
	}
	h := &out.HealthCheck
	if h.Type, _ = str(tune.FieldHealthCheckType, f.HealthCheckType); h.Type != nil {
		up := strings.ToUpper(*h.Type)
		h.Type = &up
	}
	h.Path, _ = str(tune.FieldHealthCheckPath, f.HealthCheckPath)
	h.Domain, _ = str(tune.FieldHealthCheckDomain, f.HealthCheckDomain)
	const secondsFix, countFix = "give whole seconds, e.g. 30 or 30s", "give a whole number, 2-10"
	if h.Interval, err = num(tune.FieldHealthCheckInterval, f.HealthCheckInterval, parseSeconds, secondsFix); err != nil {
		return out, err
	}
	if h.Timeout, err = num(tune.FieldHealthCheckTimeout, f.HealthCheckTimeout, parseSeconds, secondsFix); err != nil {
		return out, err
	}
	if h.HealthyThreshold, err = num(tune.FieldHealthyThreshold, f.HealthyThreshold, integer, countFix); err != nil {
		return out, err
	}
	if h.UnhealthyThreshold, err = num(tune.FieldUnhealthyThreshold, f.UnhealthyThreshold, integer, countFix); err != nil {
		return out, err
	}
	codes := f.HealthCheckHTTPCodes
	if c.IsSet(tune.FieldHTTPCodes) {
		codes = splitList(c.String(tune.FieldHTTPCodes))
	} else if codes != nil {
		fromFile[tune.FieldHTTPCodes] = true
	}
	if codes != nil {
		mask, err := parseHTTPCodes(codes)
		if err != nil {
			return out, bad(tune.FieldHTTPCodes, strings.Join(codes, ","), "give status classes such as 2xx,3xx (1xx-5xx), or a bit mask 1-31")
		}
		h.HTTPCodes = &mask
	}
	if c.IsSet(tune.FieldTLSProtocols) {
		out.TLSProtocols = splitList(c.String(tune.FieldTLSProtocols))
		if out.TLSProtocols == nil {
			out.TLSProtocols = []string{}
		}
	} else if f.TLSProtocols != nil {
		fromFile[tune.FieldTLSProtocols] = true
		out.TLSProtocols = f.TLSProtocols
	}
	if err := out.Validate(); err != nil {
		var fe *tune.FieldError
		if errors.As(err, &fe) {
			return out, tuneError(s.File.Path, fe.Field, fromFile[fe.Field], fe.Value, fe.Fix)
		}
		return out, clbcli.UsageError{Err: err}
	}
	return out, nil
}

func tuneError(path, field string, fromFile bool, value, fix string) error {
	if fromFile {
		return clbcli.Usagef("config file %s, [tune] %s = %s: %s", path, fileKey(field), value, fix)
	}
	return clbcli.Usagef("--%s %s: %s", field, value, fix)
}

// parseSeconds reads "30" or a Go duration of whole seconds ("30s", "10m").
func parseSeconds(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d%time.Second != 0 {
		return 0, errors.New("not whole seconds")
	}
	return int64(d / time.Second), nil
}

func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, errors.New("not on or off")
}

// parseHTTPCodes reads status classes ("2xx") or one bit mask ("6").
func parseHTTPCodes(codes []string) (int64, error) {
	if len(codes) == 1 {
		if n, err := strconv.ParseInt(codes[0], 10, 64); err == nil {
			return n, nil
		}
	}
	var mask int64
	for _, c := range codes {
		c = strings.ToLower(c)
		if len(c) != 3 || c[1:] != "xx" || c[0] < '1' || c[0] > '5' {
			return 0, fmt.Errorf("%q is not a status class", c)
		}
		mask |= 1 << (c[0] - '1')
	}
	return mask, nil
}

// splitList splits on commas and spaces; nil when there is nothing.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// Hint phrases the typed hints of package tune with clbcert tune's flags,
// for cli.Run.
func Hint(err error) string {
	return clbcli.Hints{
		{tune.ErrNoSelection, "pass --all for every load balancer"},
		{tune.ErrNoSettings, "pass at least one setting (e.g. --health-check-interval 30), or put them in the config file's [tune] table"},
		{tune.ErrUnknownTarget, "the regions are those of --region, CLBCERT_REGIONS or the config file's regions"},
	}.Hint(err)
}
