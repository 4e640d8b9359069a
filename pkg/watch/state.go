package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/clbcert/clbcert/pkg/store"
)

// stateFile is the watcher's file in the state dir. It is separate from
// pkg/deploy's per-lineage files: those say what is bound where, this one
// only which leaf the watcher last saw deployed, so that a restart deploys
// exactly the renewals it missed.
const stateFile = "watch.json"

type stateDoc struct {
	Lineages map[string]deployed `json:"lineages"`
}

// deployed is the last successful deployment of one lineage.
type deployed struct {
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"deployedAt"`
}

func loadState(st *store.Store) (map[string]deployed, error) {
	var doc stateDoc
	if err := store.ReadJSON(st, stateFile, &doc); err != nil {
		return nil, fmt.Errorf("read the watcher's state: %w", err)
	}
	if doc.Lineages == nil {
		doc.Lineages = map[string]deployed{}
	}
	return doc.Lineages, nil
}

// saveDeployed records one lineage's deployment; the store writes the whole
// file atomically under its lock, so a kill leaves the old or the new record.
func saveDeployed(ctx context.Context, st *store.Store, name string, d deployed) error {
	err := store.UpdateJSON(ctx, st, stateFile, func(doc *stateDoc) error {
		if doc.Lineages == nil {
			doc.Lineages = map[string]deployed{}
		}
		doc.Lineages[name] = d
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the deployment of %s: %w (it will be deployed again at the next start)", name, err)
	}
	return nil
}
