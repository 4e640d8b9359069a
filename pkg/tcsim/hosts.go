package tcsim

import (
	"strings"
)

// apiRoot is the suffix of every Tencent Cloud API host.
const apiRoot = ".tencentcloudapi.com"

// accessHost is what the Host of a request says about where it went: the
// access region whose rate budget it spends ("" for the plain host, which
// reaches the nearest API server). An international-site host (.intl.)
// serves every action tcsim simulates, so the site makes no difference.
// Requests may also name the simulator's own address (127.0.0.1:PORT),
// which counts as the plain host of the China site.
type accessHost struct {
	region string
}

// parseHost reads a request's Host. A Tencent Cloud host must name the
// product the action belongs to: clb.tencentcloudapi.com does not answer
// ssl's actions. ok is false for such a mismatch.
func parseHost(host, service string) (h accessHost, ok bool) {
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	rest, isAPI := strings.CutSuffix(host, apiRoot)
	if !isAPI {
		return accessHost{}, true
	}
	labels := strings.Split(rest, ".")
	if labels[0] != service {
		return accessHost{}, false
	}
	labels = labels[1:]
	if n := len(labels); n > 0 && labels[n-1] == "intl" {
		labels = labels[:n-1]
	}
	switch len(labels) {
	case 0:
		return h, true
	case 1:
		h.region = labels[0]
		return h, true
	}
	return accessHost{}, false
}

// budgetKey is the rate limiter's key for action in this access region.
func (h accessHost) budgetKey(action string) string {
	if h.region == "" {
		return action
	}
	return action + "@" + h.region
}
