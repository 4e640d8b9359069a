package tune

import (
	"fmt"
	"testing"

	"github.com/clbcert/clbcert/pkg/clb"
)

func TestGroups(t *testing.T) {
	rule := func(lb string) Change {
		return Change{Address: clb.Address{Region: "r", LoadBalancerID: lb}, Kind: KindRule}
	}
	update := func(lb string, shared ...string) Change {
		return Change{Address: clb.Address{Region: "r", LoadBalancerID: lb}, Kind: KindTLS, Config: &ConfigChange{Action: ConfigUpdate, SharedWith: shared}}
	}
	split := func(lb string, shared ...string) Change {
		return Change{Address: clb.Address{Region: "r", LoadBalancerID: lb}, Kind: KindTLS, Config: &ConfigChange{Action: ConfigSplit, SharedWith: shared}}
	}
	tests := []struct {
		name    string
		changes []Change
		want    string
	}{
		{"one per load balancer", []Change{rule("a"), rule("a"), rule("b"), rule("c")}, "[[0 1] [2] [3]]"},
		{"a shared update joins its load balancers", []Change{rule("a"), rule("b"), rule("c"), update("a", "c")}, "[[0 2 3] [1]]"},
		{"a shared update before their rules", []Change{update("a", "b"), rule("a"), rule("b")}, "[[0 1 2]]"},
		{"a split touches its own only", []Change{rule("a"), rule("b"), split("a", "b")}, "[[0 2] [1]]"},
		{"the same name in two regions is two", []Change{rule("a"), {Kind: KindRule, Address: clb.Address{Region: "s", LoadBalancerID: "a"}}}, "[[0] [1]]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(groups(tt.changes)); got != tt.want {
			t.Errorf("%s: groups = %s, want %s", tt.name, got, tt.want)
		}
	}
}
