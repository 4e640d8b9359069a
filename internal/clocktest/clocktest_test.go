package clocktest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name  string
		clock *Clock
		moved time.Duration
	}{
		{"New moves with each sleep", New(start), 3 * time.Second},
		{"Still stays", Still(start), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.clock
			for _, d := range []time.Duration{time.Second, 2 * time.Second} {
				if err := c.Sleep(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Sleep(done, time.Hour); !errors.Is(err, context.Canceled) {
				t.Errorf("a sleep on a done context: %v, want context.Canceled", err)
			}
			c.Advance(time.Minute)
			if got, want := c.Now(), start.Add(tt.moved+time.Minute); !got.Equal(want) {
				t.Errorf("now %v, want %v", got, want)
			}
			if got := c.Slept(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
				t.Errorf("slept %v", got)
			}
		})
	}
}
