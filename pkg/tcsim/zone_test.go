package tcsim

import (
	"errors"
	"testing"
	"time"
)

func txtData(name, value string) recordData {
	return recordData{Name: name, Type: "TXT", Value: value, LineID: defaultLineID, Line: defaultLine, TTL: 600, Status: statusEnable}
}

func TestZoneHistory(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newZoneStore(100)
	s.addZone(1, "example.test", 600, t0)
	initial, err := s.insert("example.test", txtData("seed", "s"), t0, insertInitial)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.insert("example.test", txtData("a", "v1"), t0.Add(10*time.Second), insertChange)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.modify("example.test", id, txtData("a", "v2"), t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.remove("example.test", id, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.modify("example.test", initial, txtData("seed", "s2"), t0.Add(40*time.Second)); err != nil {
		t.Fatal(err)
	}

	served := func(at time.Duration) map[string]string {
		out := map[string]string{}
		data, _ := s.served("example.test", t0.Add(at))
		for _, d := range data {
			out[d.Name] = d.Value
		}
		return out
	}
	tests := []struct {
		at   time.Duration
		a    string
		seed string
	}{
		{-time.Hour, "", "s"}, // initial records are visible even before they were created
		{9 * time.Second, "", "s"},
		{10 * time.Second, "v1", "s"},
		{25 * time.Second, "v2", "s"},
		{30 * time.Second, "", "s"},
		{40 * time.Second, "", "s2"},
	}
	for _, tt := range tests {
		got := served(tt.at)
		if got["a"] != tt.a || got["seed"] != tt.seed {
			t.Errorf("at %v: served %v, want a=%q seed=%q", tt.at, got, tt.a, tt.seed)
		}
	}
	if _, newest := s.served("example.test", t0.Add(25*time.Second)); !newest.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("newest change seen at +25s is %v", newest)
	}
	if got := s.live("example.test"); len(got) != 1 || got[0].Data.Value != "s2" {
		t.Errorf("live %+v", got)
	}
	if err := s.remove("example.test", id, t0.Add(50*time.Second)); !errors.Is(err, errNoSuchRecord) {
		t.Errorf("second delete: %v", err)
	}
}

func TestZoneConflicts(t *testing.T) {
	t0 := time.Now()
	s := newZoneStore(1)
	s.addZone(1, "example.test", 600, t0)
	s.addZone(2, "other.test", 600, t0)
	ns, _ := s.insert("example.test", recordData{Name: "@", Type: "NS", Value: "ns1.tcsim.test.", LineID: "0"}, t0, insertDefaultNS)
	txt, _ := s.insert("example.test", txtData("host", "one"), t0, insertChange)
	cname := recordData{Name: "alias", Type: "CNAME", Value: "x.example.net.", LineID: "0"}
	if _, err := s.insert("example.test", cname, t0, insertChange); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"second value on one host", func() error { _, err := s.insert("example.test", txtData("host", "two"), t0, insertChange); return err }, nil},
		{"identical", func() error { _, err := s.insert("example.test", txtData("host", "one"), t0, insertChange); return err }, errRecordExists},
		{"identical in another zone", func() error { _, err := s.insert("other.test", txtData("host", "one"), t0, insertChange); return err }, nil},
		{"TXT at a CNAME", func() error { _, err := s.insert("example.test", txtData("alias", "v"), t0, insertChange); return err }, errCNAMEConflict},
		{"second CNAME", func() error {
			c := cname
			c.Value = "y.example.net."
			_, err := s.insert("example.test", c, t0, insertChange)
			return err
		}, errCNAMEConflict},
		{"CNAME at the apex beside NS", func() error {
			c := cname
			c.Name = "@"
			_, err := s.insert("example.test", c, t0, insertChange)
			return err
		}, errCNAMEConflict},
		{"modify to itself", func() error { return s.modify("example.test", txt, txtData("host", "one"), t0) }, nil},
		{"modify into a duplicate", func() error { return s.modify("example.test", txt, txtData("host", "two"), t0) }, errRecordExists},
		{"modify a default NS", func() error { return s.modify("example.test", ns, txtData("@", "x"), t0) }, errDefaultNS},
		{"delete a default NS", func() error { return s.remove("example.test", ns, t0) }, errDefaultNS},
		{"record of another zone", func() error { return s.remove("other.test", txt, t0) }, errNoSuchRecord},
	}
	for _, tt := range tests {
		if err := tt.do(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestZoneFor(t *testing.T) {
	s := newZoneStore(1)
	s.addZone(1, "example.test", 600, time.Now())
	s.addZone(2, "sub.example.test", 600, time.Now())
	tests := map[string]string{
		"example.test.":                     "example.test",
		"www.example.test.":                 "example.test",
		"_acme-challenge.sub.example.test.": "sub.example.test",
		"SUB.Example.Test.":                 "sub.example.test",
		"test.":                             "",
		"notexample.test.":                  "",
	}
	for name, want := range tests {
		if got, _ := s.zoneFor(name); got != want {
			t.Errorf("zoneFor(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestListingDelayInStore(t *testing.T) {
	t0 := time.Now()
	s := newZoneStore(1)
	s.addZone(1, "example.test", 600, t0)
	_, _ = s.insert("example.test", txtData("seed", "s"), t0, insertInitial)
	_, _ = s.insert("example.test", txtData("new", "n"), t0, insertChange)
	if got := s.listed("example.test", t0.Add(29*time.Second), 30*time.Second); len(got) != 1 || got[0].Data.Name != "seed" {
		t.Errorf("before the delay: %+v", got)
	}
	if got := s.listed("example.test", t0.Add(30*time.Second), 30*time.Second); len(got) != 2 {
		t.Errorf("after the delay: %+v", got)
	}
}
