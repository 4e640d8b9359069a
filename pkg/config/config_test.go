package config

import (
	"strings"
	"testing"

	"github.com/clbcert/clbcert/internal/configtest"
)

func TestSecretInPrivateFileIsUsed(t *testing.T) {
	f, err := Load(configtest.Write(t, "secret_id = \"AKIDfile\"\nsecret_key = \"k\"\n", 0o600), true)
	if err != nil || f.SecretID != "AKIDfile" {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}

// A config file whose secret does not parse is refused without quoting it:
// the parser's own message would show part of the value.
func TestUnreadableSecretIsNotQuoted(t *testing.T) {
	const secret = "ZqXvKwPmJtRbNf"
	for _, tt := range []struct{ body, key string }{
		{"secret_key = " + secret + "\n", "secret_key"},
		{"secret_key = \"" + secret + "\n", "secret_key"},
		{"secret_id = \"AKIDx\"\nsecret_key = '" + secret + "\"\n", "secret_key"},
		{"secret_key = \"Super\\q" + secret + "\"\n", "secret_key"},
		{"secret_key = 123" + secret + "\n", "secret_key"},
		{"regions = [\"ap-guangzhou\"]\nsecret_id = " + secret + "\n", "secret_id"},
	} {
		_, err := Load(configtest.Write(t, tt.body, 0o600), true)
		if err == nil {
			t.Errorf("%q: accepted", tt.body)
			continue
		}
		for i := 0; i+4 <= len(secret); i++ {
			if strings.Contains(err.Error(), secret[i:i+4]) {
				t.Fatalf("%q: the error quotes the secret: %v", tt.body, err)
			}
		}
		if !strings.Contains(err.Error(), "the value of "+tt.key+" cannot be read") || !strings.Contains(err.Error(), "write it as a quoted string") {
			t.Errorf("%q: %v", tt.body, err)
		}
	}
	// Elsewhere the parser's message stays: it says what is wrong.
	_, err := Load(configtest.Write(t, "regions = ap-guangzhou\n", 0o600), true)
	if err == nil || !strings.Contains(err.Error(), `last key "regions"`) {
		t.Errorf("a bad regions line: %v", err)
	}
}

// Whatever the file's text, an error names a line and the fix, never the
// text itself where it could be a secret: pasted as a setting's name, alone
// on a line, or twice as secret_key.
func TestConfigNeverQuotesASecret(t *testing.T) {
	const secret = "ZqXvKwPmJtRbNf"
	for _, tt := range []struct{ body, want string }{
		{secret + " = 1\n", "unknown setting on line 1 (name not shown"},
		{"regions = [\"ap-guangzhou\"]\n\"" + secret + "\" = \"x\"\n", "unknown setting on line 2 (name not shown"},
		{"[tune]\nscheduler = \"WRR\"\n" + secret + " = 2\n", "unknown setting on line 3 (name not shown"},
		{"[[deploy]]\nlineage = \"a\"\n" + secret + ".x = 2\n", "unknown setting on line 3 (name not shown"},
		{"regions = [\"ap-guangzhou\"]\n" + secret + "\n", "line 2 cannot be read (not shown: it could hold a secret)"},
		{secret + " =\n", "line 1 cannot be read (not shown: it could hold a secret)"},
		{"ttl = 600 " + secret + "\n", "line 1"},
		{"secret_key = \"a\"\nsecret_key = \"" + secret + "\"\n", "line 2: secret_key is set twice (values not shown): keep one"},
		{"secret_id = \"" + secret + "\"\nsecret_id = \"AKIDx\"\n", "line 2: secret_id is set twice"},
	} {
		_, err := Load(configtest.Write(t, tt.body, 0o600), true)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.body, err, tt.want)
			continue
		}
		for i := 0; i+4 <= len(secret); i++ {
			if strings.Contains(err.Error(), secret[i:i+4]) {
				t.Fatalf("%q: the error quotes the secret: %v", tt.body, err)
			}
		}
	}
}
