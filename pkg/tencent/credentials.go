// Package tencent builds Tencent Cloud API clients (DNSPod, SSL, CLB) from the
// credential chain, an optional endpoint and a region, and wraps every call in
// one retry policy whose errors tell an operator what to do next.
package tencent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Names of the environment variables of Tencent Cloud's credential chain.
const (
	EnvSecretID        = "TENCENTCLOUD_SECRET_ID"
	EnvSecretKey       = "TENCENTCLOUD_SECRET_KEY"
	EnvSessionToken    = "TENCENTCLOUD_SESSION_TOKEN"
	EnvCredentialsFile = "TENCENTCLOUD_CREDENTIALS_FILE"
)

// DefaultMetadataURL is the CVM instance metadata service that hands out role credentials.
const DefaultMetadataURL = "http://metadata.tencentyun.com/latest/meta-data/"

// apiKeyConsole is where a user creates the kind of key clbcert needs.
const apiKeyConsole = "https://console.cloud.tencent.com/cam/capi"

// Credential is an API key together with where it came from, so that an
// authentication failure can name the variable, file or role to fix.
type Credential struct {
	common.CredentialIface
	// Source describes the origin, e.g. "config file /etc/clbcert/config.toml",
	// or "environment" for the variables, which errors name part by part.
	Source string
}

// envSource is the Source of a key from the environment, where the SecretId,
// SecretKey and session token each have a variable of their own.
const envSource = "environment"

// from names where one part of a key came from: that part's variable for a
// key from the environment, else the key's source.
func from(source, envVar string) string {
	if source == envSource {
		return envVar
	}
	return source
}

// SecretIDHint is the SecretId with all but its first four and last four
// characters masked: enough to tell two keys apart in an error message,
// not enough to be of use to anyone reading a log.
func (c *Credential) SecretIDHint() string {
	return maskID(c.GetSecretId())
}

// secretIDPrefix starts every Tencent Cloud SecretId, permanent or
// temporary; a SecretKey is random.
const secretIDPrefix = "AKID"

// maskID masks a SecretId. One that does not start as SecretIds do may be
// a SecretKey pasted in its place, so none of it is shown.
// Tested by TestSecretKeyAsSecretIDIsNeverShown.
func maskID(id string) string {
	if len(id) <= 8 || !strings.HasPrefix(id, secretIDPrefix) {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}

// CredentialOptions says where the chain looks. Every field is injected so
// that tests and the mains decide, not the process environment.
type CredentialOptions struct {
	// LookupEnv reads an environment variable; nil means no variables are set.
	LookupEnv func(string) (string, bool)
	// Home is the user's home directory, for ~/.tencentcloud/credentials.
	Home string
	// MetadataURL is the CVM metadata service; empty means DefaultMetadataURL.
	MetadataURL string
	// HTTPClient talks to the metadata service; nil means a client with a 2 s
	// timeout, so that a machine that is not a CVM finds out quickly.
	HTTPClient *http.Client
	// FileID and FileKey are a key from clbcert's config file, consulted after
	// the environment; FileSource names that file in error messages.
	FileID, FileKey, FileSource string
}

// ErrNoCredential means no link of the chain produced a key.
var ErrNoCredential = errors.New("no Tencent Cloud API key found")

// LoadCredential walks Tencent Cloud's credential chain in its order: the
// environment, (clbcert's config file,) the profile file, the CVM instance role.
func LoadCredential(ctx context.Context, opts CredentialOptions) (*Credential, error) {
	env := opts.LookupEnv
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	if cred, err := fromEnv(env); cred != nil || err != nil {
		return cred, err
	}
	if opts.FileID != "" || opts.FileKey != "" {
		if opts.FileID == "" || opts.FileKey == "" {
			return nil, fmt.Errorf("%s has only one of secret_id and secret_key: set both, or remove both", opts.FileSource)
		}
		if err := CheckKeyShape(opts.FileID, opts.FileKey, opts.FileSource); err != nil {
			return nil, err
		}
		return &Credential{CredentialIface: common.NewCredential(opts.FileID, opts.FileKey), Source: opts.FileSource}, nil
	}
	if cred, err := fromProfile(env, opts.Home); cred != nil || err != nil {
		return cred, err
	}
	cred, err := fromCVMRole(ctx, opts)
	if cred != nil || err != nil {
		return cred, err
	}
	return nil, fmt.Errorf("%w: set %s and %s, write [default] secret_id/secret_key in ~/.tencentcloud/credentials, or run on a CVM with a CAM role; create a key at %s",
		ErrNoCredential, EnvSecretID, EnvSecretKey, apiKeyConsole)
}

func fromEnv(env func(string) (string, bool)) (*Credential, error) {
	id, idSet := env(EnvSecretID)
	key, keySet := env(EnvSecretKey)
	token, _ := env(EnvSessionToken)
	if !idSet && !keySet {
		return nil, nil
	}
	id, key, token = strings.TrimSpace(id), strings.TrimSpace(key), strings.TrimSpace(token)
	switch {
	case id == "" && key == "":
		return nil, nil
	case id == "":
		return nil, fmt.Errorf("%s is set but %s is empty: set both, or unset both to use the profile file or CVM role", EnvSecretKey, EnvSecretID)
	case key == "":
		return nil, fmt.Errorf("%s is set but %s is empty: set both, or unset both to use the profile file or CVM role", EnvSecretID, EnvSecretKey)
	}
	if err := CheckKeyShape(id, key, envSource); err != nil {
		return nil, err
	}
	return &Credential{CredentialIface: common.NewTokenCredential(id, key, token), Source: envSource}, nil
}

func fromProfile(env func(string) (string, bool), home string) (*Credential, error) {
	path, explicit := env(EnvCredentialsFile)
	if !explicit {
		if home == "" {
			return nil, nil
		}
		path = filepath.Join(home, ".tencentcloud", "credentials")
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return nil, nil
		}
		return nil, fmt.Errorf("read credentials profile %s: %w", path, err)
	}
	defer f.Close()
	values, err := iniSection(f, "default")
	if err != nil {
		return nil, fmt.Errorf("read credentials profile %s: %w", path, err)
	}
	id, key := values["secret_id"], values["secret_key"]
	if id == "" || key == "" {
		return nil, fmt.Errorf("credentials profile %s has no secret_id and secret_key in section [default]: add them, or set %s and %s", path, EnvSecretID, EnvSecretKey)
	}
	src := "profile " + path + " [default]"
	if err := CheckKeyShape(id, key, src); err != nil {
		return nil, err
	}
	return &Credential{CredentialIface: common.NewCredential(id, key), Source: src}, nil
}

// iniSection returns the key = value pairs of one [section] of an INI file.
func iniSection(r io.Reader, section string) (map[string]string, error) {
	values := map[string]string{}
	in := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			in = strings.TrimSpace(strings.Trim(line, "[]")) == section
		case in:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				values[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return values, sc.Err()
}

// CheckKeyShape refuses a key that cannot be a Tencent Cloud API key before
// any request is sent. The common mistake is a legacy DNSPod token ("ID,Token",
// a numeric ID with a 32-character token) pasted where a SecretId/SecretKey
// belongs; the API would only answer with a bare AuthFailure.
func CheckKeyShape(id, key, source string) error {
	legacy := strings.Contains(id, ",") || strings.Contains(key, ",") || isDigits(id)
	if legacy {
		return fmt.Errorf("the key from %s looks like a legacy DNSPod token (ID,Token), which the Tencent Cloud API does not accept: create a Tencent Cloud API key (SecretId/SecretKey) at %s and set %s and %s",
			from(source, EnvSecretID+" and "+EnvSecretKey), apiKeyConsole, EnvSecretID, EnvSecretKey)
	}
	if !strings.HasPrefix(id, secretIDPrefix) && strings.HasPrefix(key, secretIDPrefix) {
		return fmt.Errorf("the SecretId and SecretKey from %s look swapped (the SecretId is the one that starts with %s): swap them",
			from(source, EnvSecretID+" and "+EnvSecretKey), secretIDPrefix)
	}
	for _, part := range []struct{ name, value, env string }{{"SecretId", id, EnvSecretID}, {"SecretKey", key, EnvSecretKey}} {
		if strings.IndexFunc(part.value, unicode.IsSpace) >= 0 {
			return fmt.Errorf("the %s from %s contains white space: copy it again from %s", part.name, from(source, part.env), apiKeyConsole)
		}
	}
	return nil
}

func isDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// roleCredential holds temporary credentials of a CVM role and renews them
// shortly before they expire. The SDK's own provider fetches with an
// unbounded http.Get, which hangs a hook on machines that are not CVMs.
type roleCredential struct {
	fetch func(context.Context) (roleKeys, error)
	now   func() time.Time

	mu   sync.Mutex
	keys roleKeys
}

type roleKeys struct {
	TmpSecretID  string `json:"TmpSecretId"`
	TmpSecretKey string `json:"TmpSecretKey"`
	Token        string `json:"Token"`
	ExpiredTime  int64  `json:"ExpiredTime"`
	Code         string `json:"Code"`
}

func fromCVMRole(ctx context.Context, opts CredentialOptions) (*Credential, error) {
	base := opts.MetadataURL
	if base == "" {
		base = DefaultMetadataURL
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Second}
	}
	roleURL := strings.TrimSuffix(base, "/") + "/cam/security-credentials/"
	name, status, err := metadataGet(ctx, hc, roleURL)
	if err != nil || status == http.StatusNotFound || strings.TrimSpace(string(name)) == "" {
		// Not a CVM, or a CVM without a role: the chain simply ends here.
		return nil, nil
	}
	role := strings.TrimSpace(string(name))
	rc := &roleCredential{now: time.Now, fetch: func(ctx context.Context) (roleKeys, error) {
		body, status, err := metadataGet(ctx, hc, roleURL+role)
		if err != nil {
			return roleKeys{}, err
		}
		var k roleKeys
		if status != http.StatusOK || json.Unmarshal(body, &k) != nil || k.TmpSecretID == "" || k.TmpSecretKey == "" {
			return roleKeys{}, fmt.Errorf("metadata service answered %d without usable keys", status)
		}
		return k, nil
	}}
	keys, err := rc.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch credentials of CVM role %q from the metadata service: %w", role, err)
	}
	rc.keys = keys
	return &Credential{CredentialIface: rc, Source: fmt.Sprintf("CVM role %q", role)}, nil
}

func metadataGet(ctx context.Context, hc *http.Client, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return body, resp.StatusCode, err
}

// renewBefore is how long before expiry role keys are fetched again, so a
// request signed with them does not expire in flight.
const renewBefore = 5 * time.Minute

func (r *roleCredential) current() roleKeys {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Unix(r.keys.ExpiredTime, 0).Sub(r.now()) < renewBefore {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// On failure the old keys are kept: they may still be valid, and the
		// API's AuthFailure will name the role if they are not.
		if k, err := r.fetch(ctx); err == nil {
			r.keys = k
		}
	}
	return r.keys
}

func (r *roleCredential) GetSecretId() string  { return r.current().TmpSecretID }
func (r *roleCredential) GetSecretKey() string { return r.current().TmpSecretKey }
func (r *roleCredential) GetToken() string     { return r.current().Token }
func (r *roleCredential) GetCredential() (string, string, string) {
	k := r.current()
	return k.TmpSecretID, k.TmpSecretKey, k.Token
}
