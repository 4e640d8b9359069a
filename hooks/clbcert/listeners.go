package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/inventory"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/listeners"
	"github.com/clbcert/clbcert/pkg/tencent"
)

func listenersCommand(ctx context.Context) *cli.Command {
	flags := append(clbcli.CommonFlags(), clbcli.RegionFlag(), clbcli.JSONFlag())
	flags = append(flags, clbcli.ExpiryFlags()...)
	return &cli.Command{
		Name:  "listeners",
		Usage: "show every listener and forwarding rule: certificate, SNI, scheduler, session persistence, health check, backends, TLS protocols",
		Description: `Reads the load balancers of the regions and prints, per load balancer, its
   TLS protocols (from its layer-7 customized configuration, or CLB's default),
   then each listener and each forwarding rule of its HTTP/HTTPS listeners.
   Read-only.

      clbcert listeners --region ap-guangzhou
      clbcert listeners --region ap-guangzhou --json   # a stable document for scripts

   ` + listeners.Legend + `

   --json prints {"regions", "loadBalancers": [{"region", "id", "name", "vips",
   "tlsProtocols", "tlsProtocolsDefault", "customizedConfigId", "listeners":
   [{"id", "name", "protocol", "port", "tls", "sni", "certificate": {"id",
   "names", "notBefore", "notAfter", "daysLeft", "known"}, "scheduler", "sessionExpireTime",
   "healthCheck", "backends": [{"ip", "port", "weight", "healthy", "status"}],
   "rules": [{"locationId", "domain", "url", "certificate", "scheduler",
   "sessionExpireTime", "healthCheck", "backends"}]}]}], "failures": [{"region",
   "loadBalancerId", "error"}]}. Fields may be added, never renamed.

   Exit status, as clbcert status and monitoring plugins:
      0  OK        every served certificate is fine for its lifetime
      1  WARNING   one is past its renewal (due at 2/3 of its lifetime, 1/2
                   under 10 days, as certbot renews) by min(lifetime/10, 3
                   days); with --warn-days: has that many days left or fewer
      2  CRITICAL  half of one's renewal window is gone, or it has expired or
                   is not valid yet; with --critical-days: has that many days
                   left or fewer; also a usage or configuration error
      3  UNKNOWN   a region, load balancer, configuration or backend health
                   could not be read (named under UNREADABLE, or in
                   "failures"; the rest is still shown), and nothing is critical`,
		Flags: flags,
		Action: noArgs("listeners", "give regions with --region REGION", func(c *cli.Context, s *clbcli.Settings) error {
			return runListeners(ctx, c, s)
		}),
	}
}

func runListeners(ctx context.Context, c *cli.Context, s *clbcli.Settings) error {
	if len(s.Regions) == 0 {
		return clbcli.UsageError{Err: fmt.Errorf("listeners: %w", tencent.ErrNoRegion)}
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return err
	}
	inv, err := inventory.New(cloud, inventory.Options{})
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	v, err := listeners.Collect(ctx, inv, s.Regions, time.Now())
	if err != nil {
		return err
	}
	if err := writeReport(c, v); err != nil {
		return err
	}
	if lv := v.Level(s.Rule, time.Now()); lv != level.OK {
		return clbcli.ExitStatus(int(lv))
	}
	return nil
}
