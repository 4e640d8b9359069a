package inventory

import (
	"context"
	"strings"

	"github.com/clbcert/clbcert/pkg/clb"
)

// The ssl_protocols directive of a load balancer's customized configuration
// (see clb.CustomizedConfig) is the only way to choose the TLS versions of
// its HTTPS listeners.

// SSLProtocolsDirective is the directive that sets the TLS versions.
const SSLProtocolsDirective = "ssl_protocols"

// defaultTLSProtocols is what HTTPS listeners allow when their load
// balancer's configuration does not say: TLSv1 TLSv1.1 TLSv1.2.
func defaultTLSProtocols() []string { return []string{"TLSv1", "TLSv1.1", "TLSv1.2"} }

// EffectiveTLSProtocols is what a load balancer's HTTPS listeners allow:
// the ssl_protocols of its customized configuration cfg (nil when none is
// bound), else CLB's default TLSv1 TLSv1.1 TLSv1.2. configured tells the
// two apart.
func EffectiveTLSProtocols(cfg *CustomizedConfig) (protocols []string, configured bool) {
	if cfg != nil {
		if ps, ok := cfg.TLSProtocols(); ok {
			return ps, true
		}
	}
	return defaultTLSProtocols(), false
}

// CustomizedConfig is clb's customized configuration, read for what it
// means here: whether it is shared, which TLS protocols it sets.
type CustomizedConfig clb.CustomizedConfig

// Shared reports whether the configuration is bound to more than one load
// balancer.
func (cfg CustomizedConfig) Shared() bool { return len(cfg.LoadBalancerIDs) > 1 }

// TLSProtocols is the configuration's ssl_protocols, and whether it has one.
func (cfg CustomizedConfig) TLSProtocols() ([]string, bool) {
	var out []string
	found := false
	for _, d := range Directives(cfg.Content) {
		if d.Name == SSLProtocolsDirective {
			out, found = d.Args, true // nginx: the last one wins
		}
	}
	return out, found
}

// Directive is one statement of a customized configuration: "name args…;".
type Directive struct {
	Name string
	Args []string
	// Start and End are the statement's byte offsets in the content, End
	// just past its ';' (or the content's end if the last statement has
	// none), so an edit can replace it and keep everything else verbatim.
	Start, End int
}

// Directives splits content into its statements. A ';' inside quotes does
// not end one; '#' starts a comment to the end of the line.
func Directives(content string) []Directive {
	var out []Directive
	var fields []string
	var field strings.Builder
	inField, start := false, -1
	flush := func() {
		if inField {
			fields = append(fields, field.String())
			field.Reset()
			inField = false
		}
	}
	end := func(at int) {
		flush()
		if len(fields) > 0 {
			out = append(out, Directive{Name: fields[0], Args: fields[1:], Start: start, End: at})
		}
		fields, start = nil, -1
	}
	for i := 0; i < len(content); i++ {
		ch := content[i]
		switch {
		case ch == '#' && !inField:
			for i < len(content) && content[i] != '\n' {
				i++
			}
		case ch == ';':
			end(i + 1)
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			flush()
		case ch == '"' || ch == '\'':
			if start < 0 {
				start = i
			}
			inField = true
			j := i + 1
			for j < len(content) && content[j] != ch {
				if content[j] == '\\' && j+1 < len(content) {
					j++
				}
				j++
			}
			field.WriteString(content[i+1 : min(j, len(content))])
			i = j
		default:
			if start < 0 {
				start = i
			}
			inField = true
			field.WriteByte(ch)
		}
	}
	if start >= 0 {
		end(len(content))
	}
	return out
}

// CustomizedConfigs returns the customized configuration bound to each of
// lbIDs in region that has one, by load balancer id.
func (c *Client) CustomizedConfigs(ctx context.Context, region string, lbIDs []string) (map[string]CustomizedConfig, error) {
	found, err := c.clb.CustomizedConfigs(ctx, region, lbIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]CustomizedConfig, len(found))
	for id, cfg := range found {
		out[id] = CustomizedConfig(cfg)
	}
	return out, nil
}

// CustomizedConfigNamed finds the CLB-type configuration of region named
// exactly name, with the load balancers it is bound to; nil if there is
// none.
func (c *Client) CustomizedConfigNamed(ctx context.Context, region, name string) (*CustomizedConfig, error) {
	cfg, err := c.clb.CustomizedConfigNamed(ctx, region, name)
	return (*CustomizedConfig)(cfg), err
}
