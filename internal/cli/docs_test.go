package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// docsApp is a small app with what the real ones use: common flags on each
// command, a command of its own flags, aliases, a nested command, hidden
// things, and a description in urfave/cli's indented style with an example.
// Its actions fail the test: documentation and completion run none.
func docsApp(t *testing.T) *cli.App {
	ran := func(*cli.Context) error {
		t.Error("an action ran")
		return nil
	}
	return &cli.App{
		Name:  "clbtest",
		Usage: "try the docs",
		Description: `Run it like this:

      clbtest push --region ap-guangzhou \
          --dry-run

   It pushes what it is given and checks the result
   twice. A line may start with a dot:
   .like this one.`,
		HideHelpCommand: true,
		Commands: []*cli.Command{
			{
				Name:      "push",
				Aliases:   []string{"p"},
				Usage:     "push a certificate",
				ArgsUsage: "LINEAGE",
				Flags: append(CommonFlags(),
					&cli.StringSliceFlag{Name: "region", EnvVars: []string{"CLBTEST_REGIONS"}, Usage: "CLB `REGION` (repeatable)"},
					&cli.BoolFlag{Name: "dry-run", Usage: "change nothing"},
					&cli.DurationFlag{Name: "wait", Value: 90 * time.Second, Usage: "wait `DURATION` for tasks"},
					&cli.StringFlag{Name: "secret-mode", Hidden: true, Usage: "not for people"},
				),
				Action: ran,
			},
			{
				Name:   "pull",
				Usage:  "pull one back",
				Flags:  CommonFlags(),
				Action: ran,
				Subcommands: []*cli.Command{
					{Name: "all", Usage: "pull everything", Flags: []cli.Flag{&cli.IntFlag{Name: "limit", Value: 5, Usage: "at most `N`"}}, Action: ran},
				},
			},
			{Name: "debug-dump", Hidden: true, Flags: CommonFlags(), Action: ran},
		},
	}
}

func runApp(t *testing.T, app *cli.App, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	app.Writer = &out
	code = Run(app, append([]string{app.Name}, args...), &errOut)
	return code, out.String(), errOut.String()
}

func TestManPage(t *testing.T) {
	code, page, stderr := runApp(t, docsApp(t), ManPageArg)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		`.TH "CLBTEST" 1`,
		".SH NAME\nclbtest \\- try the docs\n",
		".SH SYNOPSIS",
		`\fBclbtest\fR \fBpush\fR [\fIOPTIONS\fR] LINEAGE`,
		".SH DESCRIPTION",
		".SH OPTIONS",
		".SH COMMANDS",
		`.SS "push, p"`,
		`.SS "pull all"`,
		".SH ENVIRONMENT",
		".SH FILES",
		".SH EXIT STATUS",
		".SH SEE ALSO",
		"\\&.like this one.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	// Every visible flag with its placeholder, and its variable.
	for _, want := range []string{
		`\fB\-\-config\fR \fIFILE\fR`, `\fB\-\-endpoint\fR \fIURL\fR`, `\fB\-\-log\-level\fR \fILEVEL\fR`,
		`\fB\-\-state\-dir\fR \fIDIR\fR`, `\fB\-\-region\fR \fIREGION\fR`, `\fB\-\-dry\-run\fR`,
		`\fB\-\-wait\fR \fIDURATION\fR`, `\fB\-\-limit\fR \fIN\fR`, `\fB\-\-help\fR, \fB\-h\fR`,
		`\fBCLBCERT_CONFIG\fR`, `\fBCLBCERT_ENDPOINT\fR`, `\fBCLBCERT_LOG_LEVEL\fR`, `\fBCLBCERT_STATE_DIR\fR`, `\fBCLBTEST_REGIONS\fR`,
		".B TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY",
		"Default: /etc/clbcert/config.toml.", "Default: 1m30s.", "Default: 5.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	for _, hidden := range []string{"secret\\-mode", "debug\\-dump", "generate"} {
		if strings.Contains(page, hidden) {
			t.Errorf("man page shows hidden %q", hidden)
		}
	}
	// The flags every command has are documented once, under OPTIONS.
	if n := strings.Count(page, `\fB\-\-config\fR \fIFILE\fR`); n != 1 {
		t.Errorf("--config documented %d times, want once", n)
	}

	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed: the page's roff is not rendered")
	}
	// -ww turns on every warning: a bad request or escape shows on stderr.
	cmd := exec.Command(groff, "-k", "-man", "-Tascii", "-ww", "-rLL=200n", "-P-cbou")
	cmd.Stdin = strings.NewReader(page)
	var text, warn bytes.Buffer
	cmd.Stdout, cmd.Stderr = &text, &warn
	if err := cmd.Run(); err != nil || warn.Len() > 0 {
		t.Fatalf("groff: %v: %s", err, warn.String())
	}
	rendered := text.String()
	for _, want := range []string{
		"clbtest - try the docs",
		"clbtest push [OPTIONS] LINEAGE",
		"\n           clbtest push --region ap-guangzhou \\\n               --dry-run\n",
		"It pushes what it is given and checks the result twice. A line may start with a dot: .like this one.",
		"--config FILE",
		"Environment: CLBCERT_CONFIG.",
		"--region REGION",
		"Environment: CLBTEST_REGIONS.",
		"clbcert(1), clbcert-deploy(1)",
	} {
		if !strings.Contains(rendered, want) {
			t.Errorf("rendered page lacks %q:\n%s", want, rendered)
		}
	}
}

func TestDocArgsStayOutOfHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"push", "--help"}} {
		code, out, _ := runApp(t, docsApp(t), args...)
		if code != 0 || !strings.Contains(out, "USAGE") {
			t.Fatalf("%v: exit %d:\n%s", args, code, out)
		}
		if strings.Contains(out, "generate") {
			t.Errorf("%v shows the packagers' arguments:\n%s", args, out)
		}
	}
}

func TestDocArgsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{ManPageArg, "extra"},
		{CompletionArg},
		{CompletionArg, "fish"},
		{CompletionArg, "bash", "zsh"},
	} {
		code, out, stderr := runApp(t, docsApp(t), args...)
		if code != 2 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "clbtest: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and one line on stderr", args, code, out, stderr)
		}
	}
}

func TestCompletions(t *testing.T) {
	for _, tc := range []struct {
		words []string // after the program's name; the last is under the cursor
		want  []string
	}{
		{[]string{""}, []string{"push", "p", "pull"}},
		{[]string{"pu"}, []string{"push", "pull"}},
		{[]string{"push"}, []string{"push"}},
		{[]string{"--"}, []string{"--help"}},
		{[]string{"push", "--re"}, []string{"--region"}},
		{[]string{"p", "--d"}, []string{"--dry-run"}},
		{[]string{"push", "--dry-run", "--d"}, nil},                       // once is enough
		{[]string{"push", "--region", "x", "--re"}, []string{"--region"}}, // repeatable
		{[]string{"push", "--config", ""}, nil},                           // a value: file names
		{[]string{"push", "--config=/x", ""}, nil},
		{[]string{"push", "--config=/x", "--con"}, nil},
		{[]string{"push", "--wait", "5s", "--"}, []string{"--config", "--endpoint", "--site", "--log-level", "--state-dir", "--region", "--dry-run", "--help"}},
		{[]string{"push", "--secret"}, nil}, // hidden
		{[]string{"debug"}, nil},            // hidden
		{[]string{"pull", ""}, []string{"all"}},
		{[]string{"pull", "all", "--l"}, []string{"--limit"}},
		{[]string{"push", "lineage", ""}, nil},
		{[]string{"push", "--", ""}, nil},
		{nil, []string{"push", "p", "pull"}},
	} {
		args := append(slices.Clone(tc.words), completeArg)
		code, out, stderr := runApp(t, docsApp(t), args...)
		got := strings.Fields(out)
		if code != 0 || stderr != "" || !slices.Equal(got, tc.want) {
			t.Errorf("complete %q: exit %d, stderr %q, got %q, want %q", tc.words, code, stderr, got, tc.want)
		}
	}
}

// TestCompletionScripts checks both scripts with their shell's parser, and
// runs the bash one with a shell function standing in for the program: it
// must send the words before the cursor, the word under it and the request,
// and offer what comes back that fits the word under the cursor.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			code, script, stderr := runApp(t, docsApp(t), CompletionArg, shell)
			if code != 0 || stderr != "" || !strings.Contains(script, "clbtest") {
				t.Fatalf("exit %d, stderr %q:\n%s", code, stderr, script)
			}
			sh, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("%s not installed: its script is not checked", shell)
			}
			path := filepath.Join(t.TempDir(), "script")
			if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(sh, "-n", path).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", shell, err, out)
			}
			if shell != "bash" {
				return
			}
			out, err := exec.Command(sh, "-c", `
source "$1"
args=$2
clbtest() { printf '%s\n' "$@" >"$args"; printf 'push\np\npull\n'; }
COMP_WORDS=(clbtest --config "a b" pu)
COMP_CWORD=3
_clbtest
printf '%s\n' "${COMPREPLY[@]}"
`, "bash", path, filepath.Join(t.TempDir(), "args")).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if got := strings.Fields(string(out)); !slices.Equal(got, []string{"push", "pull"}) {
				t.Errorf("COMPREPLY = %q, want push pull", got)
			}
		})
	}
}

// TestCompletionProtocol checks that what the bash script sends is what Run
// answers: the words, in order, with the word under the cursor last.
func TestCompletionProtocol(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	var script bytes.Buffer
	if err := WriteCompletion(&script, "clbtest", "bash"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, argsFile := filepath.Join(dir, "script"), filepath.Join(dir, "args")
	if err := os.WriteFile(path, script.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, line := range [][]string{
		{"clbtest", ""},
		{"clbtest", "push", "--re"},
		{"clbtest", "push", "--config", ""},
	} {
		cmd := exec.Command(bash, "-c", `
source "$1"; shift
out=$1; shift
clbtest() { printf '%s\n' "$@" >"$out"; }
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
_clbtest
`, "bash", path, argsFile)
		cmd.Args = append(cmd.Args, line...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		sent, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(string(sent), "\n"), "\n")
		want := append(slices.Clone(line[1:]), completeArg)
		if !slices.Equal(got, want) {
			t.Errorf("line %q: the script sent %q, want %q", line, got, want)
		}
		code, _, stderr := runApp(t, docsApp(t), got...)
		if code != 0 || stderr != "" {
			t.Errorf("line %q: Run answered exit %d, %q", line, code, stderr)
		}
	}
}

func TestCompletionScriptNames(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCompletion(&b, "x; rm -rf /", "bash"); err == nil {
		t.Fatal("a name with shell syntax was accepted")
	}
	b.Reset()
	if err := WriteCompletion(&b, "clbcert-deploy", "zsh"); err != nil {
		t.Fatal(err)
	}
	// zsh autoloads the file _clbcert-deploy as the function of that name.
	if !regexp.MustCompile(`(?m)^#compdef clbcert-deploy$`).Match(b.Bytes()) || !strings.Contains(b.String(), "\n_clbcert-deploy() {") {
		t.Errorf("zsh script:\n%s", b.String())
	}
}

// An unknown command is a usage error (exit 2) naming it; no command at all
// shows the help.
func TestUnknownCommand(t *testing.T) {
	code, _, stderr := runApp(t, docsApp(t), "frobnicate")
	if code != 2 || stderr != "clbtest: unknown command \"frobnicate\": run clbtest --help for the commands\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runApp(t, docsApp(t))
	if code != 0 || !strings.Contains(stdout, "push a certificate") || stderr != "" {
		t.Fatalf("no command: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
