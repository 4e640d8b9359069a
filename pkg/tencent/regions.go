package tencent

import (
	"errors"
	"slices"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

// CodeRegionNotFound is CLB's answer for a region it does not have.
const CodeRegionNotFound = "InvalidParameter.RegionNotFound"

// KnownRegions lists, sorted, the regions of Tencent Cloud's public API that
// CLB serves, as documented when this was released. A region missing here
// may still be new: CLB's own answer (CodeRegionNotFound) decides.
func KnownRegions() []string {
	return []string{
		"ap-bangkok", "ap-beijing", "ap-beijing-fsi", "ap-chengdu", "ap-chongqing", "ap-guangzhou",
		"ap-guangzhou-open", "ap-hongkong", "ap-jakarta", "ap-mumbai", "ap-nanjing", "ap-seoul",
		"ap-shanghai", "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-singapore", "ap-taipei", "ap-tokyo",
		"eu-frankfurt", "eu-moscow", "na-ashburn", "na-siliconvalley", "na-toronto", "sa-saopaulo",
	}
}

// KnownRegion reports whether r is in KnownRegions.
func KnownRegion(r string) bool {
	_, ok := slices.BinarySearch(KnownRegions(), r)
	return ok
}

// CodeOf is the API error code of err, or "" if err is not an API answer.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var se *tcerr.TencentCloudSDKError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}
