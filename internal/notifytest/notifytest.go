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
}

// New starts a Receiver for the length of the test. A body that is not a
// Message fails the test.
func New(t testing.TB) *Receiver {
	r := &Receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
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
