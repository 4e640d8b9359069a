package tune

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clbcert/clbcert/pkg/inventory"
)

// canonicalProtocols sorts TLS versions oldest first and drops repeats, so
// two ways of writing a set compare equal and read the same.
func canonicalProtocols(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, v := range tlsVersions {
		if slices.Contains(ps, v) {
			out = append(out, v)
		}
	}
	return out
}

// planTLS is the change that gives lb's HTTP/HTTPS listeners protocols, or
// nil if they already have them. cfg is lb's configuration, nil if none; a
// configuration shared only with other selected load balancers is updated
// for all of them, one shared with any other is split off.
func planTLS(lb inventory.LoadBalancer, cfg *inventory.CustomizedConfig, protocols []string, selected map[string]bool) *Change {
	want := canonicalProtocols(protocols)
	cur, configured := inventory.EffectiveTLSProtocols(cfg)
	before := strings.Join(cur, " ")
	if !configured {
		before = "default (" + before + ")"
	}
	if slices.Equal(canonicalProtocols(cur), want) && len(cur) == len(want) {
		return nil
	}
	cc := &ConfigChange{Action: ConfigAdd, Name: ConfigNamePrefix + lb.ID}
	if cfg != nil {
		cc.ID, cc.Before = cfg.ID, cfg.Content
		cc.SharedWith = slices.DeleteFunc(slices.Clone(cfg.LoadBalancerIDs), func(id string) bool { return id == lb.ID })
		if slices.ContainsFunc(cc.SharedWith, func(id string) bool { return !selected[id] }) {
			cc.Action = ConfigSplit
		} else {
			cc.Action, cc.Name = ConfigUpdate, ""
		}
	}
	cc.After = withSSLProtocols(cc.Before, want)
	return &Change{
		Kind: KindTLS, Address: lb.Address(), LoadBalancerName: lb.Name,
		Fields: []FieldChange{{Name: "TLS protocols", Before: before, After: strings.Join(want, " ")}},
		Config: cc,
	}
}

// withSSLProtocols returns content with its ssl_protocols set to protocols
// and every other statement, comment and blank kept byte for byte: the last
// ssl_protocols statement (the one nginx obeys) is replaced, earlier ones are
// removed, and content without one gets it appended.
func withSSLProtocols(content string, protocols []string) string {
	stmt := inventory.SSLProtocolsDirective + " " + strings.Join(protocols, " ") + ";"
	var at []inventory.Directive
	for _, d := range inventory.Directives(content) {
		if d.Name == inventory.SSLProtocolsDirective {
			at = append(at, d)
		}
	}
	if len(at) == 0 {
		switch {
		case strings.TrimSpace(content) == "":
			return stmt + "\n"
		case strings.HasSuffix(content, "\n"):
			return content + stmt + "\n"
		}
		if ds := inventory.Directives(content); len(ds) > 0 && !strings.HasSuffix(strings.TrimSpace(content[ds[len(ds)-1].Start:ds[len(ds)-1].End]), ";") {
			// A last statement without its ';' would swallow ours.
			content += ";"
		}
		return content + "\n" + stmt + "\n"
	}
	// Edit from the end so the earlier offsets stay valid.
	out := content
	for i := len(at) - 1; i >= 0; i-- {
		d := at[i]
		if i == len(at)-1 {
			out = out[:d.Start] + stmt + out[d.End:]
			continue
		}
		end := d.End
		if end < len(out) && out[end] == '\n' {
			end++
		}
		out = out[:d.Start] + out[end:]
	}
	return out
}

// describeConfigChange says in a line how a KindTLS change is made.
func describeConfigChange(lbID string, cc *ConfigChange) string {
	switch cc.Action {
	case ConfigUpdate:
		if len(cc.SharedWith) > 0 {
			return fmt.Sprintf("update customized configuration %s, keeping its other directives; it is also bound to %s, selected too", cc.ID, strings.Join(cc.SharedWith, ", "))
		}
		return fmt.Sprintf("update customized configuration %s, keeping its other directives", cc.ID)
	case ConfigSplit:
		return fmt.Sprintf("configuration %s is shared with %s, which keep it unchanged: create %s with its other directives and bind it to %s instead",
			cc.ID, strings.Join(cc.SharedWith, ", "), cc.Name, lbID)
	}
	return fmt.Sprintf("create customized configuration %s and bind it to %s", cc.Name, lbID)
}
