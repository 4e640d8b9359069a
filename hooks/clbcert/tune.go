package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/cli/clbopts"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/tencent"
	"github.com/clbcert/clbcert/pkg/tune"
)

func tuneCommand(ctx context.Context) *cli.Command {
	flags := append(clbcli.CommonFlags(), clbcli.DeployFlags()...)
	flags = append(flags, &cli.BoolFlag{Name: "all", Usage: "select every listener and rule of every load balancer in the regions"})
	flags = append(flags, clbopts.TuneFlags()...)
	return &cli.Command{
		Name:      "tune",
		Usage:     "set scheduler, session persistence, health check and TLS protocols of listeners and rules; shows a diff first",
		ArgsUsage: "[TARGET…]",
		Description: `Selects load balancers, listeners or forwarding rules, compares them with the
   settings given by flags (or the config file's [tune] table; a flag wins),
   prints what would change as a diff, and then makes the changes:

      clbcert tune --dry-run --region ap-guangzhou --health-check-path /healthz \
          --health-check-interval 30 --unhealthy-threshold 3 lb-abc12345
      clbcert tune --region ap-guangzhou --tls-protocols TLSv1.2,TLSv1.3 --all

   A TARGET is one of
      lb-id                  every listener and rule of the load balancer
      lb-id/lbl-id           a listener (every rule of an HTTP/HTTPS one)
      lb-id/lbl-id/domain    every rule of that domain on an HTTP/HTTPS listener
      lb-id/lbl-id/loc-id    one rule (clbcert listeners shows the ids)
   or --all for every load balancer of the regions. UDP listeners are not changed.

   HTTP and HTTPS listeners are changed per rule (ModifyRule); TCP, TCP_SSL and
   QUIC listeners per listener (ModifyListener). TLS protocols belong to a load
   balancer and apply to its HTTP/HTTPS listeners: they are set through its
   layer-7 customized configuration (ssl_protocols), keeping its other
   directives; a configuration shared with load balancers not selected is left
   to them, and this one gets a copy of its own (clbcert-<lb-id>). A setting
   that does not apply somewhere (session persistence on TCP_SSL) is reported
   as skipped there.

   Every value is checked before anything is read. The changes of one load
   balancer run one at a time, each CLB task awaited; load balancers run in
   parallel. Each load balancer is then described again to confirm the values.

   Exit status: 0 done, nothing to change, or --dry-run; 1 a change failed, or
   a selected load balancer could not be read (with --dry-run too; the report
   says which and what to do); 2 usage or configuration error, or settings
   that do not fit a target (nothing is changed).`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			return runTune(ctx, c)
		},
	}
}

func runTune(ctx context.Context, c *cli.Context) error {
	if err := flagsFirst(c, "tune", "a target", "TARGET"); err != nil {
		return err
	}
	sel := tune.Selection{All: c.Bool("all")}
	for _, a := range c.Args().Slice() {
		t, err := clb.ParseAddress("", a)
		if err != nil {
			return clbcli.UsageError{Err: err}
		}
		sel.Targets = append(sel.Targets, t)
	}
	switch {
	case sel.All && len(sel.Targets) > 0:
		return clbcli.Usagef("both --all and targets given: pass targets, or --all for every load balancer")
	case !sel.All && len(sel.Targets) == 0:
		return clbcli.UsageError{Err: tune.ErrNoSelection}
	}
	s, err := clbcli.Resolve(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	want, err := clbopts.Tune(c, s)
	if err != nil {
		return err
	}
	if want.Empty() {
		return clbcli.UsageError{Err: tune.ErrNoSettings}
	}
	if len(s.Regions) == 0 {
		return clbcli.UsageError{Err: fmt.Errorf("tune: %w", tencent.ErrNoRegion)}
	}
	cloud, err := s.Cloud(ctx)
	if err != nil {
		return err
	}
	tuner, err := tune.New(cloud, tune.Options{Logger: s.Logger})
	if err != nil {
		return clbcli.UsageError{Err: err}
	}
	inv, err := tuner.Collect(ctx, s.Regions)
	if err != nil {
		// Only the certificates' details are missing, which tune does not use.
		s.Logger.Debug("certificates not listed", "err", err)
	}
	plan, err := tuner.Plan(ctx, inv, sel, want)
	if err != nil {
		var fe *tune.FieldError
		if errors.As(err, &fe) || errors.Is(err, tune.ErrUnknownTarget) {
			return clbcli.UsageError{Err: err}
		}
		return err
	}
	jsonOut, dryRun := c.Bool("json"), c.Bool("dry-run")
	if !jsonOut {
		if err := plan.WriteDiff(c.App.Writer); err != nil {
			return err
		}
	}
	unreadable := func() error {
		if len(plan.Failures) > 0 {
			f := plan.Failures[0]
			return errors.New("could not read " + f.Where() + ": " + f.Error + " (nothing was changed there; run again when it can be read)")
		}
		return nil
	}
	if err := plan.Err(); err != nil {
		if jsonOut {
			_ = writeTuneJSON(c, plan, nil)
		}
		return clbcli.UsageError{Err: err}
	}
	if dryRun || plan.Empty() {
		if jsonOut {
			if err := writeTuneJSON(c, plan, nil); err != nil {
				return err
			}
		}
		return unreadable()
	}
	rep, err := tuner.Apply(ctx, plan)
	if err != nil {
		return err
	}
	if jsonOut {
		err = writeTuneJSON(c, plan, rep)
	} else {
		err = rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	return rep.Err()
}

// writeTuneJSON prints {"plan": Plan, "report": Report|null}.
func writeTuneJSON(c *cli.Context, plan *tune.Plan, rep *tune.Report) error {
	return clbcli.WriteJSON(c.App.Writer, struct {
		Plan   *tune.Plan   `json:"plan"`
		Report *tune.Report `json:"report"`
	}{plan, rep})
}
