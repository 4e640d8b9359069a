package tencent

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/clbcert/clbcert/pkg/plural"
)

// Kind is what an operator has to do about an error, which is all a caller
// needs to decide between retrying, failing and explaining.
type Kind int

const (
	// KindOther is an API error with no better classification.
	KindOther Kind = iota
	// KindAuth: the key was rejected (wrong, disabled, expired, clock skew).
	KindAuth
	// KindPermission: the key is valid but CAM does not allow the action.
	KindPermission
	// KindThrottled: a rate limit; retried.
	KindThrottled
	// KindTransient: InternalError and friends; retried.
	KindTransient
	// KindUnreachable: no answer from the API at all; retried.
	KindUnreachable
	// KindBusy: the resource is being changed by another task; retried.
	KindBusy
	// KindNotFound: the resource does not exist.
	KindNotFound
	// KindInvalid: a parameter was refused; retrying cannot help.
	KindInvalid
)

// Retryable reports whether waiting and trying again can succeed.
func (k Kind) Retryable() bool {
	switch k {
	case KindThrottled, KindTransient, KindUnreachable, KindBusy:
		return true
	}
	return false
}

// Classify maps an SDK error code to a Kind.
func Classify(code string) Kind {
	switch {
	case code == "AuthFailure.UnauthorizedOperation",
		strings.HasPrefix(code, "UnauthorizedOperation"),
		strings.HasPrefix(code, "OperationDenied"):
		return KindPermission
	case strings.HasPrefix(code, "AuthFailure"):
		return KindAuth
	case strings.HasPrefix(code, "RequestLimitExceeded"),
		code == "LimitExceeded.RateLimitExceeded",
		code == "FailedOperation.FrequencyLimit":
		return KindThrottled
	case strings.HasPrefix(code, "InternalError"),
		code == "ServiceUnavailable", code == "ClientError.IOError":
		return KindTransient
	case code == "ClientError.NetworkError":
		return KindUnreachable
	case code == "FailedOperation.ResourceInOperating":
		return KindBusy
	case strings.HasPrefix(code, "ResourceNotFound"):
		return KindNotFound
	case strings.HasPrefix(code, "InvalidParameter"),
		strings.HasPrefix(code, "MissingParameter"),
		strings.HasPrefix(code, "UnknownParameter"),
		strings.HasPrefix(code, "LimitExceeded"),
		code == "InvalidAction", code == "NoSuchVersion":
		return KindInvalid
	}
	return KindOther
}

// ErrNoRegion is a CLB call asked for without a region; the caller names
// where regions are configured.
var ErrNoRegion = errors.New("no CLB region given")

// ErrUnknownSite is a site name other than "china" and "intl".
var ErrUnknownSite = errors.New(`the API sites are "china" (cloud.tencent.com accounts) and "intl" (tencentcloud.com accounts)`)

// SiteError is a call to an action that the configured site does not offer.
type SiteError struct {
	Product, Action string
	Site            Site
}

func (e *SiteError) Error() string {
	return fmt.Sprintf("%s:%s is not offered on Tencent Cloud's %s site (%s): this step needs a China-site account, or leave it out", e.Product, e.Action, e.Site, e.Site.host(e.Product, ""))
}

// Error is an API call that failed for good: after the retries the policy
// allows, or at once for errors retrying cannot fix. Its message is one line
// that names the call and says what to do next.
type Error struct {
	Product   string // "dnspod", "ssl", "clb"
	Action    string // "CreateRecord"
	Host      string // where the call went
	Via       string // the endpoint it was connected to, if not Host itself
	Kind      Kind
	Code      string
	Message   string // the service's message
	RequestID string
	Attempts  int
	Elapsed   time.Duration
	Source    string // where the key came from
	KeyHint   string // masked SecretId
}

func (e *Error) Error() string {
	call := e.Product + ":" + e.Action
	what := e.Code
	if e.Message != "" {
		what += ": " + e.Message
	}
	if e.RequestID != "" {
		what += ", RequestId " + e.RequestID
	}
	var advice string
	switch e.Kind {
	case KindAuth:
		advice = authAdvice(e)
	case KindPermission:
		advice = fmt.Sprintf("the key %s from %s is valid but CAM does not allow %s: grant that action to its user or role", e.KeyHint, from(e.Source, EnvSecretID), call)
	case KindThrottled:
		advice = fmt.Sprintf("still rate-limited after %s: try again in a minute, or make fewer concurrent calls", plural.Of(e.Attempts, "attempt"))
	case KindTransient:
		advice = fmt.Sprintf("Tencent Cloud failed %s in a row: try again later, and quote the RequestId to support if it persists", plural.Of(e.Attempts, "time"))
	case KindUnreachable:
		where := e.Host
		if e.Via != "" {
			where += " at " + e.Via
		}
		return fmt.Sprintf("%s: cannot reach %s after %s over %s (%s): check the network, proxy and firewall", call, where, plural.Of(e.Attempts, "attempt"), e.Elapsed.Round(100*time.Millisecond), e.Message)
	case KindBusy:
		advice = fmt.Sprintf("the resource was still busy with another task after %s: wait for it and run again", plural.Of(e.Attempts, "attempt"))
	}
	if advice == "" {
		return fmt.Sprintf("%s failed (%s)", call, what)
	}
	return fmt.Sprintf("%s failed (%s): %s", call, what, advice)
}

func authAdvice(e *Error) string {
	switch e.Code {
	case "AuthFailure.SignatureExpire":
		return "this machine's clock is more than 5 minutes off: sync it (e.g. timedatectl set-ntp true)"
	case "AuthFailure.SignatureFailure":
		return fmt.Sprintf("the SecretKey from %s does not belong to SecretId %s: copy the pair again from %s", from(e.Source, EnvSecretKey), e.KeyHint, apiKeyConsole)
	case "AuthFailure.TokenFailure":
		return fmt.Sprintf("the session token from %s is invalid or expired: fetch fresh temporary keys, or unset %s for a permanent key", from(e.Source, EnvSessionToken), EnvSessionToken)
	}
	return fmt.Sprintf("Tencent Cloud does not know SecretId %s from %s, or it is disabled: use an enabled API key from %s", e.KeyHint, from(e.Source, EnvSecretID), apiKeyConsole)
}

// sdkError extracts code, message and request id from whatever the SDK returned.
func sdkError(err error) (code, msg, reqID string) {
	var se *tcerr.TencentCloudSDKError
	if errors.As(err, &se) {
		return se.Code, se.Message, se.RequestId
	}
	return "ClientError.NetworkError", err.Error(), ""
}

// IsCode reports whether err is an API error with exactly this code.
func IsCode(err error, code string) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Code == code
	}
	var se *tcerr.TencentCloudSDKError
	return errors.As(err, &se) && se.Code == code
}

// KindOf returns the Kind of an API error, or KindOther for anything else.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}
