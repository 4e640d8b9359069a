package inventory

import (
	"context"

	"github.com/clbcert/clbcert/pkg/clb"
)

// The load balancers' part of the inventory is pkg/clb's: its types under
// the names the workflows use, its reads through the Client.
type (
	LoadBalancer = clb.LoadBalancer
	Listener     = clb.Listener
	Rule         = clb.Rule
	CertRef      = clb.CertRef
	Balancing    = clb.Balancing
	HealthCheck  = clb.HealthCheck
	TargetHealth = clb.TargetHealth
)

// Health states of a backend, as clb names them.
const (
	HealthAlive   = clb.HealthAlive
	HealthDead    = clb.HealthDead
	HealthUnknown = clb.HealthUnknown
	HealthClose   = clb.HealthClose
)

// Listeners describes the listeners of one load balancer.
func (c *Client) Listeners(ctx context.Context, region, lbID string) ([]Listener, error) {
	return c.clb.Listeners(ctx, region, lbID)
}

// BoundLoadBalancers returns, per certificate id, the load balancers in
// region that use it.
func (c *Client) BoundLoadBalancers(ctx context.Context, region string, ids []string) (map[string][]string, error) {
	return c.clb.LoadBalancersUsing(ctx, region, ids)
}

// TargetHealth lists the backends of every listener and rule of the load
// balancers lbIDs in region with their health, sorted by load balancer,
// listener, location and address. One load balancer that cannot be read
// fails the call for the (up to 30) named with it: give only load balancers
// Collect could read.
func (c *Client) TargetHealth(ctx context.Context, region string, lbIDs []string) ([]TargetHealth, error) {
	return c.clb.TargetHealth(ctx, region, lbIDs)
}
