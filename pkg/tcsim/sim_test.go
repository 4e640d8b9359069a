package tcsim

import (
	"bytes"
	"encoding/json"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	dnspodsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"
)

func TestStartDefaults(t *testing.T) {
	s := startSim(t, Options{})
	cred := s.Credential()
	if !strings.HasPrefix(cred.SecretID, "AKID") || len(cred.SecretID) != 36 || len(cred.SecretKey) != 32 || cred.Token != "" {
		t.Errorf("generated credential has the wrong shape: id %d chars, key %d chars", len(cred.SecretID), len(cred.SecretKey))
	}
	host, port, err := net.SplitHostPort(strings.TrimPrefix(s.Endpoint(), "http://"))
	if err != nil || host != "127.0.0.1" || port == "0" || !strings.HasPrefix(s.Endpoint(), "http://") {
		t.Errorf("Endpoint %q", s.Endpoint())
	}
	if addrs := s.NameserverAddrs(); len(addrs) != 1 || addrs[0] != "127.0.0.1:"+strconv.Itoa(s.DNSPort()) || s.DNSPort() == 0 {
		t.Errorf("NameserverAddrs %v, DNSPort %d", addrs, s.DNSPort())
	}
	if _, err := dnspodClient(t, s, cred).DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest()); err != nil {
		t.Errorf("the generated credential is not accepted: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	tests := map[string]Options{
		"empty secret key":       {Credentials: []Credential{{SecretID: "AKIDx"}}},
		"repeated SecretID":      {Credentials: []Credential{{SecretID: "a", SecretKey: "b"}, {SecretID: "a", SecretKey: "c"}}},
		"zone with a dot":        {Zones: []ZoneSpec{{Name: "example.test."}}},
		"upper-case zone":        {Zones: []ZoneSpec{{Name: "Example.test"}}},
		"single-label zone":      {Zones: []ZoneSpec{{Name: "test"}}},
		"zone twice":             {Zones: []ZoneSpec{{Name: "a.test"}, {Name: "a.test"}}},
		"IDN zone":               {Zones: []ZoneSpec{{Name: "例子.test"}}},
		"nameserver not FQDN":    {Nameservers: []NameserverSpec{{Host: "ns1.tcsim.test", IP: "127.0.0.1"}}},
		"nameserver bad IP":      {Nameservers: []NameserverSpec{{Host: "ns1.tcsim.test.", IP: "localhost"}}},
		"nameserver IP twice":    {Nameservers: []NameserverSpec{{Host: "a.test.", IP: "127.0.0.1"}, {Host: "b.test.", IP: "127.0.0.1"}}},
		"fault rate above 1":     {FaultRate: 1.5},
		"fault rate NaN":         {FaultRate: math.NaN()},
		"negative delay":         {PropagationDelay: -time.Second},
		"rate limit typo":        {RateLimits: map[string]int{"CreateRecords": 5}},
		"negative rate":          {RateLimits: map[string]int{"CreateRecord": -1}},
		"DNS port out of range":  {DNSPort: 70000},
		"invalid initial record": {Zones: []ZoneSpec{{Name: "a.test", Records: []RecordSpec{{Name: "x", Type: "A", Value: "not-an-ip"}}}}},
		"CNAME beside a record": {Zones: []ZoneSpec{{Name: "a.test", Records: []RecordSpec{
			{Name: "x", Type: "A", Value: "192.0.2.1"}, {Name: "x", Type: "CNAME", Value: "y.a.test."},
		}}}},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Start(opts)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Start accepted the options")
			}
		})
	}
}

func TestRecordsAndDump(t *testing.T) {
	cred := Credential{SecretID: "AKIDdump", SecretKey: "dump-secret-key"}
	s := startSim(t, Options{
		Credentials: []Credential{cred},
		Zones: []ZoneSpec{{Name: "example.test", MinTTL: 1, Records: []RecordSpec{
			{Name: "www", Type: "A", Value: "192.0.2.1", TTL: 60},
		}}},
		Nameservers: []NameserverSpec{{Host: "ns1.tcsim.test.", IP: "127.0.0.1"}, {Host: "ns2.tcsim.test.", IP: "127.0.0.2"}},
	})
	id, err := s.AddRecord("example.test", RecordSpec{Name: "_acme-challenge", Type: "TXT", Value: "v"})
	if err != nil {
		t.Fatal(err)
	}
	recs := s.Records("example.test")
	if len(recs) != 4 {
		t.Fatalf("Records %+v, want 2 NS, the A and the TXT", recs)
	}
	for i, r := range recs {
		if i > 0 && r.ID <= recs[i-1].ID {
			t.Errorf("not sorted by ID: %+v", recs)
		}
		if r.Zone != "example.test" || r.Line != "默认" {
			t.Errorf("record %+v", r)
		}
	}
	if !recs[0].DefaultNS || recs[0].Type != "NS" || recs[0].Name != "@" || recs[0].Value != "ns1.tcsim.test." {
		t.Errorf("first record %+v, want the first default NS", recs[0])
	}
	if recs[2].TTL != 60 || recs[3].ID != id || recs[3].TTL != 600 {
		t.Errorf("records %+v", recs)
	}
	if s.Records("missing.test") == nil || len(s.Records("missing.test")) != 0 {
		t.Errorf("an unknown zone has no records")
	}

	m := query(t, s.NameserverAddrs()[1], "udp", "www.example.test.", dns.TypeA)
	if len(m.Answer) != 1 {
		t.Errorf("an initial record must be served at once by every nameserver: %s", m)
	}

	if _, err := dnspodClient(t, s, cred).DescribeDomainList(dnspodsdk.NewDescribeDomainListRequest()); err != nil {
		t.Fatal(err)
	}
	if s.Calls("DescribeDomainList") != 1 || s.CallCounts()["DescribeDomainList"] != 1 || len(s.CallCounts()) != 1 {
		t.Errorf("counts %v", s.CallCounts())
	}
	dump, err := s.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dump, []byte(cred.SecretKey)) || bytes.Contains(dump, []byte(cred.SecretID)) {
		t.Errorf("Dump leaks the credential")
	}
	var parsed struct {
		Calls map[string]int
		Zones []struct {
			Name    string
			Records []json.RawMessage
		}
	}
	if err := json.Unmarshal(dump, &parsed); err != nil {
		t.Fatal(err)
	}
	if parsed.Calls["DescribeDomainList"] != 1 || len(parsed.Zones) != 1 || len(parsed.Zones[0].Records) != 4 {
		t.Errorf("dump %s", dump)
	}
}
