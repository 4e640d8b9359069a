package tcsim

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/clocktest"
)

func cands(weights ...int) []candidate {
	out := make([]candidate, len(weights))
	for i, w := range weights {
		out[i] = candidate{addr: string(rune('a' + i)), weight: w}
	}
	return out
}

func TestSmoothWRRSequence(t *testing.T) {
	tests := []struct {
		weights []int
		want    string
	}{
		// nginx's own example (ngx_http_upstream_round_robin.c): 5, 1, 1.
		{[]int{5, 1, 1}, "aabacaa"},
		{[]int{3, 1}, "aaba"},
		{[]int{1, 1, 1}, "abc"},
		{[]int{30, 10}, "aaba"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			b := newBalancer(time.Now)
			set := backendSet{key: "lb/l", scheduler: schedWRR, eligible: cands(tt.weights...)}
			var got []byte
			for range 2 * len(tt.want) {
				addr, release := b.pick(set, "127.0.0.2")
				release()
				got = append(got, addr[0])
			}
			if string(got) != tt.want+tt.want {
				t.Errorf("sequence %s, want %s twice", got, tt.want)
			}
		})
	}
}

func TestLeastConn(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		held    []int // connections already open on each candidate
		want    string
	}{
		{"fewest wins", []int{10, 10, 10}, []int{2, 0, 1}, "b"},
		{"per unit of weight", []int{30, 10}, []int{2, 1}, "a"}, // 2/30 < 1/10
		{"heavier takes more", []int{30, 10}, []int{3, 1}, "a"}, // 3/30 = 1/10: tie, WRR picks a
		{"idle tie goes by weight", []int{10, 30}, []int{0, 0}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBalancer(time.Now)
			set := backendSet{key: "lb/l", scheduler: schedLeastConn, eligible: cands(tt.weights...)}
			p := &poolState{current: map[string]int{}, active: map[string]int{}, sessions: map[string]session{}}
			for i, n := range tt.held {
				p.active[set.eligible[i].addr] = n
			}
			b.pools[set.key] = p
			if got, _ := b.pick(set, "127.0.0.2"); got != tt.want {
				t.Errorf("picked %s, want %s", got, tt.want)
			}
		})
	}
}

func TestReleaseCountsDown(t *testing.T) {
	b := newBalancer(time.Now)
	set := backendSet{key: "lb/l", scheduler: schedLeastConn, eligible: cands(10, 10)}
	first, release := b.pick(set, "127.0.0.2")
	second, _ := b.pick(set, "127.0.0.2")
	if first == second {
		t.Fatalf("two open connections went to %s", first)
	}
	release()
	release() // a second call must not count down again
	if got, _ := b.pick(set, "127.0.0.2"); got != first {
		t.Errorf("after release %s has 0 open, %s has 1; picked %s", first, second, got)
	}
}

func TestIPHashStable(t *testing.T) {
	b := newBalancer(time.Now)
	set := backendSet{key: "lb/l", scheduler: schedIPHash, eligible: cands(10, 10, 10)}
	used := map[string]bool{}
	for i := 2; i < 20; i++ {
		ip := fmt.Sprintf("127.0.0.%d", i)
		first, _ := b.pick(set, ip)
		used[first] = true
		for range 5 {
			if got, _ := b.pick(set, ip); got != first {
				t.Fatalf("client %s went to %s, then %s", ip, first, got)
			}
		}
	}
	if len(used) != 3 {
		t.Errorf("18 clients over 3 targets used only %v", used)
	}
}

func TestSessionPersistence(t *testing.T) {
	clock := clocktest.New(time.Now())
	b := newBalancer(clock.Now)
	set := backendSet{key: "lb/l", scheduler: schedWRR, sessionExpire: 30, eligible: cands(10, 10)}
	first, _ := b.pick(set, "127.0.0.2")
	other, _ := b.pick(set, "127.0.0.3")
	if first == other {
		t.Fatalf("WRR sent two new clients to %s", first)
	}
	for range 3 {
		clock.Advance(29 * time.Second) // each use renews the session
		if got, _ := b.pick(set, "127.0.0.2"); got != first {
			t.Fatalf("sticky client moved from %s to %s", first, got)
		}
	}
	onlyOther := backendSet{key: set.key, scheduler: schedWRR, sessionExpire: 30, eligible: slices.DeleteFunc(cands(10, 10), func(c candidate) bool { return c.addr == first })}
	if got, _ := b.pick(onlyOther, "127.0.0.2"); got == first {
		t.Errorf("session kept a target that is no longer eligible")
	}
	clock.Advance(31 * time.Second)
	var seen []string
	for range 4 {
		got, _ := b.pick(backendSet{key: set.key, scheduler: schedWRR, eligible: set.eligible}, "127.0.0.2")
		seen = append(seen, got)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(seen))); len(distinct) != 2 {
		t.Errorf("without persistence the client is balanced: %v", seen)
	}
}
