package dns01

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/clbcert/clbcert/pkg/store"
)

// pendingFile remembers the records of runs in progress, so that the last
// challenge of a run can wait for all of them at once and a cleanup without
// CERTBOT_AUTH_OUTPUT (lego's exec provider) still knows the record id.
const pendingFile = "dns01-pending.json"

// A record of the same run older than sameRunLeftover cannot belong to the
// run in progress (a run's auth calls follow each other within seconds): it
// was left by an earlier attempt that never cleaned up. Records of other runs
// are left alone for a day, as such a run may still be waiting.
const (
	sameRunLeftover = 10 * time.Minute
	anyRunLeftover  = 24 * time.Hour
)

type pendingState struct {
	Records []pendingRecord `json:"records"`
}

type pendingRecord struct {
	Run     string    `json:"run"`
	Created time.Time `json:"created"`
	Record
}

// Challenge is one certbot DNS-01 auth or cleanup call.
type Challenge struct {
	Domain     string   // CERTBOT_DOMAIN (certbot strips "*." from wildcards)
	Value      string   // CERTBOT_VALIDATION
	Remaining  int      // CERTBOT_REMAINING_CHALLENGES: how many auth calls follow
	AllDomains []string // CERTBOT_ALL_DOMAINS
}

func (c Challenge) fqdn() string {
	return "_acme-challenge." + normalize(strings.TrimPrefix(c.Domain, "*."))
}

// run names the certbot run the challenge belongs to: certbot holds a lock
// per config dir, so the certificate's names identify a run in progress.
func (c Challenge) run() string {
	if len(c.AllDomains) == 0 {
		return "certbot:" + c.fqdn()
	}
	names := make([]string, len(c.AllDomains))
	for i, d := range c.AllDomains {
		names[i] = normalize(d)
	}
	slices.Sort(names)
	return "certbot:" + strings.Join(names, ",")
}

// Hook runs the hook commands on top of a Provider and the state store.
type Hook struct {
	Provider *Provider
	Store    *store.Store
	// Now is the clock for leftover detection; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

func (h *Hook) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Hook) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// Auth creates the challenge's TXT record and, on the last challenge of the
// run, waits once for every record of the run. The record is returned even
// when the wait fails, so its identity still reaches the cleanup call.
func (h *Hook) Auth(ctx context.Context, ch Challenge) (Record, error) {
	if err := h.checkState(ctx); err != nil {
		return Record{}, err
	}
	run := ch.run()
	h.removeLeftovers(ctx, run)
	rec, err := h.Provider.Present(ctx, ch.fqdn(), ch.Value)
	if err != nil {
		return Record{}, err
	}
	if err := h.remember(ctx, run, rec); err != nil {
		return rec, err
	}
	if ch.Remaining > 0 {
		return rec, nil
	}
	state, err := h.load()
	if err != nil {
		return rec, err
	}
	var recs []Record
	for _, p := range state.Records {
		if p.Run == run {
			recs = append(recs, p.Record)
		}
	}
	return rec, h.Provider.Wait(ctx, recs)
}

// Cleanup deletes the record that the matching Auth call created, and no
// other. authOutput (CERTBOT_AUTH_OUTPUT) comes from the environment, so the
// record id it names is never deleted on its word alone: the record
// remembered in the state dir for this name and value is deleted, or,
// without one, the TXT records at this challenge's name (after its CNAME)
// that hold this challenge's value. An id naming anything else is reported
// on stderr and left alone.
// Tested by TestCleanupRefusesForeignRecord (pkg/dns01 and hooks/clbcert-dns).
func (h *Hook) Cleanup(ctx context.Context, ch Challenge, authOutput string) error {
	var claimed uint64
	if strings.TrimSpace(authOutput) != "" {
		rec, err := ParseRecord(authOutput)
		if err != nil {
			h.log().Warn("ignoring CERTBOT_AUTH_OUTPUT; looking the record up instead", "error", err)
		}
		claimed = rec.ID
	}
	return h.cleanup(ctx, ch.fqdn(), ch.Value, claimed)
}

// Present is lego's exec "present": create the record and wait for it.
func (h *Hook) Present(ctx context.Context, fqdn, value string) (Record, error) {
	if err := h.checkState(ctx); err != nil {
		return Record{}, err
	}
	run := "exec:" + normalize(fqdn) + ":" + value
	h.removeLeftovers(ctx, run)
	rec, err := h.Provider.Present(ctx, fqdn, value)
	if err != nil {
		return Record{}, err
	}
	if err := h.remember(ctx, run, rec); err != nil {
		return rec, err
	}
	return rec, h.Provider.Wait(ctx, []Record{rec})
}

// CleanupFQDN is lego's exec "cleanup": delete what Present created.
func (h *Hook) CleanupFQDN(ctx context.Context, fqdn, value string) error {
	return h.cleanup(ctx, normalize(fqdn), value, 0)
}

// cleanup deletes the TXT record of fqdn and value: by the id the state dir
// remembers, else by name and value. claimed, if not 0, is the id the caller
// was handed; it is only compared with what was deleted.
func (h *Hook) cleanup(ctx context.Context, fqdn, value string, claimed uint64) error {
	state, err := h.load()
	if err != nil {
		return err
	}
	var rec Record
	for _, p := range state.Records {
		if p.Name == fqdn && p.Value == value {
			rec = p.Record
		}
	}
	if rec.ID != 0 {
		if claimed != 0 && claimed != rec.ID {
			h.log().Warn("CERTBOT_AUTH_OUTPUT names another record than the one auth created for this challenge: left it alone", "named", claimed, "deleting", rec.ID, "name", rec.Target)
		}
		if err := h.Provider.CleanUp(ctx, rec); err != nil {
			return err
		}
		return h.forget(ctx, fqdn, value)
	}
	if rec, err = h.Provider.Locate(ctx, fqdn, value); err != nil {
		return err
	}
	ids, err := h.Provider.DeleteByValue(ctx, rec)
	if err != nil {
		return err
	}
	if claimed != 0 && !slices.Contains(ids, claimed) {
		h.log().Warn("CERTBOT_AUTH_OUTPUT names a record that is not this challenge's TXT record: left it alone and deleted by name and value instead", "named", claimed, "name", rec.Target, "deleted", ids)
	}
	return h.forget(ctx, fqdn, value)
}

// checkState fails, wrapping store.ErrNotWritable, if a record created now
// could not be remembered: no later run could then delete it.
// Tested by TestUnwritableStateDir (hooks/clbcert-dns).
func (h *Hook) checkState(ctx context.Context) error {
	if err := h.Store.CheckWritable(ctx, pendingFile); err != nil {
		return fmt.Errorf("%w: the TXT record would be created but not recorded there, so no cleanup could find it", err)
	}
	return nil
}

func (h *Hook) load() (pendingState, error) {
	var st pendingState
	err := store.ReadJSON(h.Store, pendingFile, &st)
	return st, err
}

func (h *Hook) remember(ctx context.Context, run string, rec Record) error {
	err := store.UpdateJSON(ctx, h.Store, pendingFile, func(s *pendingState) error {
		s.Records = append(s.Records, pendingRecord{Run: run, Created: h.now(), Record: rec})
		return nil
	})
	if err != nil {
		return fmt.Errorf("remember TXT record %d in %s: %w", rec.ID, h.Store.Dir(), err)
	}
	return nil
}

func (h *Hook) forget(ctx context.Context, fqdn, value string) error {
	return store.UpdateJSON(ctx, h.Store, pendingFile, func(s *pendingState) error {
		s.Records = slices.DeleteFunc(s.Records, func(p pendingRecord) bool { return p.Name == fqdn && p.Value == value })
		return nil
	})
}

// removeLeftovers deletes records that interrupted runs never cleaned up.
// It is best effort: a failure is logged, and the hook goes on with its job.
func (h *Hook) removeLeftovers(ctx context.Context, run string) {
	now := h.now()
	var stale []pendingRecord
	err := store.UpdateJSON(ctx, h.Store, pendingFile, func(s *pendingState) error {
		s.Records = slices.DeleteFunc(s.Records, func(p pendingRecord) bool {
			age := now.Sub(p.Created)
			if (p.Run == run && age > sameRunLeftover) || age > anyRunLeftover {
				stale = append(stale, p)
				return true
			}
			return false
		})
		return nil
	})
	if err != nil {
		h.log().Warn("could not read pending records", "error", err)
		return
	}
	for _, p := range stale {
		h.log().Warn("removing a TXT record left by an interrupted run", "name", p.Target, "zone", p.Zone, "id", p.ID, "created", p.Created.Format(time.RFC3339))
		if err := h.Provider.CleanUp(ctx, p.Record); err != nil {
			h.log().Warn("could not remove leftover TXT record; delete it in the DNSPod console", "name", p.Target, "id", p.ID, "error", err)
		}
	}
}
