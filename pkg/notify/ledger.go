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
	var doc ledgerDoc
	if err := store.ReadJSON(l.st, ledgerFile, &doc); err != nil {
		return level.OK, fmt.Errorf("read what was last notified: %w", err)
	}
	if lv, ok := doc.Levels[subject]; ok {
		return lv, nil
	}
	return level.OK, nil
}

// Record keeps lv as subject's last level (OK forgets the subject).
func (l *Ledger) Record(ctx context.Context, subject string, lv level.Level) error {
	err := store.UpdateJSON(ctx, l.st, ledgerFile, func(doc *ledgerDoc) error {
		if doc.Levels == nil {
			doc.Levels = map[string]level.Level{}
		}
		if lv == level.OK {
			delete(doc.Levels, subject)
		} else {
			doc.Levels[subject] = lv
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record what was notified: %w", err)
	}
	return nil
}
