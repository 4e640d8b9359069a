// Package ssl is clbcert's one way to the SSL Certificates service: it alone imports the SSL
// SDK module. It uploads, describes and deletes certificates, finds where certificates are
// bound across Tencent Cloud's products (the bind-resource tasks), and moves the resources of
// every product from an old certificate to a new one (UpdateCertificateInstance and its deploy
// records).
//
// Both are asynchronous on the service: this package starts the work, polls it with an
// injected clock until it ends or Options.Timeout passes, and reports per resource.
package ssl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"

	"github.com/clbcert/clbcert/pkg/tencent"
)

// Error codes this package acts on.
const (
	codeRoleMissing      = "FailedOperation.RoleNotFoundAuthorization"
	codeHasPending       = "FailedOperation.CertificateDeployHasPendingRecord"
	codeInstanceEmpty    = "FailedOperation.CertificateDeployInstanceEmpty"
	codeNotDeployInstace = "FailedOperation.CertificateNotDeployInstance"
	codeInvalidAction    = "InvalidAction"
)

// RoleName is the service role the SSL service needs to find and update the resources of
// other products.
const RoleName = "SSL_QCSLinkedRoleInReplaceLoadCertificate"

// Clock is the time source of the polling: a test moves time instead of sleeping.
type Clock interface {
	Now() time.Time
	// Sleep returns after d, or with ctx's error when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error { return tencent.Sleep(ctx, d) }

// Options tunes the polling. The zero value is usable.
type Options struct {
	// Poll is the first pause between two looks at a running task; each pause is half as
	// long again as the one before, up to MaxPoll. Default 2 s: a bind-resource task or an
	// update of a few resources takes seconds, and the SSL service allows 10 calls a second.
	Poll time.Duration
	// MaxPoll caps the pause. Default 15 s.
	MaxPoll time.Duration
	// Timeout bounds each wait: for the bind-resource tasks, for an update record to be
	// created, and for its resources to end. Default 10 min: CDN and EdgeOne take minutes to
	// push a certificate to their edges.
	Timeout time.Duration
	// Clock is the time source; nil is the wall clock.
	Clock Clock
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
}

// withDefaults gives every unset option its default; a negative duration counts as unset.
func (o Options) withDefaults() Options {
	o.Poll = cmp.Or(max(o.Poll, 0), 2*time.Second)
	o.MaxPoll = cmp.Or(max(o.MaxPoll, 0), 15*time.Second)
	o.MaxPoll = max(o.MaxPoll, o.Poll)
	o.Timeout = cmp.Or(max(o.Timeout, 0), 10*time.Minute)
	o.Clock = cmp.Or[Clock](o.Clock, wallClock{})
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	return o
}

// Client calls the SSL service.
type Client struct {
	api  tencent.API[*sslsdk.Client]
	opts Options
}

// New builds a Client from the project's API configuration: its credential, endpoint, retry
// policy and rate limiter.
func New(cfg tencent.Config, opts Options) (*Client, error) {
	api, err := tencent.NewAPI(cfg, "ssl", "", sslsdk.NewClient)
	if err != nil {
		return nil, fmt.Errorf("create SSL client: %w", err)
	}
	return &Client{api: api, opts: opts.withDefaults()}, nil
}

// poller paces the looks at one asynchronous task.
type poller struct {
	clock    Clock
	wait     time.Duration
	max      time.Duration
	deadline time.Time
}

func (c *Client) poller() *poller {
	o := c.opts
	return &poller{clock: o.Clock, wait: o.Poll, max: o.MaxPoll, deadline: o.Clock.Now().Add(o.Timeout)}
}

// errTimeout is what next returns once the deadline has passed.
var errTimeout = errors.New("timed out")

// next sleeps before the next look; errTimeout once the deadline would pass.
func (p *poller) next(ctx context.Context) error {
	if !p.clock.Now().Add(p.wait).Before(p.deadline) {
		return errTimeout
	}
	if err := p.clock.Sleep(ctx, p.wait); err != nil {
		return err
	}
	p.wait = min(p.wait*3/2, p.max)
	return nil
}

// ErrRoleMissing marks the errors of an account whose SSL service may not look at or change
// other products' resources: its service role RoleName is not authorised.
var ErrRoleMissing = errors.New("the SSL service's role " + RoleName + " is not authorised")

// GrantRole says how to authorise RoleName.
const GrantRole = "grant it once, in the SSL Certificates console (start a certificate update or deployment and accept the authorisation prompt) " +
	"or in the CAM console under Roles (create the service-linked role for the SSL Certificates service)"

// roleError explains FailedOperation.RoleNotFoundAuthorization.
func roleError(what string, err error) error {
	return fmt.Errorf("%s: %w, so it may not look at or change other products' resources: %s, then run again: %w", what, ErrRoleMissing, GrantRole, err)
}
