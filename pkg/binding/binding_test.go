package binding

import (
	"reflect"
	"strings"
	"testing"
)

func rsa(id string) Member { return Member{CertID: id, Algorithm: RSA} }
func ecc(id string) Member { return Member{CertID: id, Algorithm: ECC} }
func sm2(id string) Member { return Member{CertID: id, Algorithm: SM2} }

func TestNext(t *testing.T) {
	mutual := func(verify string, ms ...Member) Binding {
		return Binding{Members: ms, SSLMode: ModeMutual, CertCaID: "ca1", SSLVerifyClient: verify}
	}
	tests := []struct {
		name    string
		cur     Binding
		deploy  Deploy
		want    Binding
		outcome Outcome
		err     string
	}{
		{"2a single RSA replaced", Binding{Members: []Member{rsa("r1")}}, Deploy{CertID: "r2", Algorithm: RSA},
			Binding{Members: []Member{rsa("r2")}}, Replaced, ""},
		{"2a RSA member of a pair replaced, ECC kept", Binding{Members: []Member{ecc("e1"), rsa("r1")}}, Deploy{CertID: "r2", Algorithm: RSA},
			Binding{Members: []Member{ecc("e1"), rsa("r2")}}, Replaced, ""},
		{"2a ECC member of a pair replaced, RSA kept", Binding{Members: []Member{rsa("r1"), ecc("e1")}}, Deploy{CertID: "e2", Algorithm: ECC, PartnerCovers: true},
			Binding{Members: []Member{rsa("r1"), ecc("e2")}}, Replaced, ""},
		{"2b partner covers: ECC added beside RSA", Binding{Members: []Member{rsa("r1")}}, Deploy{CertID: "e1", Algorithm: ECC, PartnerCovers: true},
			Binding{Members: []Member{rsa("r1"), ecc("e1")}}, Added, ""},
		{"2b no partner: RSA replaced by ECC (migration)", Binding{Members: []Member{rsa("r1")}}, Deploy{CertID: "e1", Algorithm: ECC},
			Binding{Members: []Member{ecc("e1")}}, Migrated, ""},
		{"2b no partner: SM2 stays, RSA migrated to ECC", Binding{Members: []Member{sm2("s1"), rsa("r1")}}, Deploy{CertID: "e1", Algorithm: ECC},
			Binding{Members: []Member{sm2("s1"), ecc("e1")}}, Migrated, ""},
		{"SM2 alone: the new certificate joins it", Binding{Members: []Member{sm2("s1")}}, Deploy{CertID: "r1", Algorithm: RSA},
			Binding{Members: []Member{sm2("s1"), rsa("r1")}}, Added, ""},
		{"empty binding gets its first certificate", Binding{}, Deploy{CertID: "r1", Algorithm: RSA},
			Binding{Members: []Member{rsa("r1")}}, Migrated, ""},
		{"already bound: unchanged", Binding{Members: []Member{rsa("r1"), ecc("e1")}}, Deploy{CertID: "e1", Algorithm: ECC},
			Binding{Members: []Member{rsa("r1"), ecc("e1")}}, Unchanged, ""},
		{"mutual OPTIONAL carried over on replace", mutual(VerifyOptional, rsa("r1"), ecc("e1")), Deploy{CertID: "r2", Algorithm: RSA},
			mutual(VerifyOptional, rsa("r2"), ecc("e1")), Replaced, ""},
		{"mutual OPTIONAL carried over on add", mutual(VerifyOptional, ecc("e1")), Deploy{CertID: "r1", Algorithm: RSA, PartnerCovers: true},
			mutual(VerifyOptional, ecc("e1"), rsa("r1")), Added, ""},
		{"mutual ON carried over on migration", mutual(VerifyOn, ecc("e1")), Deploy{CertID: "r1", Algorithm: RSA},
			mutual(VerifyOn, rsa("r1")), Migrated, ""},

		{"unknown member algorithm", Binding{Members: []Member{{CertID: "x1"}}}, Deploy{CertID: "r1", Algorithm: RSA}, Binding{}, "", "look its EncryptAlgorithm up"},
		{"two members of one algorithm", Binding{Members: []Member{rsa("r1"), rsa("r2")}}, Deploy{CertID: "r3", Algorithm: RSA}, Binding{}, "", "distinct key algorithms"},
		{"mutual without CA", Binding{Members: []Member{rsa("r1")}, SSLMode: ModeMutual}, Deploy{CertID: "r2", Algorithm: RSA}, Binding{}, "", "without a client CA"},
		{"bad SSL mode", Binding{Members: []Member{rsa("r1")}, SSLMode: "BOTH"}, Deploy{CertID: "r2", Algorithm: RSA}, Binding{}, "", `SSL mode "BOTH"`},
		{"bad verify", mutual("MAYBE", rsa("r1")), Deploy{CertID: "r2", Algorithm: RSA}, Binding{}, "", `SSLVerifyClient "MAYBE"`},
		{"deploy of SM2", Binding{Members: []Member{rsa("r1")}}, Deploy{CertID: "s1", Algorithm: SM2}, Binding{}, "", "binds RSA or ECC"},
		{"deploy without id", Binding{Members: []Member{rsa("r1")}}, Deploy{Algorithm: RSA}, Binding{}, "", "no id"},
		{"bound certificate of another algorithm", Binding{Members: []Member{rsa("r1")}}, Deploy{CertID: "r1", Algorithm: ECC}, Binding{}, "", "bound as RSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := Binding{Members: append([]Member(nil), tt.cur.Members...), SSLMode: tt.cur.SSLMode, CertCaID: tt.cur.CertCaID, SSLVerifyClient: tt.cur.SSLVerifyClient}
			got, outcome, err := Next(tt.cur, tt.deploy)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Next: error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) || outcome != tt.outcome {
				t.Errorf("Next = %+v, %s; want %+v, %s", got, outcome, tt.want, tt.outcome)
			}
			if !reflect.DeepEqual(tt.cur, before) {
				t.Errorf("Next changed its argument: %+v, was %+v", tt.cur, before)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		b    Binding
		want Write
		err  string
	}{
		{"one member, one-way", Binding{Members: []Member{rsa("r1")}},
			Write{Certificate: &CertificateInput{SSLMode: ModeOneWay, CertID: "r1"}}, ""},
		{"one member, mutual default verify is written as ON", Binding{Members: []Member{ecc("e1")}, SSLMode: ModeMutual, CertCaID: "ca1"},
			Write{Certificate: &CertificateInput{SSLMode: ModeMutual, SSLVerifyClient: VerifyOn, CertID: "e1", CertCaID: "ca1"}}, ""},
		{"one member, mutual OPTIONAL", Binding{Members: []Member{ecc("e1")}, SSLMode: ModeMutual, CertCaID: "ca1", SSLVerifyClient: VerifyOptional},
			Write{Certificate: &CertificateInput{SSLMode: ModeMutual, SSLVerifyClient: VerifyOptional, CertID: "e1", CertCaID: "ca1"}}, ""},
		{"pair, one-way: MultiCertInfo without CA", Binding{Members: []Member{rsa("r1"), ecc("e1")}},
			Write{MultiCert: &MultiCertInfo{SSLMode: ModeOneWay, CertIDs: []string{"r1", "e1"}}}, ""},
		{"pair, mutual OPTIONAL: CA last in CertList", Binding{Members: []Member{rsa("r1"), ecc("e1")}, SSLMode: ModeMutual, CertCaID: "ca1", SSLVerifyClient: VerifyOptional},
			Write{MultiCert: &MultiCertInfo{SSLMode: ModeMutual, SSLVerifyClient: VerifyOptional, CertIDs: []string{"r1", "e1", "ca1"}}}, ""},
		{"a CA left over from MUTUAL is not written one-way", Binding{Members: []Member{rsa("r1"), ecc("e1")}, CertCaID: "ca1", SSLVerifyClient: VerifyOn},
			Write{MultiCert: &MultiCertInfo{SSLMode: ModeOneWay, CertIDs: []string{"r1", "e1"}}}, ""},
		{"nothing to write", Binding{}, Write{}, "no server certificate"},
		{"invalid binding", Binding{Members: []Member{rsa("r1"), rsa("r2")}}, Write{}, "distinct key algorithms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.b.Write()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Write: error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Write = %+v / %+v, want %+v / %+v", got.Certificate, got.MultiCert, tt.want.Certificate, tt.want.MultiCert)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	base := Binding{Members: []Member{rsa("r1"), ecc("e1")}, SSLMode: ModeMutual, CertCaID: "ca1"}
	tests := []struct {
		name string
		b    Binding
		want bool
	}{
		{"members in another order, verify default spelled out", Binding{Members: []Member{ecc("e1"), rsa("r1")}, SSLMode: ModeMutual, CertCaID: "ca1", SSLVerifyClient: VerifyOn}, true},
		{"a member less", Binding{Members: []Member{rsa("r1")}, SSLMode: ModeMutual, CertCaID: "ca1"}, false},
		{"OPTIONAL instead of ON", Binding{Members: base.Members, SSLMode: ModeMutual, CertCaID: "ca1", SSLVerifyClient: VerifyOptional}, false},
		{"another CA", Binding{Members: base.Members, SSLMode: ModeMutual, CertCaID: "ca2"}, false},
		{"one-way", Binding{Members: base.Members}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(base, tt.b); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
	if !Equal(Binding{Members: []Member{rsa("r1")}}, Binding{Members: []Member{rsa("r1")}, SSLMode: ModeOneWay, CertCaID: "stale"}) {
		t.Error("a one-way binding's leftover CA or spelled-out default mode made it differ")
	}
}

func TestMember(t *testing.T) {
	b := Binding{Members: []Member{rsa("r1"), ecc("e1")}}
	if m, ok := b.Member(ECC); !ok || m.CertID != "e1" {
		t.Errorf("Member(ECC) = %v, %v", m, ok)
	}
	if _, ok := b.Member(SM2); ok {
		t.Error("Member(SM2) found one")
	}
}
