module github.com/clbcert/clbcert

go 1.26

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/miekg/dns v1.1.73
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/clb v1.3.105
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.105
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod v1.3.78
	github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl v1.3.105
	github.com/urfave/cli/v2 v2.27.7
	golang.org/x/sys v0.47.0
)

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
	golang.org/x/net v0.57.0 // indirect
)
