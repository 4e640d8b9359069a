package tcsim

import (
	"hash/fnv"
	"sync"
	"time"
)

// maxSessions is how many sticky sessions one listener or rule keeps before expired ones are
// swept, so a long run with many clients does not grow without bound.
const maxSessions = 4096

// candidate is a target a scheduler may choose: its "IP:PORT" and its weight (> 0).
type candidate struct {
	addr   string
	weight int
}

// balancer is the schedulers' state, per listener or rule (its pool key) and target address:
// smooth WRR's current weights, connections in flight and sticky sessions. The model's
// targets are re-read for every connection and request; keying this state by address lets
// a target that stays registered keep its place in the rotation whatever the API replaces.
type balancer struct {
	now func() time.Time // session expiry, on the simulator's clock

	mu    sync.Mutex
	pools map[string]*poolState
}

type poolState struct {
	current  map[string]int // smooth WRR's current weight of each eligible target
	active   map[string]int // connections (layer 4) or requests (layer 7) in flight
	sessions map[string]session
}

// session sticks a client IP to a target until a time.
type session struct {
	addr  string
	until time.Time
}

func newBalancer(now func() time.Time) *balancer {
	return &balancer{now: now, pools: map[string]*poolState{}}
}

// pick chooses one of set's eligible targets (there must be one) for a client and counts it
// as in flight until release is called.
//
// Session persistence comes first: a client IP seen within SessionExpire seconds goes back
// to its target while that target is eligible; every use renews the session. CLB keeps
// layer-7 sessions with a cookie; tcsim keys both layers by client IP, which is what a test
// can steer (by the local address it dials from).
func (b *balancer) pick(set backendSet, clientIP string) (addr string, release func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pools[set.key]
	if p == nil {
		p = &poolState{current: map[string]int{}, active: map[string]int{}, sessions: map[string]session{}}
		b.pools[set.key] = p
	}
	p.keepOnly(set.eligible)
	now := b.now()
	if set.sessionExpire > 0 {
		if s, ok := p.sessions[clientIP]; ok && now.Before(s.until) && hasAddr(set.eligible, s.addr) {
			addr = s.addr
		}
	}
	if addr == "" {
		switch set.scheduler {
		case schedIPHash:
			addr = ipHash(set.eligible, clientIP)
		case schedLeastConn:
			addr = p.leastConn(set.eligible)
		default:
			addr = p.smoothWRR(set.eligible)
		}
	}
	if set.sessionExpire > 0 {
		if len(p.sessions) >= maxSessions {
			p.sweep(now)
		}
		p.sessions[clientIP] = session{addr: addr, until: now.Add(time.Duration(set.sessionExpire) * time.Second)}
	}
	p.active[addr]++
	var once sync.Once
	return addr, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if p.active[addr]--; p.active[addr] <= 0 {
				delete(p.active, addr)
			}
		})
	}
}

// keepOnly forgets the rotation place of targets that are not eligible now, so one that comes
// back (healthy again, re-registered) starts from zero like a new peer in nginx.
func (p *poolState) keepOnly(eligible []candidate) {
	for addr := range p.current {
		if !hasAddr(eligible, addr) {
			delete(p.current, addr)
		}
	}
}

// smoothWRR is nginx's smooth weighted round robin: every candidate's current weight grows by
// its weight, the largest wins (the first on a tie) and gives back the total. Weights 3:1
// give a, a, b, a: exact proportions, interleaved, deterministic.
func (p *poolState) smoothWRR(cands []candidate) string {
	total, best := 0, -1
	for i, c := range cands {
		p.current[c.addr] += c.weight
		total += c.weight
		if best < 0 || p.current[c.addr] > p.current[cands[best].addr] {
			best = i
		}
	}
	p.current[cands[best].addr] -= total
	return cands[best].addr
}

// leastConn picks the candidate with the fewest connections in flight per unit of weight;
// ties go round robin by weight among the tied, as nginx's least_conn does.
func (p *poolState) leastConn(cands []candidate) string {
	var tied []candidate
	for _, c := range cands {
		if len(tied) == 0 {
			tied = append(tied, c)
			continue
		}
		// active/weight compared without division: a/wa < b/wb  <=>  a*wb < b*wa.
		lhs, rhs := p.active[c.addr]*tied[0].weight, p.active[tied[0].addr]*c.weight
		switch {
		case lhs < rhs:
			tied = append(tied[:0], c)
		case lhs == rhs:
			tied = append(tied, c)
		}
	}
	return p.smoothWRR(tied)
}

// ipHash maps a client IP onto the candidates in proportion to their weights. The same IP
// gets the same target as long as the eligible set and its weights stay the same.
func ipHash(cands []candidate, clientIP string) string {
	total := 0
	for _, c := range cands {
		total += c.weight
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(clientIP))
	n := int(h.Sum32() % uint32(total))
	for _, c := range cands {
		if n < c.weight {
			return c.addr
		}
		n -= c.weight
	}
	return cands[len(cands)-1].addr
}

func (p *poolState) sweep(now time.Time) {
	for ip, s := range p.sessions {
		if !now.Before(s.until) {
			delete(p.sessions, ip)
		}
	}
}

func hasAddr(cands []candidate, addr string) bool {
	for _, c := range cands {
		if c.addr == addr {
			return true
		}
	}
	return false
}
