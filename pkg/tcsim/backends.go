package tcsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// HealthPath is the path on which the backends tcsim runs answer 503 while unhealthy; every
// other path answers 200, so a health check on "/" does not notice (as in life). A POST to
// HealthPath+"/down" or "/up" makes a backend unhealthy or healthy again.
const HealthPath = "/healthz"

// backendServers are the HTTP servers of Topology.Backends.
type backendServers struct {
	servers   []*http.Server
	addrs     map[string]*net.TCPAddr
	unhealthy map[string]*atomic.Bool
	wg        sync.WaitGroup
}

// startBackends binds every backend before anything refers to its address.
func startBackends(specs []BackendSpec) (*backendServers, error) {
	b := &backendServers{addrs: map[string]*net.TCPAddr{}, unhealthy: map[string]*atomic.Bool{}}
	for _, spec := range specs {
		ip := spec.IP
		if ip == "" {
			ip = defaultVIP
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(spec.Port)))
		if err != nil {
			b.close()
			return nil, fmt.Errorf("backend %s: %w", spec.ID, err)
		}
		down := &atomic.Bool{}
		down.Store(spec.Unhealthy)
		b.addrs[spec.ID] = ln.Addr().(*net.TCPAddr)
		b.unhealthy[spec.ID] = down
		srv := &http.Server{Handler: backendHandler(spec.ID, down), ReadHeaderTimeout: connTimeout, IdleTimeout: connTimeout}
		b.servers = append(b.servers, srv)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				_ = ln.Close()
			}
		}()
	}
	return b, nil
}

func backendHandler(id string, down *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Backend", id)
		if r.Method == http.MethodPost && (r.URL.Path == HealthPath+"/down" || r.URL.Path == HealthPath+"/up") {
			// A switch for people trying the simulator: make the backend fail its checks.
			down.Store(r.URL.Path == HealthPath+"/down")
			fmt.Fprintf(w, "backend %s: %s now answers %d\n", id, HealthPath, map[bool]int{true: 503, false: 200}[down.Load()])
			return
		}
		if r.URL.Path == HealthPath && down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "backend %s unhealthy\n", id)
			return
		}
		fmt.Fprintf(w, "backend %s\n", id)
	})
}

// setHealthy makes backend id's health path answer 200 (true) or 503.
func (b *backendServers) setHealthy(id string, healthy bool) error {
	down := b.unhealthy[id]
	if down == nil {
		return fmt.Errorf("tcsim: no backend %q in the topology", id)
	}
	down.Store(!healthy)
	return nil
}

func (b *backendServers) close() {
	for _, srv := range b.servers {
		_ = srv.Close()
	}
	b.wg.Wait()
}

// backendAddr is where backend id listens, "" if there is none.
func (b *backendServers) backendAddr(id string) string {
	if a := b.addrs[id]; a != nil {
		return a.String()
	}
	return ""
}
