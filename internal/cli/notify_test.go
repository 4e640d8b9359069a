package cli

import (
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/pkg/notify"
)

func TestNotifyEntriesAndFlag(t *testing.T) {
	const entries = `[[notify]]
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-123"

[[notify]]
url = "https://oapi.dingtalk.com/robot/send?access_token=ding-token-456"
secret = "SECding-secret-789"
on = "all"

[[notify]]
url = "https://alerts.example.com/in"
kind = "slack"
`
	file := configtest.Write(t, entries, 0o600)
	var got *Settings
	app := &cli.App{Name: "x", Flags: append(CommonFlags(), NotifyFlag()), Action: func(c *cli.Context) error {
		var err error
		got, err = Resolve(c, io.Discard)
		return err
	}}
	if err := app.Run([]string{"x", "--config", file, "--notify", "https://hooks.slack.com/services/a/b/c", "--notify", "feishu+https://chat.example.com/hook/x"}); err != nil {
		t.Fatal(err)
	}
	want := []notify.Endpoint{
		{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-123", Kind: notify.WeCom},
		{URL: "https://oapi.dingtalk.com/robot/send?access_token=ding-token-456", Kind: notify.DingTalk, Secret: "SECding-secret-789", All: true},
		{URL: "https://alerts.example.com/in", Kind: notify.Slack},
		{URL: "https://hooks.slack.com/services/a/b/c", Kind: notify.Slack},
		{URL: "https://chat.example.com/hook/x", Kind: notify.Feishu},
	}
	if !slices.Equal(got.Notify, want) {
		t.Errorf("endpoints\n%+v\nwant\n%+v", got.Notify, want)
	}

	for _, tt := range []struct {
		body string
		mode os.FileMode
		says string
	}{
		{entries, 0o644, "readable by others"},
		{"[[notify]]\nurl = \"https://x.example/in\"\non = \"sometimes\"\n", 0o600, `on = "sometimes"`},
		{"[[notify]]\nurl = \"https://x.example/in\"\nkind = \"teams\"\n", 0o600, `kind "teams"`},
		{"[[notify]]\nurl = \"https://hooks.slack.com/services/a\"\nsecret = \"SECxyz12345\"\n", 0o600, "a secret is for kind dingtalk or feishu"},
		{"[[notify]]\nurl = \"ftp://x.example/in?token=tok-abcdef\"\n", 0o600, "not an http(s) URL"},
		{"[[notify]]\nurl = \"https://x.example/in\"\nsecret = SECunquoted-9876\n", 0o600, "not shown: it is secret"},
	} {
		// clbcert-dns has no --notify, yet a bad entry is refused there too.
		_, err := resolve(t, map[string]string{"CLBCERT_CONFIG": configtest.Write(t, tt.body, tt.mode)})
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%q: %v, want it to say %q", tt.body, err, tt.says)
			continue
		}
		for _, s := range []string{"tok-abcdef", "SECunquoted-9876", "SECding-secret-789", "wecom-key-123", "SECxyz12345"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error quotes a secret: %v", err)
			}
		}
	}
	app = &cli.App{Name: "x", Flags: append(CommonFlags(), NotifyFlag()), Action: func(c *cli.Context) error {
		_, err := Resolve(c, io.Discard)
		return err
	}}
	if err := app.Run([]string{"x", "--config", configtest.Write(t, "", 0o600), "--notify", "mailto:ops@example.com"}); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--notify") {
		t.Errorf("--notify mailto: %v", err)
	}
}
