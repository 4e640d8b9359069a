package tcsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	tc3Algorithm   = "TC3-HMAC-SHA256"
	tc3Terminator  = "tc3_request"
	unsignedBody   = "UNSIGNED-PAYLOAD"
	scopeDateStyle = "2006-01-02"
)

// authorization is a parsed TC3 Authorization header:
//
//	TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=content-type;host, Signature=HEX
type authorization struct {
	SecretID      string
	Date          string // credential scope date, YYYY-MM-DD
	Service       string // credential scope service: dnspod, ssl, clb
	SignedHeaders string // as sent, e.g. "content-type;host"
	Signature     string // lower-case hex
}

// parseAuthorization accepts exactly the shape the SDK sends and what the documentation allows
// (extra signed headers, sorted and lower case, always including content-type and host). The
// error text never repeats the header: it carries a signature that is not ours to log.
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	rest, ok := strings.CutPrefix(h, tc3Algorithm+" ")
	if !ok {
		return a, errors.New("the algorithm must be " + tc3Algorithm)
	}
	parts := strings.Split(rest, ",")
	if len(parts) != 3 {
		return a, errors.New("expected Credential, SignedHeaders and Signature")
	}
	seen := map[string]string{}
	for _, p := range parts {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || v == "" {
			return a, errors.New("every element must be KEY=VALUE")
		}
		if _, dup := seen[k]; dup {
			return a, errors.New("duplicate element " + k)
		}
		seen[k] = v
	}
	cred, signed, sig := seen["Credential"], seen["SignedHeaders"], seen["Signature"]
	if cred == "" || signed == "" || sig == "" {
		return a, errors.New("expected Credential, SignedHeaders and Signature")
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 4 || scope[0] == "" || scope[2] == "" || scope[3] != tc3Terminator {
		return a, errors.New("Credential must be SecretId/Date/Service/" + tc3Terminator)
	}
	if _, err := time.Parse(scopeDateStyle, scope[1]); err != nil {
		return a, errors.New("the credential scope date must be YYYY-MM-DD")
	}
	names := strings.Split(signed, ";")
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		return a, errors.New("SignedHeaders must be sorted and unique")
	}
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) {
			return a, errors.New("SignedHeaders must be lower-case header names")
		}
	}
	if !slices.Contains(names, "content-type") || !slices.Contains(names, "host") {
		return a, errors.New("SignedHeaders must include content-type and host")
	}
	if len(sig) != sha256.Size*2 || strings.ToLower(sig) != sig {
		return a, errors.New("Signature must be 64 lower-case hex digits")
	}
	if _, err := hex.DecodeString(sig); err != nil {
		return a, errors.New("Signature must be 64 lower-case hex digits")
	}
	return authorization{
		SecretID: scope[0], Date: scope[1], Service: scope[2],
		SignedHeaders: signed, Signature: sig,
	}, nil
}

// canonicalHeaders lower-cases and trims every signed header as the TC3 documentation says.
// The Host header lives in r.Host in Go, not in r.Header.
func canonicalHeaders(r *http.Request, signedHeaders string) string {
	var b strings.Builder
	for _, name := range strings.Split(signedHeaders, ";") {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.ToLower(strings.TrimSpace(v)))
		b.WriteByte('\n')
	}
	return b.String()
}

// payloadHash is hex(SHA256(body)), or the hash of the literal UNSIGNED-PAYLOAD when the
// client asked for an unsigned body.
func payloadHash(r *http.Request, body []byte) string {
	if r.Header.Get("X-TC-Content-SHA256") == unsignedBody {
		return sha256Hex([]byte(unsignedBody))
	}
	return sha256Hex(body)
}

// canonicalRequest mirrors sendWithSignatureV3: method, "/", the (empty for POST) query,
// headers, signed header names, payload hash, one per line.
func canonicalRequest(method, headers, signedHeaders, hashedPayload string) string {
	return strings.Join([]string{method, "/", "", headers, signedHeaders, hashedPayload}, "\n")
}

func stringToSign(timestamp, scope, canonical string) string {
	return strings.Join([]string{tc3Algorithm, timestamp, scope, sha256Hex([]byte(canonical))}, "\n")
}

func credentialScope(date, service string) string {
	return date + "/" + service + "/" + tc3Terminator
}

// tc3Signature derives the signing key from the secret key, the scope date and the service,
// then signs the string to sign.
func tc3Signature(secretKey, date, service, toSign string) string {
	kDate := hmacSHA256([]byte("TC3"+secretKey), date)
	kService := hmacSHA256(kDate, service)
	kSigning := hmacSHA256(kService, tc3Terminator)
	return hex.EncodeToString(hmacSHA256(kSigning, toSign))
}

// expectedSignature is the signature a holder of secretKey would have sent for r. Only POST
// reaches here, so the canonical query string is always empty.
func expectedSignature(r *http.Request, body []byte, a authorization, timestamp, secretKey string) string {
	canonical := canonicalRequest(r.Method, canonicalHeaders(r, a.SignedHeaders), a.SignedHeaders, payloadHash(r, body))
	return tc3Signature(secretKey, a.Date, a.Service, stringToSign(timestamp, credentialScope(a.Date, a.Service), canonical))
}

// signatureMatches compares in constant time so the comparison leaks nothing about the key.
func signatureMatches(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
