package notify

import (
	"fmt"
	"path/filepath"

	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/level"
)

// FinishCommand is what finishes the deployment of the lineage in dir.
func FinishCommand(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return "clbcert-deploy --lineage " + dir
}

// DeployFailed tells which targets failed and why, and the command that
// finishes the job. rep may be nil (the deployment stopped before it had
// targets); err is the deployment's error.
func DeployFailed(lineage, dir string, rep *deploy.Report, err error) Message {
	crit := level.Critical
	m := Message{Event: EventDeployFailed, Failure: true, Lineage: lineage, Level: &crit, Command: FinishCommand(dir)}
	failed := []deploy.TargetResult(nil)
	if rep != nil {
		failed = rep.Failed()
	}
	switch {
	case rep == nil || (len(failed) == 0 && len(rep.Failures) == 0):
		m.Title = fmt.Sprintf("deploy of %s failed", lineage)
		m.Details = []string{err.Error()}
	default:
		m.Title = fmt.Sprintf("deploy of %s failed on %d of %d targets; %d load balancers could not be read", lineage, len(failed), len(rep.Targets), len(rep.Failures))
		for _, f := range rep.Failures {
			m.Details = append(m.Details, fmt.Sprintf("%s %s: could not be read: %s", f.Region, f.LoadBalancerID, f.Error))
		}
		for _, t := range failed {
			m.Details = append(m.Details, fmt.Sprintf("%s %s: %s", t.Region, t.Target, t.Error))
		}
	}
	return m
}

// DeployDone tells that the lineage is served everywhere it should be;
// recovered says a failure was notified before, which this ends.
func DeployDone(lineage string, rep *deploy.Report, recovered bool) Message {
	m := Message{Event: EventDeployDone, Lineage: lineage, Title: fmt.Sprintf("%s deployed to %d targets", lineage, len(rep.Targets))}
	if recovered {
		m.Event, m.Title = EventDeployRecovered, fmt.Sprintf("%s deployed to all %d targets again: the earlier failure is over", lineage, len(rep.Targets))
	}
	ok := level.OK
	m.Level = &ok
	for _, t := range rep.Targets {
		m.Details = append(m.Details, fmt.Sprintf("%s %s: %s", t.Region, t.Target, t.Status))
	}
	return m
}
