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
	deadline := time.Now().Add(10 * time.Second)
	for _, err := get(); err != nil; _, err = get() {
		if time.Now().After(deadline) {
			t.Fatalf("the backends never became healthy: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	var (
		mu     sync.Mutex
		seen   []string
		failed []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
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
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	d := newDeployer(t, sim, deploy.Options{Regions: []string{"ap-guangzhou"}})
	rep, err := d.Deploy(context.Background(), renewed)
	if err != nil || len(targetsWith(rep, deploy.StatusUpdated)) != 1 {
		t.Fatalf("deploy: %v %+v", err, rep)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()

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
