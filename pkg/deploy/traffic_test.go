package deploy_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/deploy"
	"github.com/clbcert/clbcert/pkg/lineage"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// TestClientsSeeTheNewCertificateWithoutADroppedRequest runs clients through a load balancer's
// HTTPS listener to its backends, each request on a new TLS connection, while a deploy rebinds
// the listener: every request succeeds, clients get the old certificate first and the new one
// last, and once the deploy has returned every handshake gets the new one.
func TestClientsSeeTheNewCertificateWithoutADroppedRequest(t *testing.T) {
	check := &tcsim.HealthCheckSpec{HTTPCheckPath: tcsim.HealthPath, HTTPCode: 2, IntervalTime: 3, TimeOut: 2, HealthNum: 2, UnHealthNum: 3}
	sim := simtest.Start(t, tcsim.Options{
		Certificates:    []tcsim.CertSpec{simtest.HandUploaded(t, "HandCrt1", "good-ecdsa", "example.test")},
		HealthCheckUnit: 20 * time.Millisecond,
		TaskDelay:       200 * time.Millisecond,
		Topology: tcsim.Topology{
			Backends: []tcsim.BackendSpec{{ID: "web1"}, {ID: "web2"}},
			LoadBalancers: []tcsim.LoadBalancerSpec{{ID: "lb-web1", Region: "ap-guangzhou", VIP: "127.0.0.41", Listeners: []tcsim.ListenerSpec{
				{ID: "lbl-https1", Protocol: "HTTPS", CertID: "HandCrt1", Rules: []tcsim.RuleSpec{{Domain: "www.example.test", BalancingSpec: tcsim.BalancingSpec{
					HealthCheck: check, Targets: []tcsim.TargetSpec{{Backend: "web1"}, {Backend: "web2"}},
				}}}},
			}}},
		},
	})
	old := simtest.Lineage(t, "good-ecdsa", "example.test").Fingerprint
	renewed := simtest.Lineage(t, "good-ecdsa-2", "example.test")
	url := "https://" + sim.ListenerAddr("lb-web1", "lbl-https1") + "/"
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{ServerName: "www.example.test", InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	// get answers the leaf's fingerprint, or what went wrong.
	get := func() (string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("answer %s from %s", resp.Status, resp.Header.Get("X-Backend"))
		}
		return lineage.Fingerprint(resp.TLS.PeerCertificates[0].Raw), nil
	}
	// A new target gets traffic once its checks pass; wait for that before counting drops.
	eventually.Succeeds(t, 10*time.Second, func() error {
		_, err := get()
		return err
	})

	const clients = 4
	var (
		mu     sync.Mutex
		seen   []string
		failed []error
		latest [clients]string // each client's last answer
	)
	// allGot waits until every client's last answer was the leaf fp: from
	// then on, each client's next request starts after that answer.
	allGot := func(fp, what string) {
		t.Helper()
		eventually.Succeeds(t, 10*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			for c, l := range latest {
				if l != fp {
					return fmt.Errorf("%s: client %d's last answer had sha256 %.12s…; %d requests failed", what, c, l, len(failed))
				}
			}
			return nil
		})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopClients := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopClients()
	for c := range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				fp, err := get()
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else {
					seen = append(seen, fp)
					latest[c] = fp
				}
				mu.Unlock()
			}
		})
	}
	allGot(old, "every client answered with the old certificate")
	d := newDeployer(t, sim, deploy.Options{Regions: []string{"ap-guangzhou"}})
	rep, err := d.Deploy(context.Background(), renewed)
	if err != nil || len(targetsWith(rep, deploy.StatusUpdated)) != 1 {
		t.Fatalf("deploy: %v %+v", err, rep)
	}
	allGot(renewed.Fingerprint, "every client answered with the new certificate")
	stopClients()

	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed during the deploy, first: %v", len(failed), len(failed)+len(seen), failed[0])
	}
	if len(seen) == 0 || seen[0] != old || seen[len(seen)-1] != renewed.Fingerprint {
		t.Fatalf("%d answers; want the old certificate first and the new one last", len(seen))
	}
	t.Logf("%d requests during the deploy, none failed", len(seen))
	// The four clients' requests interleave, so their order says little about the moment of
	// the switch; once deploy has returned (verified), every handshake must get the new one.
	for i := range 20 {
		if fp, err := get(); err != nil || fp != renewed.Fingerprint {
			t.Fatalf("request %d after the deploy: %v, new certificate %v", i, err, fp == renewed.Fingerprint)
		}
	}
}
