package deploy

import (
	"context"
	"time"

	"github.com/clbcert/clbcert/pkg/store"
)

// lineageState is what deploy remembers of one lineage.
type lineageState struct {
	// Uploads are this tool's uploads of the lineage, oldest first.
	Uploads []upload `json:"uploads"`
	// Bindings holds, per target, the certificate it had before this tool
	// last changed it: what `clbcert rollback` puts back.
	Bindings map[string]binding `json:"bindings"`
}

type upload struct {
	CertID      string    `json:"certId"`
	Fingerprint string    `json:"fingerprint"`
	NotAfter    time.Time `json:"notAfter"`
	At          time.Time `json:"at"`
}

type binding struct {
	Target   Target    `json:"target"`
	Previous string    `json:"previous"`
	Current  string    `json:"current"`
	At       time.Time `json:"at"`
}

func stateName(lineageName string) string {
	return "deploy-" + lineageName + ".json"
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

// recordBinding notes that t goes from previous to current. A re-run after a
// kill finds t already recorded with the same current certificate and keeps
// the original previous one, which is the one to roll back to.
func (s *lineageState) recordBinding(t Target, previous, current string, at time.Time) {
	if s.Bindings == nil {
		s.Bindings = map[string]binding{}
	}
	key := t.Region + "/" + t.String()
	if b, ok := s.Bindings[key]; ok && b.Current == current {
		return
	}
	s.Bindings[key] = binding{Target: t, Previous: previous, Current: current, At: at}
}

func (d *Deployer) loadState(ctx context.Context, lineageName string) (lineageState, error) {
	var st lineageState
	err := store.ReadJSON(d.store, stateName(lineageName), &st)
	return st, err
}

func (d *Deployer) updateState(ctx context.Context, lineageName string, fn func(*lineageState)) error {
	return store.UpdateJSON(ctx, d.store, stateName(lineageName), func(s *lineageState) error {
		fn(s)
		return nil
	})
}
