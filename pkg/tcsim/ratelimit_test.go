package tcsim

import (
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/clocktest"
)

func TestRateLimiter(t *testing.T) {
	clock := clocktest.New(time.Now())
	l := newRateLimiter(map[string]int{"CreateRecord": 2, "Free": 0}, clock.Now)
	steps := []struct {
		advance time.Duration
		action  string
		want    bool
	}{
		{0, "CreateRecord", true},
		{0, "CreateRecord", true}, // burst = rate
		{0, "CreateRecord", false},
		{400 * time.Millisecond, "CreateRecord", false}, // 0.8 tokens
		{100 * time.Millisecond, "CreateRecord", true},  // 1 token
		{10 * time.Second, "CreateRecord", true},        // refills only up to the burst
		{0, "CreateRecord", true},
		{0, "CreateRecord", false},
		{0, "Free", true},
		{0, "Unlisted", true},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		if got := l.allow(st.action, st.action); got != st.want {
			t.Errorf("step %d (%s after %v): allow = %v, want %v", i, st.action, st.advance, got, st.want)
		}
	}
	if l.rate("CreateRecord") != 2 || l.rate("Free") != 0 {
		t.Errorf("rates %v", l.rates)
	}
}
