package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/dns01"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/store"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Run prints a failure with what mends it where a Hinter knows the error:
// Hint for the libraries every binary uses, then the binary's own.
func TestRunAddsTheHint(t *testing.T) {
	errOwn := errors.New("own trouble")
	own := func(err error) string {
		if errors.Is(err, errOwn) {
			return "pass --own"
		}
		return ""
	}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("deploy: %w", tencent.ErrNoRegion), "x: deploy: no CLB region given: pass --region (e.g. --region ap-guangzhou), set CLBCERT_REGIONS, or put regions in the config file\n"},
		{store.ErrNoDir, "x: no state directory given: set --state-dir or CLBCERT_STATE_DIR (config file: state_dir)\n"},
		{fmt.Errorf("state directory /s is %w", store.ErrNotWritable), "x: state directory /s is not writable: make it writable for this user, or set --state-dir / CLBCERT_STATE_DIR (config file: state_dir) to a directory that is\n"},
		{fmt.Errorf("read: %w", lineage.ErrNoCertbotDir), "x: read: not certbot's config dir: give certbot's config dir, e.g. /etc/letsencrypt, with --certbot-dir or CLBCERT_CERTBOT_DIR (config file: certbot_dir)\n"},
		{dns01.ErrTTLRefused, "x: the zone's plan has a higher minimum TTL: set --ttl or CLBCERT_DNS_TTL (config file: ttl) to 600 (the free plan's minimum) or more\n"},
		{dns01.ErrNoNameservers, "x: cannot find the zone's nameservers: set --resolver to find them with, or --dns-server to check one server instead (CLBCERT_RESOLVER, CLBCERT_DNS_SERVER; config file: resolvers, dns_server)\n"},
		{&tencent.Error{Kind: tencent.KindUnreachable, Product: "clb", Action: "DescribeListeners", Host: "clb.tencentcloudapi.com"}, "or the address --endpoint / CLBCERT_ENDPOINT (config file: endpoint) gives\n"},
		{errOwn, "x: own trouble: pass --own\n"},
		{errors.New("plain"), "x: plain\n"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		app := &cli.App{Name: "x", Action: func(*cli.Context) error { return tt.err }}
		if code := Run(app, []string{"x"}, &stderr, own); code != 1 || !bytes.HasSuffix(stderr.Bytes(), []byte(tt.want)) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a line ending %q", tt.err, code, stderr.String(), tt.want)
		}
	}
}
