package plural

import "testing"

func TestOf(t *testing.T) {
	tests := []struct {
		n          int
		noun, want string
	}{
		{0, "target", "0 targets"},
		{1, "target", "1 target"},
		{2, "target", "2 targets"},
		{1, "load balancer", "1 load balancer"},
		{5, "load balancer", "5 load balancers"},
		{1, "success", "1 success"},
		{3, "success", "3 successes"},
		{2, "match", "2 matches"},
		{2, "entry", "2 entries"},
		{2, "day", "2 days"},
		{2, "y", "2 ys"},
		{-1, "day", "-1 days"},
	}
	for _, tt := range tests {
		if got := Of(tt.n, tt.noun); got != tt.want {
			t.Errorf("Of(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
