package tencent

import (
	"fmt"
	"strings"
)

// Site is one of Tencent Cloud's two API sites: accounts of the China site
// (cloud.tencent.com) call *.tencentcloudapi.com, accounts of the
// international site (tencentcloud.com) *.intl.tencentcloudapi.com. The zero
// value is the China site.
type Site string

const (
	SiteChina Site = "china"
	SiteIntl  Site = "intl"
)

// ParseSite accepts "china", "intl" or "" (China).
func ParseSite(s string) (Site, error) {
	switch Site(strings.ToLower(strings.TrimSpace(s))) {
	case "", SiteChina:
		return SiteChina, nil
	case SiteIntl:
		return SiteIntl, nil
	}
	return "", fmt.Errorf("site %q is not known: %w", s, ErrUnknownSite)
}

// String is the site's name as the configuration spells it.
func (s Site) String() string {
	if s == "" {
		return string(SiteChina)
	}
	return string(s)
}

// regionalProducts take a Region on every call and have a host per access
// region. The others (SSL, DNSPod) are global and keep their global host.
var regionalProducts = map[string]bool{"clb": true}

// host is the API host of product's calls in region. A regional product's
// host for region R is <product>.R.tencentcloudapi.com on both sites (the
// international documentation names the same regional hosts); the global
// hosts differ by site. Each host is its own access region with its own
// rate budget per action (docs/tencentcloud-api.md §0).
func (s Site) host(product, region string) string {
	if region != "" && regionalProducts[product] {
		return product + "." + region + ".tencentcloudapi.com"
	}
	if s == SiteIntl {
		return product + ".intl.tencentcloudapi.com"
	}
	return product + ".tencentcloudapi.com"
}

// intlMissing lists the actions the international site does not have
// (docs/tencentcloud-api.md §2, "International site"), per product.
var intlMissing = map[string]map[string]bool{
	"ssl": {
		"DeployCertificateInstance":             true,
		"DescribeHostDeployRecord":              true,
		"DescribeHostDeployRecordDetail":        true,
		"DescribeDeployedResources":             true,
		"CheckCertificateChain":                 true,
		"DeleteCertificates":                    true,
		"DescribeHostClbInstanceList":           true,
		"DescribeHostCdnInstanceList":           true,
		"DescribeHostWafInstanceList":           true,
		"DescribeHostTeoInstanceList":           true,
		"DescribeHostLiveInstanceList":          true,
		"DescribeHostVodInstanceList":           true,
		"DescribeHostDdosInstanceList":          true,
		"DescribeHostApiGatewayInstanceList":    true,
		"DescribeHostTkeInstanceList":           true,
		"DescribeHostLighthouseInstanceList":    true,
		"DescribeHostCosInstanceList":           true,
		"DescribeHostTseInstanceList":           true,
		"DescribeHostUploadUpdateRecord":        true,
		"DescribeHostUploadUpdateRecordDetail":  true,
		"UploadUpdateCertificateInstance":       true,
		"UploadUpdateCertificateRecordRetry":    true,
		"UploadUpdateCertificateRecordRollback": true,
	},
}

// Has reports whether the site offers product's action.
func (s Site) Has(product, action string) bool {
	return s != SiteIntl || !intlMissing[product][action]
}
