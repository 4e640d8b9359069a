package deploy

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	certbinding "github.com/clbcert/clbcert/pkg/binding"
	"github.com/clbcert/clbcert/pkg/clb"
	"github.com/clbcert/clbcert/pkg/store"
)

// lineageState is what deploy remembers of one lineage.
type lineageState struct {
	// Uploads are this tool's uploads of the lineage, oldest first.
	Uploads []upload `json:"uploads"`
	// Bindings holds, per target, the binding it had before this tool last
	// changed it: what `clbcert rollback` puts back.
	Bindings map[string]binding `json:"bindings"`
	// Resources holds, per resource of a product other than CLB, the
	// certificate it held before this tool last moved it.
	Resources map[string]resourceBinding `json:"resources,omitempty"`
}

// resourceBinding is binding's counterpart for a resource of another
// product.
type resourceBinding struct {
	Resource       Resource  `json:"resource"`
	Previous       string    `json:"previous"`
	Current        string    `json:"current"`
	At             time.Time `json:"at"`
	RolledBackFrom string    `json:"rolledBackFrom,omitempty"`
}

type upload struct {
	CertID      string    `json:"certId"`
	Fingerprint string    `json:"fingerprint"`
	NotAfter    time.Time `json:"notAfter"`
	At          time.Time `json:"at"`
}

type binding struct {
	Target clb.Address `json:"target"`
	// Previous is the certificate CLB reported as the binding's CertId
	// before the change, Current the one after; "" Previous once rolled
	// back (or if the target had nothing bound). State files written
	// before dual bindings hold only these.
	Previous string `json:"previous"`
	Current  string `json:"current"`
	// Before is the whole binding rollback puts back (every member, the
	// SSL mode, client CA and verification), After what the deploy wrote;
	// Before is nil once rolled back.
	Before *certbinding.Binding `json:"before,omitempty"`
	After  *certbinding.Binding `json:"after,omitempty"`
	At     time.Time            `json:"at"`
	// RolledBackFrom is the certificate a rollback replaced with Current.
	RolledBackFrom string `json:"rolledBackFrom,omitempty"`
}

// previous is the binding rollback puts back, and whether there is one. A
// record from before dual bindings names one certificate: it goes back with
// the settings the target has now (served), as that deploy kept them.
func (b binding) previous(served certbinding.Binding) (certbinding.Binding, bool) {
	switch {
	case b.Before != nil:
		return *b.Before, len(b.Before.Members) > 0
	case b.Previous == "":
		return certbinding.Binding{}, false
	}
	return withSettings(b.Previous, served), true
}

// current is the binding the deploy (or rollback) left, as previous reads it.
func (b binding) current(served certbinding.Binding) certbinding.Binding {
	if b.After != nil {
		return *b.After
	}
	return withSettings(b.Current, served)
}

// withSettings is certificate id alone, with the SSL mode, client CA and
// verification of served: how a record from before dual bindings reads.
func withSettings(id string, served certbinding.Binding) certbinding.Binding {
	b := served
	b.Members = []certbinding.Member{{CertID: id}}
	return b
}

// pending reports whether rollback has something to put back.
func (b binding) pending() bool {
	if b.Before != nil {
		return len(b.Before.Members) > 0 && (b.After == nil || !certbinding.Equal(*b.Before, *b.After))
	}
	return b.Previous != "" && b.Previous != b.Current
}

// previousIDs are the certificates rollback would put back.
func (b binding) previousIDs() []string {
	if b.Before != nil {
		return b.Before.CertIDs()
	}
	if b.Previous == "" {
		return nil
	}
	return []string{b.Previous}
}

const (
	statePrefix = "deploy-"
	stateSuffix = ".json"
)

func stateName(lineageName string) string {
	return statePrefix + lineageName + stateSuffix
}

// RecordedLineages lists, sorted, the lineages deploy has recorded in st.
func RecordedLineages(st *store.Store) ([]string, error) {
	entries, err := os.ReadDir(st.Dir())
	if err != nil {
		return nil, fmt.Errorf("list the state dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), statePrefix)
		if name, ok2 := strings.CutSuffix(name, stateSuffix); ok && ok2 && name != "" && e.Type().IsRegular() {
			out = append(out, name)
		}
	}
	return out, nil
}

// RecordedRegions lists, sorted, the regions of the targets deploy
// recorded for the lineages: where rollback works, and where prune must
// look for load balancers that still use an upload.
func RecordedRegions(st *store.Store, lineages ...string) ([]string, error) {
	var out []string
	for _, name := range lineages {
		s, err := readState(st, name)
		if err != nil {
			return nil, err
		}
		for _, b := range s.Bindings {
			if !slices.Contains(out, b.Target.Region) {
				out = append(out, b.Target.Region)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// RecordedProducts lists, sorted, the products other than CLB whose
// resources deploy recorded for the lineage: what a rollback moves back
// besides the targets of RecordedRegions.
func RecordedProducts(st *store.Store, lineageName string) ([]string, error) {
	s, err := readState(st, lineageName)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range s.Resources {
		if !slices.Contains(out, b.Resource.Type) {
			out = append(out, b.Resource.Type)
		}
	}
	slices.Sort(out)
	return out, nil
}

// RecordedUploads are the certificate ids of the lineage's uploads recorded
// in st whose leaf has the fingerprint.
func RecordedUploads(st *store.Store, lineageName, fingerprint string) ([]string, error) {
	s, err := readState(st, lineageName)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range s.Uploads {
		if u.Fingerprint == fingerprint {
			out = append(out, u.CertID)
		}
	}
	return out, nil
}

// rollbackNeeds maps each certificate that a recorded rollback of any
// lineage in the state dir would put back to one target that needs it.
func (d *Deployer) rollbackNeeds() (map[string]string, error) {
	names, err := RecordedLineages(d.store)
	if err != nil {
		return nil, err
	}
	needs := map[string]string{}
	for _, name := range names {
		s, err := readState(d.store, name)
		if err != nil {
			return nil, err
		}
		for _, b := range s.Bindings {
			for _, id := range b.previousIDs() {
				needs[id] = fmt.Sprintf("%s %s (rollback of %s)", b.Target.Region, b.Target, name)
			}
		}
		for _, b := range s.Resources {
			if b.Previous != "" {
				needs[b.Previous] = fmt.Sprintf("%s (rollback of %s)", b.Resource, name)
			}
		}
	}
	return needs, nil
}

func (s *lineageState) uploadOf(fingerprint string) string {
	for _, u := range s.Uploads {
		if u.Fingerprint == fingerprint {
			return u.CertID
		}
	}
	return ""
}

func (s *lineageState) addUpload(u upload) {
	for _, have := range s.Uploads {
		if have.CertID == u.CertID {
			return
		}
	}
	s.Uploads = append(s.Uploads, u)
}

// recordBinding notes that t goes from before, what this deploy saw on it
// (its report's BEFORE), to after. That is what rollback puts back, even
// when an earlier deploy to the same certificate recorded another one: the
// target was changed outside clbcert since, and rollback undoes the last
// deploy (TestRollbackRestoresWhatTheLastDeployReplaced). A re-run after a
// kill sees the same binding before, or the one after where the killed run
// got that far, and keeps the first record.
func (s *lineageState) recordBinding(t clb.Address, before, after certbinding.Binding, at time.Time) {
	if s.Bindings == nil {
		s.Bindings = map[string]binding{}
	}
	key := t.Key()
	if b, ok := s.Bindings[key]; ok && b.After != nil && certbinding.Equal(*b.After, after) &&
		((b.Before != nil && certbinding.Equal(*b.Before, before)) || certbinding.Equal(before, after)) {
		return
	}
	s.Bindings[key] = binding{Target: t, Previous: firstID(before), Current: firstID(after), Before: &before, After: &after, At: at}
}

// firstID is the certificate a binding's CertId names, or "" for none.
func firstID(b certbinding.Binding) string {
	if len(b.Members) == 0 {
		return ""
	}
	return b.Members[0].CertID
}

// recordResource is recordBinding for a resource of another product.
func (s *lineageState) recordResource(r Resource, previous, current string, at time.Time) {
	if s.Resources == nil {
		s.Resources = map[string]resourceBinding{}
	}
	key := r.String()
	if b, ok := s.Resources[key]; ok && b.Current == current && (b.Previous == previous || previous == current) {
		return
	}
	s.Resources[key] = resourceBinding{Resource: r, Previous: previous, Current: current, At: at}
}

// readState is what st records of the lineage; empty if nothing.
func readState(st *store.Store, lineageName string) (lineageState, error) {
	var s lineageState
	err := store.ReadJSON(st, stateName(lineageName), &s)
	return s, err
}

func (d *Deployer) updateState(ctx context.Context, lineageName string, fn func(*lineageState)) error {
	return store.UpdateJSON(ctx, d.store, stateName(lineageName), func(s *lineageState) error {
		fn(s)
		return nil
	})
}

// checkState refuses a deployment whose state dir cannot be written: every
// change is recorded first (the upload, the certificate each target had),
// so without it the change would be made and then not recorded, and a
// later rollback or prune would not know of it.
// Tested by TestDeployUnwritableStateDir.
func (d *Deployer) checkState(ctx context.Context, lineageName string) error {
	if err := d.store.CheckWritable(ctx, stateName(lineageName)); err != nil {
		return fmt.Errorf("%w: cannot record the deployment of %s: %w", ErrRefused, lineageName, err)
	}
	return nil
}

// removeStaleTemp deletes the temp file of a run killed while it wrote the
// lineage's state. Tested by TestDeployRemovesAKilledRunsTempFile.
func (d *Deployer) removeStaleTemp(ctx context.Context, lineageName string) error {
	return d.store.RemoveTemp(ctx, stateName(lineageName))
}
