package notify

import (
	"context"
	"fmt"

	"github.com/clbcert/clbcert/pkg/level"
	"github.com/clbcert/clbcert/pkg/store"
)

// ledgerFile is the file in the state dir that remembers what was last
// notified, so that a job run by cron or certbot neither repeats itself
// every run nor misses a recovery.
const ledgerFile = "notified.json"

// Ledger remembers the level last notified per subject ("deploy
// example.com", "status example.com").
type Ledger struct{ st *store.Store }

type ledgerDoc struct {
	Levels map[string]level.Level `json:"levels"`
}

// NewLedger keeps its record in st.
func NewLedger(st *store.Store) *Ledger { return &Ledger{st: st} }

// Last is the level last recorded for subject; OK when none was.
func (l *Ledger) Last(subject string) (level.Level, error) {
	levels, err := l.LastOf(subject)
	return levels[subject], err
}

// LastOf is the level last recorded for each subject (OK when none was),
// read once for them all.
func (l *Ledger) LastOf(subjects ...string) (map[string]level.Level, error) {
	var doc ledgerDoc
	err := store.ReadJSON(l.st, ledgerFile, &doc)
	out := make(map[string]level.Level, len(subjects))
	for _, s := range subjects {
		out[s] = level.OK
		if err == nil {
			if lv, ok := doc.Levels[s]; ok {
				out[s] = lv
			}
		}
	}
	if err != nil {
		return out, fmt.Errorf("read what was last notified: %w", err)
	}
	return out, nil
}

// Record keeps lv as subject's last level (OK forgets the subject).
func (l *Ledger) Record(ctx context.Context, subject string, lv level.Level) error {
	return l.RecordAll(ctx, map[string]level.Level{subject: lv})
}

// RecordAll records each subject's level as Record does, in one write.
func (l *Ledger) RecordAll(ctx context.Context, levels map[string]level.Level) error {
	err := store.UpdateJSON(ctx, l.st, ledgerFile, func(doc *ledgerDoc) error {
		if doc.Levels == nil {
			doc.Levels = map[string]level.Level{}
		}
		for subject, lv := range levels {
			if lv == level.OK {
				delete(doc.Levels, subject)
			} else {
				doc.Levels[subject] = lv
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record what was notified: %w", err)
	}
	return nil
}
