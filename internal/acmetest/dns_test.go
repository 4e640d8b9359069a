package acmetest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// startZoneServer serves TXT records for _acme-challenge.DOMAIN on 127.0.0.1 (UDP), read at
// query time from files named ZONE/DOMAIN/VALUE. A file tree lets the hooks, plain shell
// scripts, publish and withdraw values without any client tool.
func startZoneServer(t *testing.T, zone string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		for _, q := range r.Question {
			m.Answer = append(m.Answer, challengeTXT(zone, q)...)
		}
		if err := w.WriteMsg(m); err != nil {
			t.Errorf("dns: write answer: %v", err)
		}
	})}
	served := make(chan error, 1)
	go func() { served <- srv.ActivateAndServe() }()
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Errorf("dns: shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("dns: serve: %v", err)
		}
	})
	return pc.LocalAddr().String()
}

func challengeTXT(zone string, q dns.Question) []dns.RR {
	domain, ok := strings.CutPrefix(strings.ToLower(q.Name), "_acme-challenge.")
	domain = strings.TrimSuffix(domain, ".")
	if !ok || q.Qtype != dns.TypeTXT || !filepath.IsLocal(domain) || strings.Contains(domain, "/") {
		return nil
	}
	entries, err := os.ReadDir(filepath.Join(zone, domain))
	if err != nil {
		return nil
	}
	var rrs []dns.RR
	for _, e := range entries {
		rrs = append(rrs, &dns.TXT{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1},
			Txt: []string{e.Name()},
		})
	}
	return rrs
}
