package tcsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	sslsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/ssl/v20191205"
)

// jsonNames are the parameter names of a struct, without RequestId.
func jsonNames(v any) []string {
	var out []string
	for _, f := range paramFields(reflect.TypeOf(v)) {
		if f.name != "RequestId" {
			out = append(out, f.name)
		}
	}
	slices.Sort(out)
	return out
}

// checkParamsMatchSDK: request structs must know exactly the SDK's names (strict decoding
// would refuse a legitimate call otherwise); responses may fill a subset, but every name must
// be one the SDK reads.
func checkParamsMatchSDK(t *testing.T, requests, responses [][2]any) {
	t.Helper()
	for _, p := range requests {
		if ours, sdk := jsonNames(p[0]), jsonNames(p[1]); !slices.Equal(ours, sdk) {
			t.Errorf("%T has fields %v, the SDK's %T has %v", p[0], ours, p[1], sdk)
		}
	}
	for _, p := range responses {
		sdk := jsonNames(p[1])
		for _, name := range jsonNames(p[0]) {
			if !slices.Contains(sdk, name) {
				t.Errorf("%T answers %s, which the SDK's %T does not have", p[0], name, p[1])
			}
		}
	}
}

func TestSSLParamsMatchSDK(t *testing.T) {
	checkParamsMatchSDK(t, [][2]any{
		{uploadCertificateParams{}, sslsdk.UploadCertificateRequestParams{}},
		{sslTag{}, sslsdk.Tags{}},
		{describeCertificatesParams{}, sslsdk.DescribeCertificatesRequestParams{}},
		{certificateIDParams{}, sslsdk.DescribeCertificateDetailRequestParams{}},
		{deleteCertificateParams{}, sslsdk.DeleteCertificateRequestParams{}},
	}, [][2]any{
		{uploadCertificateResponse{}, sslsdk.UploadCertificateResponseParams{}},
		{describeCertificatesResponse{}, sslsdk.DescribeCertificatesResponseParams{}},
		{certificatesItem{}, sslsdk.Certificates{}},
		{describeCertificateDetailResponse{}, sslsdk.DescribeCertificateDetailResponseParams{}},
		{certBasicInfo{}, sslsdk.CertBasicInfo{}},
		{deleteCertificateResponse{}, sslsdk.DeleteCertificateResponseParams{}},
	})
}

func TestUploadCertificate(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t)
	now := time.Now()
	good := pki.valid(t, "www.example.test", "example.test")
	stranger := pki.valid(t, "other.test")
	expired := pki.issue(t, now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour), "old.example.test")
	foreign := other.valid(t, "foreign.test")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaLeaf := signCert(t, &x509.Certificate{
		Subject: good.cert.Subject, DNSNames: []string{"rsa.example.test"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
	}, pki.inter, pki.interKey, rsaKey)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	ecKey := newKey(t)
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	ecLeaf := signCert(t, &x509.Certificate{
		Subject: good.cert.Subject, DNSNames: []string{"ec.example.test"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
	}, pki.inter, pki.interKey, ecKey)
	sec1 := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}))
	truncated := good.fullchain[:len(good.fullchain)-40]

	tests := []struct {
		name     string
		pub, key string
		typ      string
		want     string
	}{
		{"leaf with chain", good.fullchain, good.keyPEM, "", ""},
		{"leaf alone", good.leafPEM, good.keyPEM, "", ""},
		{"leaf, intermediate and root", good.fullchain + certPEM(pki.root), good.keyPEM, "", ""},
		{"CRLF line ends", strings.ReplaceAll(good.fullchain, "\n", "\r\n"), good.keyPEM, "", ""},
		{"PKCS#1 RSA key", certPEM(rsaLeaf) + pki.interPEM, pkcs1, "", ""},
		{"SEC 1 key after EC PARAMETERS", certPEM(ecLeaf), sec1, "", ""},
		{"CA certificate without key", certPEM(pki.root), "", certTypeCA, ""},
		{"not PEM", "hello", good.keyPEM, "", codeCertParseError},
		{"text before the PEM", "subject=CN=www\n" + good.fullchain, good.keyPEM, "", codeCertParseError},
		{"truncated chain", truncated, good.keyPEM, "", codeCertParseError},
		{"PEM of garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", good.keyPEM, "", codeCertParseError},
		{"key in the public part", good.keyPEM, good.keyPEM, "", codeCertParseError},
		{"garbage key", good.fullchain, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "", codeCertParseError},
		{"encrypted key", good.fullchain, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "", codeCertParseError},
		{"key of another certificate", good.fullchain, stranger.keyPEM, "", codeCertMismatch},
		{"chain in reverse order", pki.interPEM + good.leafPEM, good.keyPEM, "", codeCertChainError},
		{"intermediate of another CA", good.leafPEM + other.interPEM, good.keyPEM, "", codeCertChainError},
		{"another CA's leaf with our intermediate", foreign.leafPEM + pki.interPEM, foreign.keyPEM, "", codeCertChainError},
		{"expired", expired.fullchain, expired.keyPEM, "", codeCertInvalid},
		{"SVR without key", good.fullchain, "", "", codeMissingParameter},
		{"unknown type", good.fullchain, good.keyPEM, "SERVER", codeSSLInvalidParam},
	}
	s := startSim(t, Options{})
	c := sslClient(t, s)
	created := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sslsdk.NewUploadCertificateRequest()
			req.CertificatePublicKey = ptr(tt.pub)
			if tt.key != "" {
				req.CertificatePrivateKey = ptr(tt.key)
			}
			if tt.typ != "" {
				req.CertificateType = ptr(tt.typ)
			}
			resp, err := c.UploadCertificate(req)
			if got := sdkCode(err); got != tt.want {
				t.Fatalf("code %q, want %q (%v)", got, tt.want, err)
			}
			if err == nil {
				created++
				if id := *resp.Response.CertificateId; !regexp.MustCompile(`^[A-Za-z0-9]{8}$`).MatchString(id) {
					t.Errorf("CertificateId %q is not 8 letters and digits", id)
				}
				if resp.Response.RepeatCertId != nil && *resp.Response.RepeatCertId != "" {
					t.Errorf("RepeatCertId %q for a new certificate", *resp.Response.RepeatCertId)
				}
			}
		})
	}
	if s.UploadCount() != created || len(s.Certificates()) != created {
		t.Errorf("UploadCount %d, %d certificates; want %d", s.UploadCount(), len(s.Certificates()), created)
	}

	req := sslsdk.NewUploadCertificateRequest()
	req.CertificatePrivateKey = ptr(good.keyPEM)
	if _, err := c.UploadCertificate(req); sdkCode(err) != codeMissingParameter {
		t.Errorf("no CertificatePublicKey: %v", err)
	}
}

func TestUploadCertificateRepeatable(t *testing.T) {
	pki := newTestPKI(t)
	l := pki.valid(t, "www.example.test")
	hand := pki.valid(t, "hand.example.test")
	s := startSim(t, Options{Certificates: []CertSpec{hand.spec("Hand0001")}})
	c := sslClient(t, s)

	send := func(pub string, repeatable *bool) *sslsdk.UploadCertificateResponseParams {
		t.Helper()
		req := sslsdk.NewUploadCertificateRequest()
		req.CertificatePublicKey, req.CertificatePrivateKey, req.Repeatable = ptr(pub), ptr(l.keyPEM), repeatable
		resp, err := c.UploadCertificate(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Response
	}
	first := send(l.fullchain, ptr(false))
	if first.RepeatCertId != nil && *first.RepeatCertId != "" {
		t.Fatalf("first upload has RepeatCertId %q", *first.RepeatCertId)
	}
	// The same leaf with another chain spelling is the same fingerprint.
	again := send(l.leafPEM, ptr(false))
	if again.RepeatCertId == nil || *again.RepeatCertId != *first.CertificateId || *again.CertificateId != *first.CertificateId {
		t.Errorf("Repeatable=false: CertificateId %v RepeatCertId %v, want both %s", deref(again.CertificateId), deref(again.RepeatCertId), *first.CertificateId)
	}
	if s.UploadCount() != 1 {
		t.Errorf("UploadCount %d after a repeat, want 1", s.UploadCount())
	}
	if dup := send(l.fullchain, nil); *dup.CertificateId == *first.CertificateId {
		t.Errorf("Repeatable defaults to true: a new id is expected")
	}
	if s.UploadCount() != 2 {
		t.Errorf("UploadCount %d, want 2", s.UploadCount())
	}

	// A certificate uploaded by hand before counts for Repeatable=false too.
	req := sslsdk.NewUploadCertificateRequest()
	req.CertificatePublicKey, req.CertificatePrivateKey = ptr(hand.fullchain), ptr(hand.keyPEM)
	req.Repeatable = ptr(false)
	resp, err := c.UploadCertificate(req)
	if err != nil || deref(resp.Response.RepeatCertId) != "Hand0001" {
		t.Errorf("repeat of a hand-uploaded certificate: %v %v", err, resp)
	}
}

func TestDescribeCertificates(t *testing.T) {
	pki := newTestPKI(t)
	now := time.Now()
	expired := pki.issue(t, now.Add(-100*24*time.Hour), now.Add(-time.Hour), "old.example.test")
	s := startSim(t, Options{Certificates: []CertSpec{expired.spec("Expired1")}})
	c := sslClient(t, s)
	var ids []string
	for i, name := range []string{"a.example.test", "b.example.test", "c.other.test", "d.other.test", "e.other.test"} {
		ids = append(ids, upload(t, c, pki.valid(t, name, "*."+name), []string{"alpha", "beta", "gamma", "delta", "epsilon"}[i]))
	}

	list := func(mod func(*sslsdk.DescribeCertificatesRequest)) ([]string, uint64) {
		t.Helper()
		req := sslsdk.NewDescribeCertificatesRequest()
		if mod != nil {
			mod(req)
		}
		resp, err := c.DescribeCertificates(req)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cert := range resp.Response.Certificates {
			got = append(got, *cert.CertificateId)
		}
		return got, *resp.Response.TotalCount
	}

	all, total := list(nil)
	newestFirst := append(slices.Clone(ids), "Expired1")
	slices.Reverse(newestFirst[:5])
	if total != 6 || !slices.Equal(all, newestFirst) {
		t.Errorf("default list %v (total %d), want newest first %v", all, total, newestFirst)
	}
	var paged []string
	for offset := uint64(0); offset < 6; offset += 4 {
		got, total := list(func(r *sslsdk.DescribeCertificatesRequest) { r.Offset, r.Limit = ptr(offset), ptr(uint64(4)) })
		if total != 6 {
			t.Errorf("TotalCount %d on a page", total)
		}
		paged = append(paged, got...)
	}
	if !slices.Equal(paged, all) {
		t.Errorf("pages %v, want %v", paged, all)
	}
	if got, _ := list(func(r *sslsdk.DescribeCertificatesRequest) { r.Limit = ptr(uint64(5000)) }); len(got) != 6 {
		t.Errorf("Limit over 1000 is treated as 1000: got %d", len(got))
	}

	filters := []struct {
		name string
		mod  func(*sslsdk.DescribeCertificatesRequest)
		want []string
	}{
		{"SearchKey on the domain", func(r *sslsdk.DescribeCertificatesRequest) { r.SearchKey = ptr("OTHER.test") }, []string{ids[4], ids[3], ids[2]}},
		{"SearchKey on the alias", func(r *sslsdk.DescribeCertificatesRequest) { r.SearchKey = ptr("lph") }, []string{ids[0]}},
		{"SearchKey on the id", func(r *sslsdk.DescribeCertificatesRequest) { r.SearchKey = ptr(ids[1]) }, []string{ids[1]}},
		{"CertIds", func(r *sslsdk.DescribeCertificatesRequest) {
			r.CertIds = []*string{ptr(ids[0]), ptr("Expired1"), ptr("nothere1")}
		}, []string{ids[0], "Expired1"}},
		{"expired status", func(r *sslsdk.DescribeCertificatesRequest) { r.CertificateStatus = []*uint64{ptr(uint64(3))} }, []string{"Expired1"}},
		{"CA type", func(r *sslsdk.DescribeCertificatesRequest) { r.CertificateType = ptr("CA") }, nil},
		{"bought", func(r *sslsdk.DescribeCertificatesRequest) { r.FilterSource = ptr("buy") }, nil},
		{"ending first", func(r *sslsdk.DescribeCertificatesRequest) {
			r.ExpirationSort, r.CertIds = ptr("ASC"), []*string{ptr(ids[2]), ptr("Expired1")}
		}, []string{"Expired1", ids[2]}},
		{"ending last", func(r *sslsdk.DescribeCertificatesRequest) {
			r.ExpirationSort, r.CertIds = ptr("DESC"), []*string{ptr("Expired1"), ptr(ids[2])}
		}, []string{ids[2], "Expired1"}},
	}
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			if got, total := list(f.mod); !slices.Equal(got, f.want) || total != uint64(len(f.want)) {
				t.Errorf("got %v (total %d), want %v", got, total, f.want)
			}
		})
	}

	req := sslsdk.NewDescribeCertificatesRequest()
	req.CertIds = []*string{ptr(ids[0]), ptr("Expired1")}
	resp, err := c.DescribeCertificates(req)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*sslsdk.Certificates{}
	for _, cert := range resp.Response.Certificates {
		byID[*cert.CertificateId] = cert
	}
	a := byID[ids[0]]
	timeFormat := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)
	switch {
	case *a.Domain != "a.example.test" || !slices.Equal(derefAll(a.SubjectAltName), []string{"a.example.test", "*.a.example.test"}):
		t.Errorf("Domain %q SubjectAltName %v: the list's SANs include the main domain", *a.Domain, derefAll(a.SubjectAltName))
	case *a.From != "upload" || *a.CertificateType != "SVR" || *a.Status != 1 || *a.ProjectId != "0" || *a.Alias != "alpha":
		t.Errorf("item %+v", *a)
	case !*a.IsWildcard || !*a.Deployable:
		t.Errorf("IsWildcard %v Deployable %v", *a.IsWildcard, *a.Deployable)
	case !timeFormat.MatchString(*a.CertBeginTime) || !timeFormat.MatchString(*a.InsertTime):
		t.Errorf("times %q %q", *a.CertBeginTime, *a.InsertTime)
	}
	beijing := time.FixedZone("CST", 8*3600)
	if want := expired.cert.NotAfter.In(beijing).Format("2006-01-02 15:04:05"); *byID["Expired1"].CertEndTime != want {
		t.Errorf("CertEndTime %q, want %q (GMT+8)", *byID["Expired1"].CertEndTime, want)
	}
	if e := byID["Expired1"]; *e.Status != 3 || *e.Deployable {
		t.Errorf("expired certificate: Status %d Deployable %v", *e.Status, *e.Deployable)
	}
}

func derefAll(ss []*string) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, *s)
	}
	return out
}

func TestDescribeCertificateDetail(t *testing.T) {
	pki := newTestPKI(t)
	l := pki.valid(t, "example.test", "www.example.test", "*.example.test")
	s := startSim(t, Options{})
	c := sslClient(t, s)
	id := upload(t, c, l, "detail")

	req := sslsdk.NewDescribeCertificateDetailRequest()
	req.CertificateId = ptr(id)
	resp, err := c.DescribeCertificateDetail(req)
	if err != nil {
		t.Fatal(err)
	}
	d := resp.Response
	sum1 := sha1.Sum(l.cert.Raw)
	switch {
	case *d.Domain != "example.test" || !slices.Equal(derefAll(d.SubjectAltName), []string{"www.example.test", "*.example.test"}):
		t.Errorf("Domain %q SubjectAltName %v: the detail's SANs exclude the main domain", *d.Domain, derefAll(d.SubjectAltName))
	case *d.CertFingerprint != hex.EncodeToString(sum1[:]):
		t.Errorf("CertFingerprint %q", *d.CertFingerprint)
	case *d.CertificatePublicKey != l.fullchain || *d.CertificatePrivateKey != l.keyPEM:
		t.Errorf("the PEM is not returned as uploaded")
	case *d.Alias != "detail" || *d.Status != 1 || *d.From != "upload" || *d.CertificateType != "SVR" || len(d.CertChainInfo) != 2:
		t.Errorf("detail %+v", *d)
	}
	sum256 := sha256.Sum256(l.cert.Raw)
	if got := s.Certificates(); len(got) != 1 || got[0].Fingerprint != hex.EncodeToString(sum256[:]) || !slices.Equal(got[0].Names, l.cert.DNSNames) {
		t.Errorf("Certificates() %+v", got)
	}

	req.CertificateId = ptr("nothere1")
	if _, err := c.DescribeCertificateDetail(req); sdkCode(err) != codeCertNotFound {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := c.DescribeCertificateDetail(sslsdk.NewDescribeCertificateDetailRequest()); sdkCode(err) != codeMissingParameter {
		t.Errorf("no id: %v", err)
	}
}

func TestSSLRateLimitCodeAndRegion(t *testing.T) {
	s := startSim(t, Options{RateLimits: map[string]int{"DescribeCertificates": 1}})
	c := sslClient(t, s)
	if _, err := c.DescribeCertificates(sslsdk.NewDescribeCertificatesRequest()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeCertificates(sslsdk.NewDescribeCertificatesRequest()); sdkCode(err) != codeSSLRateLimit {
		t.Errorf("over the limit: %v, want %s (SSL's own code)", err, codeSSLRateLimit)
	}
	regional, err := sslsdk.NewClient(sdkCredential(s.Credential()), "ap-guangzhou", sdkProfile(s))
	if err != nil {
		t.Fatal(err)
	}
	req := sslsdk.NewDescribeCertificateDetailRequest()
	req.CertificateId = ptr("nothere1")
	if _, err := regional.DescribeCertificateDetail(req); sdkCode(err) != codeCertNotFound {
		t.Errorf("SSL ignores a region: %v", err)
	}
}
