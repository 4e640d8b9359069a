package main

import (
	"fmt"
	"strings"

	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/notify"
	"github.com/clbcert/clbcert/pkg/plural"
)

// deployFailed tells which targets failed and why, and the command that
// finishes the job. rep may be nil (the deployment stopped before it had
// targets); err is the deployment's error.
func deployFailed(lineage, dir string, rep *deploy.Report, err error) notify.Message {
	crit := level.Critical
	m := notify.Message{Event: notify.EventDeployFailed, Failure: true, Lineage: lineage, Level: &crit, Command: notify.FinishCommand(dir)}
	failed := []deploy.TargetResult(nil)
	if rep != nil {
		failed = rep.Failed()
	}
	switch {
	case rep == nil || (len(failed) == 0 && len(rep.Failures) == 0):
		m.Title = fmt.Sprintf("deploy of %s failed", lineage)
		m.Details = []string{err.Error()}
	default:
		var why []string
		if len(failed) > 0 {
			why = append(why, fmt.Sprintf("on %d of %s", len(failed), plural.Of(len(rep.Targets), "target")))
		}
		if len(rep.Failures) > 0 {
			why = append(why, fmt.Sprintf("%s of the cloud could not be read", plural.Of(len(rep.Failures), "part")))
		}
		m.Title = fmt.Sprintf("deploy of %s failed %s", lineage, strings.Join(why, "; "))
		for _, f := range rep.Failures {
			m.Details = append(m.Details, fmt.Sprintf("%s %s: could not be read: %s", f.Region, f.LoadBalancerID, f.Error))
		}
		for _, t := range failed {
			m.Details = append(m.Details, fmt.Sprintf("%s %s: %s", t.Region, t.Address, t.Error))
		}
	}
	return m
}

// deployDone tells that the lineage is served everywhere it should be;
// recovered says a failure was notified before, which this ends.
func deployDone(lineage string, rep *deploy.Report, recovered bool) notify.Message {
	m := notify.Message{Event: notify.EventDeployDone, Lineage: lineage, Title: fmt.Sprintf("%s deployed to %d targets", lineage, len(rep.Targets))}
	if recovered {
		m.Event, m.Title = notify.EventDeployRecovered, fmt.Sprintf("%s deployed to %s again: the earlier failure is over", lineage, plural.Of(len(rep.Targets), "target"))
	}
	ok := level.OK
	m.Level = &ok
	for _, t := range rep.Targets {
		m.Details = append(m.Details, fmt.Sprintf("%s %s: %s", t.Region, t.Address, t.Status))
	}
	return m
}
