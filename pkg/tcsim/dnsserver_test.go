package tcsim

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"

	"github.com/clbcert/clbcert/internal/clocktest"
)

const acmeName = "_acme-challenge.example.test."

func TestPropagationDelayAndLag(t *testing.T) {
	clock := clocktest.New(time.Now())
	s := startSim(t, Options{
		Now:              clock.Now,
		PropagationDelay: 60 * time.Second,
		Zones:            []ZoneSpec{{Name: "example.test"}},
		Nameservers: []NameserverSpec{
			{Host: "ns1.tcsim.test.", IP: "127.0.0.1"},
			{Host: "ns2.tcsim.test.", IP: "127.0.0.2", Lag: 30 * time.Second},
		},
	})
	addrs := s.NameserverAddrs()
	if len(addrs) != 2 || !strings.HasPrefix(addrs[1], "127.0.0.2:") || strings.Split(addrs[0], ":")[1] != strings.Split(addrs[1], ":")[1] {
		t.Fatalf("NameserverAddrs %v: want both on one port", addrs)
	}
	c := dnspodClient(t, s, s.Credential())
	created, err := c.CreateRecord(createTXT("example.test", "_acme-challenge", "token"))
	if err != nil {
		t.Fatal(err)
	}
	served := func(ns int) bool {
		m := query(t, addrs[ns], "udp", acmeName, dns.TypeTXT)
		return slices.Equal(txtValues(m), []string{"token"})
	}
	steps := []struct {
		advance  time.Duration
		ns1, ns2 bool
	}{
		{0, false, false},
		{59 * time.Second, false, false},
		{time.Second, true, false},
		{29 * time.Second, true, false},
		{time.Second, true, true},
	}
	elapsed := time.Duration(0)
	for _, st := range steps {
		clock.Advance(st.advance)
		elapsed += st.advance
		if got1, got2 := served(0), served(1); got1 != st.ns1 || got2 != st.ns2 {
			t.Errorf("after %v: ns1 serves %v (want %v), ns2 serves %v (want %v)", elapsed, got1, st.ns1, got2, st.ns2)
		}
	}

	// A modify serves the old value until it propagates; a delete keeps serving the record.
	mod := dnspodsdk.NewModifyRecordRequest()
	mod.Domain, mod.RecordId, mod.SubDomain, mod.RecordType, mod.RecordLine, mod.Value =
		ptr("example.test"), created.Response.RecordId, ptr("_acme-challenge"), ptr("TXT"), ptr("默认"), ptr("changed")
	if _, err := c.ModifyRecord(mod); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if got := txtValues(query(t, addrs[0], "udp", acmeName, dns.TypeTXT)); !slices.Equal(got, []string{"token"}) {
		t.Errorf("before the modify propagated: %v, want the old value", got)
	}
	clock.Advance(time.Second)
	if got := txtValues(query(t, addrs[0], "udp", acmeName, dns.TypeTXT)); !slices.Equal(got, []string{"changed"}) {
		t.Errorf("after the modify propagated: %v", got)
	}
	del := dnspodsdk.NewDeleteRecordRequest()
	del.Domain, del.RecordId = ptr("example.test"), created.Response.RecordId
	if _, err := c.DeleteRecord(del); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if got := txtValues(query(t, addrs[0], "udp", acmeName, dns.TypeTXT)); len(got) != 1 {
		t.Errorf("a deleted record must be served until the delete propagates: %v", got)
	}
	clock.Advance(time.Second)
	if m := query(t, addrs[0], "udp", acmeName, dns.TypeTXT); m.Rcode != dns.RcodeNameError {
		t.Errorf("after the delete propagated: %s", m)
	}
}

func TestAddRecordPropagates(t *testing.T) {
	clock := clocktest.New(time.Now())
	s := startSim(t, Options{Now: clock.Now, PropagationDelay: 10 * time.Second, Zones: []ZoneSpec{{Name: "example.test"}}})
	if _, err := s.AddRecord("example.test", RecordSpec{Name: "_acme-challenge", Type: "TXT", Value: "other-client"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRecord("example.test", RecordSpec{Name: "x", Type: "TXT", Value: "v", TTL: 60}); err == nil || !strings.Contains(err.Error(), codeRecordTTLLimit) {
		t.Errorf("AddRecord below MinTTL: %v", err)
	}
	if _, err := s.AddRecord("nope.test", RecordSpec{Name: "x", Type: "TXT", Value: "v"}); err == nil {
		t.Errorf("AddRecord to an unknown zone succeeded")
	}
	addr := s.NameserverAddrs()[0]
	if m := query(t, addr, "udp", acmeName, dns.TypeTXT); len(m.Answer) != 0 {
		t.Errorf("served before the delay: %s", m)
	}
	clock.Advance(10 * time.Second)
	if got := txtValues(query(t, addr, "udp", acmeName, dns.TypeTXT)); !slices.Equal(got, []string{"other-client"}) {
		t.Errorf("after the delay: %v", got)
	}
}

func dnsTestSim(t *testing.T) *Sim {
	t.Helper()
	return startSim(t, Options{
		PropagationDelay: time.Hour, // initial records must not wait for it
		Zones: []ZoneSpec{
			{Name: "example.test", Records: []RecordSpec{
				{Name: "www", Type: "A", Value: "192.0.2.10"},
				{Name: "www", Type: "AAAA", Value: "2001:db8::10"},
				{Name: "@", Type: "MX", Value: "mail.example.test.", MX: 5},
				{Name: "deep.empty", Type: "TXT", Value: "x"},
				{Name: "_acme-challenge", Type: "CNAME", Value: "_acme-challenge.delegated.test."},
				{Name: "_acme-challenge.www", Type: "CNAME", Value: "target.outside.example."},
				{Name: "dangling", Type: "CNAME", Value: "missing.delegated.test."},
				{Name: "loop1", Type: "CNAME", Value: "loop2.example.test."},
				{Name: "loop2", Type: "CNAME", Value: "loop1.example.test."},
				{Name: "*.wild", Type: "A", Value: "192.0.2.99"},
				{Name: "sub", Type: "NS", Value: "ns.elsewhere.example."},
				{Name: "long", Type: "TXT", Value: strings.Repeat("a", 255) + strings.Repeat("b", 200)},
				{Name: "esc", Type: "TXT", Value: `back\slash "quoted"`},
			}},
			{Name: "delegated.test", Records: []RecordSpec{
				{Name: "_acme-challenge", Type: "TXT", Value: "delegated-token"},
			}},
		},
	})
}

func TestDNSAnswers(t *testing.T) {
	s := dnsTestSim(t)
	addr := s.NameserverAddrs()[0]
	type want struct {
		rcode  int
		aa     bool
		answer []string // RR types, in order
		soaNS  bool     // the zone's SOA in the authority section
	}
	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  want
	}{
		{"A", "www.example.test.", dns.TypeA, want{dns.RcodeSuccess, true, []string{"A"}, false}},
		{"AAAA", "www.example.test.", dns.TypeAAAA, want{dns.RcodeSuccess, true, []string{"AAAA"}, false}},
		{"MX", "example.test.", dns.TypeMX, want{dns.RcodeSuccess, true, []string{"MX"}, false}},
		{"apex NS", "example.test.", dns.TypeNS, want{dns.RcodeSuccess, true, []string{"NS"}, false}},
		{"apex SOA", "example.test.", dns.TypeSOA, want{dns.RcodeSuccess, true, []string{"SOA"}, false}},
		{"NODATA", "www.example.test.", dns.TypeTXT, want{dns.RcodeSuccess, true, nil, true}},
		{"NXDOMAIN", "nothing.example.test.", dns.TypeTXT, want{dns.RcodeNameError, true, nil, true}},
		{"empty non-terminal is NODATA", "empty.example.test.", dns.TypeTXT, want{dns.RcodeSuccess, true, nil, true}},
		{"CNAME followed into another served zone", acmeName, dns.TypeTXT, want{dns.RcodeSuccess, true, []string{"CNAME", "TXT"}, false}},
		{"CNAME query returns only the CNAME", acmeName, dns.TypeCNAME, want{dns.RcodeSuccess, true, []string{"CNAME"}, false}},
		{"CNAME to a name outside the served zones", "_acme-challenge.www.example.test.", dns.TypeTXT, want{dns.RcodeSuccess, true, []string{"CNAME"}, false}},
		{"CNAME to a missing name", "dangling.example.test.", dns.TypeTXT, want{dns.RcodeNameError, true, []string{"CNAME"}, true}},
		{"CNAME loop stops", "loop1.example.test.", dns.TypeA, want{dns.RcodeSuccess, true, []string{"CNAME", "CNAME"}, false}},
		{"wildcard", "anything.wild.example.test.", dns.TypeA, want{dns.RcodeSuccess, true, []string{"A"}, false}},
		{"wildcard, other type", "anything.wild.example.test.", dns.TypeTXT, want{dns.RcodeSuccess, true, nil, true}},
		{"delegated subdomain is a referral", "x.sub.example.test.", dns.TypeA, want{dns.RcodeSuccess, false, nil, false}},
		{"nameserver host", "ns1.tcsim.test.", dns.TypeA, want{dns.RcodeSuccess, true, []string{"A"}, false}},
		{"nameserver host AAAA", "ns1.tcsim.test.", dns.TypeAAAA, want{dns.RcodeSuccess, true, nil, false}},
		{"name in no zone", "example.org.", dns.TypeA, want{dns.RcodeRefused, false, nil, false}},
		{"zone name as a label elsewhere", "example.test.evil.", dns.TypeA, want{dns.RcodeRefused, false, nil, false}},
	}
	for _, tt := range tests {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(tt.name+"/"+network, func(t *testing.T) {
				m := query(t, addr, network, tt.qname, tt.qtype)
				var types []string
				for _, rr := range m.Answer {
					types = append(types, dns.TypeToString[rr.Header().Rrtype])
				}
				soa := len(m.Ns) == 1 && m.Ns[0].Header().Rrtype == dns.TypeSOA
				if m.Rcode != tt.want.rcode || m.Authoritative != tt.want.aa || !slices.Equal(types, tt.want.answer) || soa != tt.want.soaNS {
					t.Errorf("got rcode %s aa %v answer %v soa %v, want %+v\n%s", dns.RcodeToString[m.Rcode], m.Authoritative, types, soa, tt.want, m)
				}
				if m.RecursionAvailable {
					t.Errorf("an authoritative-only server must not offer recursion")
				}
			})
		}
	}
}

func TestDNSNegativeAnswerSOA(t *testing.T) {
	s := dnsTestSim(t)
	m := query(t, s.NameserverAddrs()[0], "udp", "nothing.example.test.", dns.TypeTXT)
	soa, ok := m.Ns[0].(*dns.SOA)
	if !ok {
		t.Fatalf("authority %v", m.Ns)
	}
	if soa.Minttl != 180 || soa.Hdr.Ttl != 180 || soa.Ns != "ns1.tcsim.test." || soa.Mbox != "freednsadmin.dnspod.com." ||
		soa.Refresh != 3600 || soa.Retry != 180 || soa.Expire != 1209600 || soa.Hdr.Name != "example.test." {
		t.Errorf("SOA %s", soa)
	}
}

func TestDNSRecordContent(t *testing.T) {
	s := dnsTestSim(t)
	addr := s.NameserverAddrs()[0]

	m := query(t, addr, "tcp", "long.example.test.", dns.TypeTXT)
	txt := m.Answer[0].(*dns.TXT)
	if len(txt.Txt) != 2 || len(txt.Txt[0]) != 255 || strings.Join(txt.Txt, "") != strings.Repeat("a", 255)+strings.Repeat("b", 200) {
		t.Errorf("a 455-byte TXT must be two strings of 255 and 200 bytes: %q", txt.Txt)
	}
	m = query(t, addr, "udp", "esc.example.test.", dns.TypeTXT)
	if got := m.Answer[0].(*dns.TXT).Txt[0]; got != `back\\slash \"quoted\"` {
		t.Errorf("TXT bytes changed on the wire: presentation %s", got)
	}
	m = query(t, addr, "udp", "example.test.", dns.TypeMX)
	if mx := m.Answer[0].(*dns.MX); mx.Preference != 5 || mx.Mx != "mail.example.test." {
		t.Errorf("MX %s", mx)
	}
	m = query(t, addr, "udp", "ns1.tcsim.test.", dns.TypeA)
	if a := m.Answer[0].(*dns.A); !a.A.Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("nameserver address %s", a)
	}
	m = query(t, addr, "udp", "WwW.Example.TEST.", dns.TypeA)
	if len(m.Answer) != 1 || m.Answer[0].Header().Name != "WwW.Example.TEST." {
		t.Errorf("names are case-insensitive and the answer echoes the question's case: %s", m)
	}
	m = query(t, addr, "udp", "x.sub.example.test.", dns.TypeA)
	if len(m.Ns) != 1 || m.Ns[0].(*dns.NS).Ns != "ns.elsewhere.example." {
		t.Errorf("referral %s", m)
	}
}

func TestDNSTruncationAndEDNS(t *testing.T) {
	var records []RecordSpec
	for i := range 8 {
		records = append(records, RecordSpec{Name: "big", Type: "TXT", Value: fmt.Sprintf("%d%s", i, strings.Repeat("x", 99))})
	}
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test", Records: records}}})
	addr := s.NameserverAddrs()[0]

	udp := query(t, addr, "udp", "big.example.test.", dns.TypeTXT)
	if !udp.Truncated || len(udp.Answer) == 8 {
		t.Errorf("a 1 kB answer over UDP without EDNS must be truncated: TC %v, %d answers", udp.Truncated, len(udp.Answer))
	}
	if tcp := query(t, addr, "tcp", "big.example.test.", dns.TypeTXT); tcp.Truncated || len(tcp.Answer) != 8 {
		t.Errorf("over TCP: TC %v, %d answers", tcp.Truncated, len(tcp.Answer))
	}

	m := new(dns.Msg)
	m.SetQuestion("big.example.test.", dns.TypeTXT)
	m.SetEdns0(4096, false)
	r, _, err := (&dns.Client{Net: "udp", UDPSize: 4096}).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Truncated || len(r.Answer) != 8 || r.IsEdns0() == nil || r.IsEdns0().UDPSize() != ednsSize {
		t.Errorf("with EDNS0 the answer fits: TC %v, %d answers, OPT %v", r.Truncated, len(r.Answer), r.IsEdns0() != nil)
	}

	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	r, _, err = (&dns.Client{Net: "udp"}).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeBadVers {
		t.Errorf("EDNS version 1: rcode %s, want BADVERS", dns.RcodeToString[r.Rcode])
	}
}

func TestDNSNonQueryOpcode(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test"}}})
	m := new(dns.Msg)
	m.SetNotify("example.test.")
	r, _, err := (&dns.Client{Net: "udp"}).Exchange(m, s.NameserverAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("NOTIFY: rcode %s", dns.RcodeToString[r.Rcode])
	}
}

func TestDNSFixedPortInUse(t *testing.T) {
	first := startSim(t, Options{})
	if _, err := Start(Options{DNSPort: first.DNSPort()}); err == nil {
		t.Errorf("a DNSPort that is in use must fail Start")
	}
}

func TestDNSOtherTypes(t *testing.T) {
	s := startSim(t, Options{Zones: []ZoneSpec{{Name: "example.test", Records: []RecordSpec{
		{Name: "@", Type: "CAA", Value: `0 issue "letsencrypt.org"`},
		{Name: "_sip._tcp", Type: "SRV", Value: "10 5 5060 sip.example.test."},
	}}}})
	addr := s.NameserverAddrs()[0]
	if m := query(t, addr, "udp", "example.test.", dns.TypeCAA); len(m.Answer) != 1 || m.Answer[0].(*dns.CAA).Value != "letsencrypt.org" {
		t.Errorf("CAA: %s", m)
	}
	if m := query(t, addr, "udp", "_sip._tcp.example.test.", dns.TypeSRV); len(m.Answer) != 1 || m.Answer[0].(*dns.SRV).Port != 5060 {
		t.Errorf("SRV: %s", m)
	}
	if m := query(t, addr, "udp", "example.test.", dns.TypeANY); len(m.Answer) != 3 {
		t.Errorf("ANY at the apex: want SOA, NS and CAA: %s", m)
	}
}
