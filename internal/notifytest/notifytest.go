// Package notifytest is a loopback webhook of kind json for tests: it
// records the notify.Messages it gets.
package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/clbcert/clbcert/pkg/notify"
)

// Receiver is the webhook; its URL is the endpoint to notify.
type Receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []notify.Message
	// refuse is how many of the next requests are answered 503.
	refuse int
}

// New starts a Receiver for the length of the test. A body that is not a
// Message fails the test.
func New(t testing.TB) *Receiver {
	r := &Receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		down := r.refuse > 0
		if down {
			r.refuse--
		}
		r.mu.Unlock()
		if down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		var m notify.Message
		b, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		r.mu.Lock()
		r.got = append(r.got, m)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// Messages are the messages received so far, in order.
func (r *Receiver) Messages() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Message(nil), r.got...)
}

// Refuse answers the next n requests 503 Service Unavailable, without
// recording them: a webhook down for a moment.
func (r *Receiver) Refuse(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = n
}
