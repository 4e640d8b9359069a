package cli

import (
	"errors"

	"github.com/clbcert/clbcert/pkg/dns01"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// A Hinter says what mends an error through the command line (flags,
// environment variables, config file settings), or "" for an error it
// does not know. Run adds the hint to the error's line.
type Hinter func(error) string

// Hint phrases the typed hints of the libraries every binary uses: the
// libraries say what is wrong, the binaries which setting mends it.
func Hint(err error) string {
	hints := Hints{
		{tencent.ErrNoRegion, "pass --region (e.g. --region ap-guangzhou), set CLBCERT_REGIONS, or put regions in the config file"},
		{store.ErrNoDir, "set --state-dir or CLBCERT_STATE_DIR (config file: state_dir)"},
		{store.ErrNotWritable, "make it writable for this user, or set --state-dir / CLBCERT_STATE_DIR (config file: state_dir) to a directory that is"},
		{lineage.ErrNoCertbotDir, "give certbot's config dir, e.g. /etc/letsencrypt, with --certbot-dir or CLBCERT_CERTBOT_DIR (config file: certbot_dir)"},
		{dns01.ErrTTLRefused, "set --ttl or CLBCERT_DNS_TTL (config file: ttl) to 600 (the free plan's minimum) or more"},
		{dns01.ErrNotPropagated, "or raise --propagation-timeout (CLBCERT_PROPAGATION_TIMEOUT; config file: propagation_timeout)"},
		{dns01.ErrNoNameservers, "set --resolver to find them with, or --dns-server to check one server instead (CLBCERT_RESOLVER, CLBCERT_DNS_SERVER; config file: resolvers, dns_server)"},
	}
	if hint := hints.Hint(err); hint != "" {
		return hint
	}
	if tencent.KindOf(err) == tencent.KindUnreachable {
		return "or the address --endpoint / CLBCERT_ENDPOINT (config file: endpoint) gives"
	}
	return ""
}

// Hints pairs the errors of a library with the hints that mend them.
type Hints []struct {
	Err  error
	Hint string
}

// Hint is the hint of the first error err is (errors.Is), or "": a Hinter.
func (hs Hints) Hint(err error) string {
	for _, h := range hs {
		if errors.Is(err, h.Err) {
			return h.Hint
		}
	}
	return ""
}

// hinted is err's line with the first hint of hinters that knows it.
func hinted(err error, hinters []Hinter) string {
	line := oneLine(err.Error())
	for _, h := range hinters {
		if hint := h(err); hint != "" {
			return line + ": " + hint
		}
	}
	return line
}
