package ssl

import (
	"slices"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// chinaTypes are the resource types UpdateCertificateInstance takes on the China site;
// the international site lacks intlLacks (docs/tencentcloud-api.md §2).
var (
	chinaTypes = []string{"apigateway", "cdn", "clb", "cos", "ddos", "gaap", "live", "mqtt", "scf", "tcb", "tdmq", "teo", "tke", "tse", "vod", "waf"}
	intlLacks  = []string{"gaap", "mqtt", "scf", "tdmq"}
)

// Types are the resource types the SSL service can move from one certificate to another on
// site, sorted: what "all products" means there.
func Types(site tencent.Site) []string {
	if site != tencent.SiteIntl {
		return slices.Clone(chinaTypes)
	}
	return slices.DeleteFunc(slices.Clone(chinaTypes), func(t string) bool { return slices.Contains(intlLacks, t) })
}

// TypeOn reports whether the SSL service can move resources of type t on site; when it
// cannot on the international site but can on the China site, chinaOnly is true.
func TypeOn(site tencent.Site, t string) (ok, chinaOnly bool) {
	if slices.Contains(Types(site), t) {
		return true, false
	}
	return false, slices.Contains(chinaTypes, t)
}
