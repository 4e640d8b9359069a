package status

import (
	"fmt"
	"time"

	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/metrics"
	"github.com/clbcert/clbcert/pkg/notify"
)

// Metrics are the lineages as package metrics exports them: the same
// series clbcert-watch serves, for hosts that run certbot's timer and no
// watcher. Served places count as serving the current leaf, drift as not.
// With part of the cloud unreadable every lineage is at least UNKNOWN, as
// the exit status is: a target that drifted may be in that part.
func (r *Report) Metrics() []metrics.Lineage {
	var out []metrics.Lineage
	for _, st := range r.Lineages {
		m := metrics.Lineage{Name: st.Name, Floor: st.Status}
		if len(r.Failures) > 0 {
			m.Floor = level.Worse(m.Floor, Unknown)
		}
		if st.Error == "" {
			m.Cert = level.Cert{NotBefore: st.NotBefore, NotAfter: st.NotAfter, RenewBefore: time.Duration(st.RenewBeforeExpiry) * time.Second}
			m.Written = st.Written
		}
		if len(r.Regions) > 0 {
			m.Targets = map[string]bool{}
			for _, p := range st.Served {
				m.Targets[p.Target] = true
			}
			for _, p := range st.Drift {
				m.Targets[p.Target] = false
			}
		}
		out = append(out, m)
	}
	return out
}

// Worse are the messages for the lineages whose level is worse than last
// says it was at their last notification; next is what to remember now
// (every lineage's level, so that a lineage that got better and worse
// again is told again).
func (r *Report) Worse(last map[string]level.Level) (msgs []notify.Message, next map[string]level.Level) {
	next = map[string]level.Level{}
	for _, st := range r.Lineages {
		next[st.Name] = st.Status
		was := last[st.Name]
		if !st.Status.WorseThan(was) {
			continue
		}
		lv := st.Status
		m := notify.Message{Event: notify.EventLevelWorse, Failure: true, Lineage: st.Name, Level: &lv,
			Title:   fmt.Sprintf("%s is %s (was %s)", st.Name, st.Status, was),
			Details: st.Reasons, Time: r.CheckedAt}
		if len(st.Drift) > 0 {
			m.Command = notify.FinishCommand(st.Dir)
		}
		msgs = append(msgs, m)
	}
	return msgs, next
}
