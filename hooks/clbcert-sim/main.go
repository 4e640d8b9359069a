// Command clbcert-sim is a local Tencent Cloud: the DNSPod, SSL and CLB APIs
// with their signature checks, rate limits and asynchronous tasks, the
// authoritative nameservers of its zones, and listeners that really serve
// TLS. It prints the exports that point every clbcert binary at it. It is
// shipped beside the other binaries and linked into none of them; `clbcert
// sim` runs it.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/internal/version"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := clbcli.Run(app(ctx), os.Args, os.Stderr)
	stop()
	os.Exit(code)
}

func app(ctx context.Context) *cli.App {
	return &cli.App{
		Name:    "clbcert-sim",
		Version: version.Version,
		Usage:   "run a local Tencent Cloud (DNSPod, SSL and CLB APIs, authoritative DNS, TLS listeners) and print the exports that point clbcert at it",
		Description: `Starts the simulator on loopback and prints shell export lines for its API key,
   endpoint and DNS server; runs until interrupted. "clbcert sim" runs it too.
   Every API request reaches it at one address (CLBCERT_ENDPOINT) while keeping
   its real host name, so it routes and rate-limits per action and access region
   as Tencent Cloud does. To use it from a script:

      clbcert-sim --env-file sim.env &
      while [ ! -s sim.env ]; do sleep 0.1; done; . ./sim.env

   The key printed is the simulator's own, made up at start (or given with
   --secret-id/--secret-key); it opens nothing but this simulator.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "API `ADDR` (loopback only; port 0 picks a free one)"},
			&cli.StringSliceFlag{Name: "zone", Value: cli.NewStringSlice("example.test"), Usage: "DNSPod `ZONE` the account holds (repeatable)"},
			&cli.StringSliceFlag{Name: "cname", Usage: "CNAME record `NAME=TARGET` to start with, e.g. _acme-challenge.alias.example.test=alias.acme.test (repeatable)"},
			&cli.StringSliceFlag{Name: "nameserver", Value: cli.NewStringSlice("127.0.0.1"), Usage: "loopback `IP` of an authoritative nameserver (repeatable; all share one port)"},
			&cli.IntFlag{Name: "dns-port", Usage: "`PORT` of the nameservers (0 picks a free one)"},
			&cli.DurationFlag{Name: "propagation-delay", Usage: "serve a record change on DNS only `DURATION` after the API call"},
			&cli.StringFlag{Name: "topology", Usage: "CLB load balancers and listeners from a JSON `FILE` (see testdata/topologies/)"},
			&cli.StringSliceFlag{Name: "placeholder-cert", Usage: "a self-signed certificate `ID[:RSA]=NAME,NAME…` in the SSL store for the topology to reference, ECDSA unless :RSA, e.g. Demo0001=example.test,*.example.test (repeatable)"},
			&cli.DurationFlag{Name: "task-delay", Value: 500 * time.Millisecond, Usage: "how long an asynchronous CLB task runs (`DURATION`)"},
			&cli.Float64Flag{Name: "fault-rate", Usage: "fail this `FRACTION` of API calls (InternalError or a dropped connection)"},
			&cli.StringFlag{Name: "secret-id", Usage: "the simulator's `SECRETID` (default: made up)"},
			&cli.StringFlag{Name: "secret-key", Usage: "the simulator's `SECRETKEY` (default: made up)"},
			&cli.StringFlag{Name: "env-file", Usage: "also write the export lines to `FILE` (mode 0600)"},
			&cli.StringFlag{Name: "log-level", Usage: "simulator log `LEVEL` on stderr (debug, info, warn, error)"},
		},
		Action: func(c *cli.Context) error {
			opts, err := simOptions(c)
			if err != nil {
				return err
			}
			sim, err := tcsim.Start(opts)
			if err != nil {
				return fmt.Errorf("start simulator: %w", err)
			}
			defer sim.Close()
			env := exports(sim, opts.Topology)
			if path := c.String("env-file"); path != "" {
				if err := writeEnvFile(path, env); err != nil {
					return err
				}
			}
			printBanner(c.App.Writer, sim, opts, env)
			<-ctx.Done()
			return nil
		},
		HideHelpCommand: true,
		// --placeholder-cert ID=a,b lists names with commas.
		DisableSliceFlagSeparator: true,
	}
}

func simOptions(c *cli.Context) (tcsim.Options, error) {
	logger, err := clbcli.NewLogger(c.App.ErrWriter, c.String("log-level"))
	if err != nil {
		return tcsim.Options{}, clbcli.Usagef("--log-level: %w", err)
	}
	opts := tcsim.Options{
		APIAddr:          c.String("listen"),
		DNSPort:          c.Int("dns-port"),
		PropagationDelay: c.Duration("propagation-delay"),
		TaskDelay:        c.Duration("task-delay"),
		FaultRate:        c.Float64("fault-rate"),
		Logger:           logger,
	}
	if host, _, err := net.SplitHostPort(opts.APIAddr); err != nil || !loopback(host) {
		return opts, clbcli.Usagef("--listen %q: give a loopback address such as 127.0.0.1:18080", opts.APIAddr)
	}
	if opts.FaultRate < 0 || opts.FaultRate >= 1 {
		return opts, clbcli.Usagef("--fault-rate %v: give a fraction from 0 to below 1", opts.FaultRate)
	}
	id, key := c.String("secret-id"), c.String("secret-key")
	if (id == "") != (key == "") {
		return opts, clbcli.Usagef("give both --secret-id and --secret-key, or neither")
	}
	if id != "" {
		opts.Credentials = []tcsim.Credential{{SecretID: id, SecretKey: key}}
	}
	zones := map[string]*tcsim.ZoneSpec{}
	for _, z := range c.StringSlice("zone") {
		name := strings.ToLower(strings.TrimSuffix(z, "."))
		opts.Zones = append(opts.Zones, tcsim.ZoneSpec{Name: name})
	}
	for i := range opts.Zones {
		zones[opts.Zones[i].Name] = &opts.Zones[i]
	}
	for _, cn := range c.StringSlice("cname") {
		name, target, ok := strings.Cut(cn, "=")
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		z := longestZone(zones, name)
		if !ok || target == "" || z == nil || name == z.Name {
			return opts, clbcli.Usagef("--cname %q: give NAME=TARGET with NAME below one of the --zone zones", cn)
		}
		z.Records = append(z.Records, tcsim.RecordSpec{Name: strings.TrimSuffix(name, "."+z.Name), Type: "CNAME", Value: strings.TrimSuffix(target, ".") + "."})
	}
	if path := c.String("topology"); path != "" {
		if opts.Topology, err = tcsim.LoadTopology(path); err != nil {
			return opts, clbcli.UsageError{Err: fmt.Errorf("--topology: %w", err)}
		}
	}
	for _, pc := range c.StringSlice("placeholder-cert") {
		id, names, ok := strings.Cut(pc, "=")
		id, alg, _ := strings.Cut(id, ":")
		if !ok || id == "" || names == "" {
			return opts, clbcli.Usagef("--placeholder-cert %q: give ID=NAME,NAME… or ID:RSA=NAME,NAME…, e.g. Demo0001=example.test,*.example.test", pc)
		}
		spec, err := tcsim.SelfSignedKey(id, cmp.Or(strings.ToUpper(alg), "ECC"), strings.Split(names, ",")...)
		if err != nil {
			return opts, clbcli.UsageError{Err: fmt.Errorf("--placeholder-cert: %w", err)}
		}
		opts.Certificates = append(opts.Certificates, spec)
	}
	for i, ip := range c.StringSlice("nameserver") {
		if !loopback(ip) {
			return opts, clbcli.Usagef("--nameserver %q: give a loopback IP such as 127.0.0.2", ip)
		}
		opts.Nameservers = append(opts.Nameservers, tcsim.NameserverSpec{Host: fmt.Sprintf("ns%d.tcsim.test.", i+1), IP: ip})
	}
	return opts, nil
}

func longestZone(zones map[string]*tcsim.ZoneSpec, name string) *tcsim.ZoneSpec {
	var best *tcsim.ZoneSpec
	for n, z := range zones {
		if (name == n || strings.HasSuffix(name, "."+n)) && (best == nil || len(n) > len(best.Name)) {
			best = z
		}
	}
	return best
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func exports(sim *tcsim.Sim, topo tcsim.Topology) []string {
	cred := sim.Credential()
	var regions []string
	for _, lb := range topo.LoadBalancers {
		if !slices.Contains(regions, lb.Region) {
			regions = append(regions, lb.Region)
		}
	}
	env := []string{
		"export TENCENTCLOUD_SECRET_ID=" + cred.SecretID,
		"export TENCENTCLOUD_SECRET_KEY=" + cred.SecretKey,
		"export CLBCERT_ENDPOINT=" + sim.Endpoint(),
		// The hooks find the nameservers the production way: NS records
		// through a resolver, then every nameserver asked directly.
		"export CLBCERT_RESOLVER=" + sim.NameserverAddrs()[0],
		fmt.Sprintf("export CLBCERT_NAMESERVER_PORT=%d", sim.DNSPort()),
	}
	if len(regions) > 0 {
		env = append(env, "export CLBCERT_REGIONS="+strings.Join(regions, ","))
	}
	return env
}

func writeEnvFile(path string, env []string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(env, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write --env-file: %w", err)
	}
	// Renamed into place so a script polling for the file never reads half of it.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write --env-file: %w", err)
	}
	return nil
}

func printBanner(w io.Writer, sim *tcsim.Sim, opts tcsim.Options, env []string) {
	fmt.Fprintf(w, "# clbcert-sim: DNSPod, SSL and CLB APIs at %s\n", sim.Endpoint())
	for i, ns := range opts.Nameservers {
		fmt.Fprintf(w, "# nameserver %s at %s\n", strings.TrimSuffix(ns.Host, "."), sim.NameserverAddrs()[i])
	}
	for _, z := range opts.Zones {
		fmt.Fprintf(w, "# zone %s\n", z.Name)
	}
	for _, lb := range opts.Topology.LoadBalancers {
		for _, l := range lb.Listeners {
			if addr := sim.ListenerAddr(lb.ID, l.ID); addr != "" {
				fmt.Fprintf(w, "# %s listener %s/%s (%s) at %s\n", l.Protocol, lb.ID, l.ID, lb.Region, addr)
			}
		}
	}
	for _, r := range sim.Resources() {
		if r.Addr != "" {
			fmt.Fprintf(w, "# %s %s serves HTTPS at %s (connect with SNI %s)\n", r.Type, strings.Join(r.Domains, ","), r.Addr, r.Domains[0])
		}
	}
	for _, b := range opts.Topology.Backends {
		fmt.Fprintf(w, "# backend %s at %s: curl -X POST %s%s/down (or /up) makes its %s fail (or pass)\n",
			b.ID, sim.BackendAddr(b.ID), "http://"+sim.BackendAddr(b.ID), tcsim.HealthPath, tcsim.HealthPath)
	}
	fmt.Fprintf(w, "# an ACME server resolves challenges here: pebble -dnsserver %s\n", sim.NameserverAddrs()[0])
	fmt.Fprintln(w, strings.Join(env, "\n"))
	fmt.Fprintln(w, "# the key above is the simulator's own; Ctrl-C stops it")
}
