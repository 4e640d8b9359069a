package tcsim

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	defaultLine   = "默认"
	defaultLineID = "0"
	statusEnable  = "ENABLE"
	statusDisable = "DISABLE"
)

// Sentinel results of zone changes; dnspod.go turns them into API error codes.
var (
	errRecordExists  = errors.New("an identical record already exists")
	errCNAMEConflict = errors.New("a CNAME record cannot share its host and line with other records")
	errNoSuchRecord  = errors.New("no such record in this zone")
	errDefaultNS     = errors.New("the default NS records cannot be changed")
)

// recordData is the content of a record at one point of its history.
type recordData struct {
	Name   string  `json:"name"` // relative host, lower case: "@", "www", "_acme-challenge.www"
	Type   string  `json:"type"`
	Value  string  `json:"value"` // TXT verbatim; host names lower case with a trailing dot
	LineID string  `json:"lineId"`
	Line   string  `json:"line"`
	TTL    uint64  `json:"ttl"`
	MX     uint64  `json:"mx,omitempty"`
	Weight *uint64 `json:"weight,omitempty"`
	Status string  `json:"status"`
	Remark string  `json:"remark,omitempty"`
}

// revision is one change of a record. Data nil means the record was deleted.
type revision struct {
	At   time.Time   `json:"at"`
	Data *recordData `json:"data"`
}

// zoneRecord keeps a record's whole history, because each nameserver serves the revision that
// was current PropagationDelay+Lag ago, not the latest one.
type zoneRecord struct {
	ID        uint64     `json:"id"`
	Created   time.Time  `json:"created"`
	Initial   bool       `json:"initial,omitempty"` // from Options: served and listed at once
	DefaultNS bool       `json:"defaultNS,omitempty"`
	History   []revision `json:"history"`
}

func (r *zoneRecord) latest() *recordData { return r.History[len(r.History)-1].Data }

func (r *zoneRecord) updated() time.Time { return r.History[len(r.History)-1].At }

// asOf is the content that was current at t: what a server whose propagation delay is
// now-t serves. The first revision of an initial record is always visible.
func (r *zoneRecord) asOf(t time.Time) *recordData {
	for i := len(r.History) - 1; i >= 0; i-- {
		if !r.History[i].At.After(t) || (i == 0 && r.Initial) {
			return r.History[i].Data
		}
	}
	return nil
}

type zone struct {
	ID      uint64
	Name    string // "example.test": lower case, no trailing dot
	MinTTL  uint64
	Created time.Time
	records []*zoneRecord // ascending ID
	byID    map[uint64]*zoneRecord
}

// zoneInfo is a copy of a zone's facts, safe to use without the store's lock.
type zoneInfo struct {
	ID          uint64
	Name        string
	MinTTL      uint64
	Created     time.Time
	Updated     time.Time
	RecordCount int
}

// listedRecord is a record as the API shows it now.
type listedRecord struct {
	ID        uint64
	Data      recordData
	DefaultNS bool
	Created   time.Time
	Updated   time.Time
}

// zoneStore holds the account's zones. The set of zones is fixed once the simulator runs; the
// records change through the API and AddRecord.
type zoneStore struct {
	mu     sync.RWMutex
	zones  map[string]*zone
	byID   map[uint64]*zone
	names  []string // sorted
	nextID uint64
}

func newZoneStore(firstRecordID uint64) *zoneStore {
	return &zoneStore{zones: map[string]*zone{}, byID: map[uint64]*zone{}, nextID: firstRecordID}
}

// addZone is for construction only, before the store is shared.
func (s *zoneStore) addZone(id uint64, name string, minTTL uint64, created time.Time) {
	z := &zone{ID: id, Name: name, MinTTL: minTTL, Created: created, byID: map[uint64]*zoneRecord{}}
	s.zones[name] = z
	s.byID[id] = z
	s.names = append(s.names, name)
	sort.Strings(s.names)
}

func (s *zoneStore) zoneNames() []string { return s.names }

// info is what the DNSPod actions report of z; false for no zone. The caller holds s.mu.
func (s *zoneStore) info(z *zone) (zoneInfo, bool) {
	if z == nil {
		return zoneInfo{}, false
	}
	zi := zoneInfo{ID: z.ID, Name: z.Name, MinTTL: z.MinTTL, Created: z.Created, Updated: z.Created}
	for _, r := range z.records {
		if r.latest() != nil {
			zi.RecordCount++
		}
		if (len(r.History) > 1 || !r.Initial) && r.updated().After(zi.Updated) {
			zi.Updated = r.updated()
		}
	}
	return zi, true
}

func (s *zoneStore) zoneByName(name string) (zoneInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.info(s.zones[name])
}

func (s *zoneStore) zoneByID(id uint64) (zoneInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.info(s.byID[id])
}

// zoneFor finds the served zone that contains fqdn (longest suffix wins).
func (s *zoneStore) zoneFor(fqdn string) (string, bool) {
	name := strings.TrimSuffix(strings.ToLower(fqdn), ".")
	for {
		if _, ok := s.zones[name]; ok {
			return name, true
		}
		_, parent, found := strings.Cut(name, ".")
		if !found {
			return "", false
		}
		name = parent
	}
}

type insertKind int

const (
	insertChange    insertKind = iota // through the API or AddRecord
	insertInitial                     // from Options: visible at once
	insertDefaultNS                   // the zone's own NS records
)

// insert adds a record at time at and returns its id.
func (s *zoneStore) insert(zoneName string, d recordData, at time.Time, kind insertKind) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, ok := s.zones[zoneName]
	if !ok {
		return 0, errNoSuchRecord
	}
	if kind != insertDefaultNS {
		if err := z.conflict(d, 0); err != nil {
			return 0, err
		}
	}
	id := s.nextID
	s.nextID++
	r := &zoneRecord{
		ID:        id,
		Created:   at,
		Initial:   kind != insertChange,
		DefaultNS: kind == insertDefaultNS,
		History:   []revision{{At: at, Data: &d}},
	}
	z.records = append(z.records, r)
	z.byID[id] = r
	return id, nil
}

// modify replaces a record's content at time at.
func (s *zoneStore) modify(zoneName string, id uint64, d recordData, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.liveRecord(zoneName, id)
	if err != nil {
		return err
	}
	if err := s.zones[zoneName].conflict(d, id); err != nil {
		return err
	}
	r.History = append(r.History, revision{At: at, Data: &d})
	return nil
}

// remove deletes a record at time at; nameservers keep serving it until the change reaches them.
func (s *zoneStore) remove(zoneName string, id uint64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.liveRecord(zoneName, id)
	if err != nil {
		return err
	}
	r.History = append(r.History, revision{At: at})
	return nil
}

// liveRecord finds a record that exists now in zoneName. Callers hold the write lock.
func (s *zoneStore) liveRecord(zoneName string, id uint64) (*zoneRecord, error) {
	z, ok := s.zones[zoneName]
	if !ok {
		return nil, errNoSuchRecord
	}
	r, ok := z.byID[id]
	if !ok || r.latest() == nil {
		return nil, errNoSuchRecord
	}
	if r.DefaultNS {
		return nil, errDefaultNS
	}
	return r, nil
}

// conflict applies DNSPod's rules for records on the same host and line: an identical record
// is refused, and a CNAME excludes every other record (RFC 1034 §3.6.2).
func (z *zone) conflict(d recordData, self uint64) error {
	var sameHost []*recordData
	for _, r := range z.records {
		cur := r.latest()
		if r.ID == self || cur == nil || cur.Name != d.Name || cur.LineID != d.LineID {
			continue
		}
		if cur.Type == d.Type && cur.Value == d.Value {
			return errRecordExists
		}
		sameHost = append(sameHost, cur)
	}
	for _, cur := range sameHost {
		if cur.Type == "CNAME" || d.Type == "CNAME" {
			return errCNAMEConflict
		}
	}
	return nil
}

// listed is what DescribeRecordList can see at now: current content of live records, except
// those created less than listingDelay ago (the documented indexing delay).
func (s *zoneStore) listed(zoneName string, now time.Time, listingDelay time.Duration) []listedRecord {
	return s.current(zoneName, func(r *zoneRecord) bool {
		return r.Initial || !now.Before(r.Created.Add(listingDelay))
	})
}

// live is every record that exists now, with no listing delay.
func (s *zoneStore) live(zoneName string) []listedRecord {
	return s.current(zoneName, func(*zoneRecord) bool { return true })
}

func (s *zoneStore) current(zoneName string, include func(*zoneRecord) bool) []listedRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, ok := s.zones[zoneName]
	if !ok {
		return nil
	}
	var out []listedRecord
	for _, r := range z.records {
		if cur := r.latest(); cur != nil && include(r) {
			out = append(out, listedRecord{ID: r.ID, Data: *cur, DefaultNS: r.DefaultNS, Created: r.Created, Updated: r.updated()})
		}
	}
	return out
}

// served returns the enabled records a nameserver serves at t (its clock minus its delay),
// and the time of the newest change it has seen, for the SOA serial.
func (s *zoneStore) served(zoneName string, t time.Time) ([]recordData, time.Time) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, ok := s.zones[zoneName]
	if !ok {
		return nil, time.Time{}
	}
	newest := z.Created
	var out []recordData
	for _, r := range z.records {
		for i, rev := range r.History {
			if (i > 0 || !r.Initial) && !rev.At.After(t) && rev.At.After(newest) {
				newest = rev.At
			}
		}
		if d := r.asOf(t); d != nil && d.Status == statusEnable {
			out = append(out, *d)
		}
	}
	return out, newest
}

type zoneDump struct {
	ID      uint64        `json:"id"`
	Name    string        `json:"name"`
	MinTTL  uint64        `json:"minTTL"`
	Created time.Time     `json:"created"`
	Records []*zoneRecord `json:"records"`
}

// dump marshals the zones with every record's history, under the read lock.
func (s *zoneStore) dump() (json.RawMessage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	zones := make([]zoneDump, 0, len(s.names))
	for _, name := range s.names {
		z := s.zones[name]
		zones = append(zones, zoneDump{ID: z.ID, Name: z.Name, MinTTL: z.MinTTL, Created: z.Created, Records: z.records})
	}
	return json.Marshal(zones)
}

// ownerName is the FQDN a relative host denotes in zoneName. A host that already ends with the
// zone name is not special: DNSPod prefixes it like any other host.
func ownerName(host, zoneName string) string {
	if host == "@" {
		return zoneName + "."
	}
	return host + "." + zoneName + "."
}
