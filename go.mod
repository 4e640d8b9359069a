module github.com/clbcert/clbcert

go 1.26

require (
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb v1.3.105
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.105
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod v1.3.78
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl v1.3.105
	golang.org/x/sys v0.47.0
)
