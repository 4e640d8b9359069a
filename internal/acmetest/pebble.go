package acmetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clbcert/clbcert/internal/testpki"
)

// PebbleOptions configures StartPebble.
type PebbleOptions struct {
	// Dir receives the generated CA and server certificate, pebble's config and its log.
	// Required.
	Dir string
	// DNSServer is the host:port pebble resolves challenge records through (-dnsserver).
	// Empty keeps pebble's default resolver, which cannot see a test's zones.
	DNSServer string
	// Env is appended to pebble's environment after the harness's settings, so it can
	// override them or add others such as PEBBLE_CHAIN_LENGTH.
	Env []string
	// StartTimeout bounds the wait for pebble to answer; zero means 10 s.
	StartTimeout time.Duration
	// CertificateValidity is the lifetime of the certificates pebble issues
	// (certificateValidityPeriod, whole seconds); zero keeps pebble's
	// default. 160 h is Let's Encrypt's shortlived profile.
	CertificateValidity time.Duration
}

// startAttempts bounds retries when another process grabs a port between picking and binding.
const startAttempts = 5

// errPortClash marks a start that failed only because a picked port was taken meanwhile.
var errPortClash = errors.New("port already in use")

// Pebble is a running pebble ACME server on 127.0.0.1. Its methods are safe for concurrent use.
type Pebble struct {
	dirURL   string
	mgmtURL  string
	caPath   string
	logPath  string
	client   *http.Client
	cancel   context.CancelFunc
	done     chan struct{} // closed once pebble has exited and been reaped
	exitErr  error         // set before done is closed
	selfExit bool          // pebble exited before being told to stop; set before done is closed
}

// StartPebble starts pebble on free loopback ports and waits until it answers. Pebble is killed
// when ctx ends or Close is called; Close also waits until it is gone.
func StartPebble(ctx context.Context, opts PebbleOptions) (*Pebble, error) {
	if opts.Dir == "" {
		return nil, errors.New("acmetest: PebbleOptions.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("acmetest: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("acmetest: %w", err)
	}
	certs, err := writeCerts(dir)
	if err != nil {
		return nil, fmt.Errorf("acmetest: generate pebble's certificates: %w", err)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	for attempt := 1; ; attempt++ {
		p, err := launchPebble(ctx, dir, certs, opts)
		if err == nil || !errors.Is(err, errPortClash) || attempt == startAttempts {
			return p, err
		}
	}
}

// pebbleCerts names the files writeCerts produced and holds the pool that trusts them.
type pebbleCerts struct {
	caPath, certPath, keyPath string
	pool                      *x509.CertPool
}

// writeCerts creates a throwaway CA and a server certificate for 127.0.0.1 and localhost,
// signed by it: certbot checks pebble's TLS certificate against REQUESTS_CA_BUNDLE and matches
// the IP address of the directory URL against the IP SANs.
func writeCerts(dir string) (pebbleCerts, error) {
	now := time.Now()
	ca, caKey, err := testpki.Issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "acmetest throwaway CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, nil)
	if err != nil {
		return pebbleCerts{}, err
	}
	leaf, key, err := testpki.Issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(7 * 24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	if err != nil {
		return pebbleCerts{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pebbleCerts{}, err
	}
	c := pebbleCerts{
		caPath:   filepath.Join(dir, "ca.pem"),
		certPath: filepath.Join(dir, "server.pem"),
		keyPath:  filepath.Join(dir, "server.key"),
		pool:     x509.NewCertPool(),
	}
	c.pool.AddCert(ca)
	files := []struct {
		path, typ string
		der       []byte
		mode      os.FileMode
	}{
		{c.caPath, "CERTIFICATE", ca.Raw, 0o644},
		{c.certPath, "CERTIFICATE", leaf.Raw, 0o644},
		{c.keyPath, "PRIVATE KEY", keyDER, 0o600},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := os.WriteFile(f.path, data, f.mode); err != nil {
			return pebbleCerts{}, err
		}
	}
	return c, nil
}

// pebbleConfig is pebble 2.4's JSON configuration.
type pebbleConfig struct {
	Pebble struct {
		ListenAddress                  string `json:"listenAddress"`
		ManagementListenAddress        string `json:"managementListenAddress"`
		Certificate                    string `json:"certificate"`
		PrivateKey                     string `json:"privateKey"`
		HTTPPort                       int    `json:"httpPort"`
		TLSPort                        int    `json:"tlsPort"`
		OCSPResponderURL               string `json:"ocspResponderURL"`
		ExternalAccountBindingRequired bool   `json:"externalAccountBindingRequired"`
		CertificateValidityPeriod      int64  `json:"certificateValidityPeriod,omitempty"`
	} `json:"pebble"`
}

// freePorts returns n distinct TCP ports free on 127.0.0.1 at the time of the call; all are
// held open together so the kernel cannot hand out the same one twice.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func launchPebble(ctx context.Context, dir string, certs pebbleCerts, opts PebbleOptions) (*Pebble, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, fmt.Errorf("acmetest: pick ports for pebble: %w", err)
	}
	var cfg pebbleConfig
	cfg.Pebble.ListenAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	cfg.Pebble.ManagementListenAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	cfg.Pebble.Certificate = certs.certPath
	cfg.Pebble.PrivateKey = certs.keyPath
	// Pebble does not listen on these: they are where its validator connects for HTTP-01 and
	// TLS-ALPN-01. Free ports keep a stray server from answering a validation.
	cfg.Pebble.HTTPPort = ports[2]
	cfg.Pebble.TLSPort = ports[3]
	cfg.Pebble.CertificateValidityPeriod = int64(opts.CertificateValidity / time.Second)
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("acmetest: %w", err)
	}
	cfgPath := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgPath, cfgJSON, 0o644); err != nil {
		return nil, fmt.Errorf("acmetest: %w", err)
	}
	logPath := filepath.Join(dir, "pebble.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("acmetest: %w", err)
	}
	// The child gets its own descriptor at Start; ours is not needed after that.
	defer logFile.Close()

	args := []string{"-config", cfgPath}
	if opts.DNSServer != "" {
		args = append(args, "-dnsserver", opts.DNSServer)
	}
	procCtx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(procCtx, "pebble", args...)
	cmd.Dir = dir
	// Nothing is inherited, so a stray PEBBLE_* variable in the developer's shell (say
	// PEBBLE_VA_ALWAYS_VALID) cannot change a test's outcome.
	cmd.Env = append([]string{
		"PEBBLE_VA_NOSLEEP=1",      // no random validation delay
		"PEBBLE_WFE_NONCEREJECT=0", // pebble rejects 5% of good nonces by default
		"PEBBLE_AUTHZREUSE=0",      // reused authorizations would let certbot skip the hooks on renewal
	}, opts.Env...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd) }
	if err := cmd.Start(); err != nil {
		cancel()
		if errors.Is(err, exec.ErrNotFound) {
			err = fmt.Errorf("%w; install with: apt-get install -y certbot pebble", err)
		}
		return nil, fmt.Errorf("acmetest: start pebble: %w", err)
	}
	p := &Pebble{
		dirURL:  "https://" + cfg.Pebble.ListenAddress + "/dir",
		mgmtURL: "https://" + cfg.Pebble.ManagementListenAddress,
		caPath:  certs.caPath,
		logPath: logPath,
		client: &http.Client{
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certs.pool}},
			Timeout:   5 * time.Second,
		},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		p.exitErr = waitSweep(cmd)
		p.selfExit = procCtx.Err() == nil
		close(p.done)
	}()
	if err := p.waitReady(ctx, opts.StartTimeout); err != nil {
		_ = p.Close() // its error would only repeat the log tail below
		log := tailFile(logPath, 30)
		if strings.Contains(log, "address already in use") {
			err = fmt.Errorf("%w: %w", errPortClash, err)
		}
		return nil, fmt.Errorf("acmetest: pebble did not come up: %w\n--- %s (tail) ---\n%s", err, logPath, log)
	}
	return p, nil
}

// waitReady polls until both the directory and the management interface answer, so IssuerRoots
// works as soon as StartPebble returns.
func (p *Pebble) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		lastErr = p.get(ctx, p.dirURL, nil)
		if lastErr == nil {
			lastErr = p.get(ctx, p.mgmtURL+"/roots/0", nil)
			if lastErr == nil {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("pebble exited: %v", p.exitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("no answer within %s: %w", timeout, lastErr)
		case <-tick.C:
		}
	}
}

// errNotFound reports a 404, which ends the walk over /roots/N.
var errNotFound = errors.New("not found")

// get fetches url and, when body is non-nil, copies the response into it.
func (p *Pebble) get(ctx context.Context, url string, body *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("GET %s: %w", url, errNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	case body == nil:
		_, err = io.Copy(io.Discard, resp.Body)
	default:
		_, err = io.Copy(body, resp.Body)
	}
	return err
}

// DirectoryURL is the ACME directory URL, https://127.0.0.1:PORT/dir.
func (p *Pebble) DirectoryURL() string { return p.dirURL }

// CABundle is the path of the PEM file that certifies pebble's HTTPS endpoints; certbot needs
// it as REQUESTS_CA_BUNDLE.
func (p *Pebble) CABundle() string { return p.caPath }

// LogPath is the file that receives pebble's stdout and stderr.
func (p *Pebble) LogPath() string { return p.logPath }

// IssuerRoots returns the PEM of every root pebble issues under (/roots/0, /roots/1, ... on
// the management port). Pebble generates them afresh at each start.
func (p *Pebble) IssuerRoots(ctx context.Context) ([]byte, error) {
	var pems bytes.Buffer
	for i := 0; ; i++ {
		err := p.get(ctx, p.mgmtURL+"/roots/"+strconv.Itoa(i), &pems)
		switch {
		case i > 0 && errors.Is(err, errNotFound):
			return pems.Bytes(), nil
		case err != nil:
			return nil, fmt.Errorf("acmetest: pebble issuer roots: %w", err)
		}
		// Pebble serves one PEM block per root; make sure blocks never run together.
		if !bytes.HasSuffix(pems.Bytes(), []byte("\n")) {
			pems.WriteByte('\n')
		}
	}
}

// Close kills pebble and waits until it is reaped. It returns an error only if pebble had
// exited on its own before being stopped. Close may be called more than once.
func (p *Pebble) Close() error {
	p.cancel()
	<-p.done
	p.client.CloseIdleConnections()
	if p.selfExit {
		return fmt.Errorf("acmetest: pebble exited unexpectedly: %v\n--- %s (tail) ---\n%s",
			p.exitErr, p.logPath, tailFile(p.logPath, 30))
	}
	return nil
}
