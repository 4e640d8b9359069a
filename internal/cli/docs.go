package cli

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/clbcert/clbcert/pkg/config"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Arguments for packagers, answered by Run before the app sees its
// arguments, so they never show in --help (install.sh uses them).
const (
	// ManPageArg prints the manual page, section 1, in roff.
	ManPageArg = "--generate-man-page"
	// CompletionArg, followed by bash or zsh, prints the shell's completion
	// script.
	CompletionArg = "--generate-completion"
)

// NoDocsTag is the build tag that leaves urfave/cli's own man-page and
// markdown writers, and go-md2man with them, out of a binary: WriteManPage
// is the one generator. Every build passes it: install.sh, scripts/demo.sh,
// scripts/test.sh (vet, test), simtest and the release script.
const NoDocsTag = "urfave_cli_no_docs"

// binaries are the programs whose pages refer to each other.
const binaries = "clbcert clbcert-deploy clbcert-dns clbcert-watch"

// WriteManPage writes the manual page (section 1) of app, built from its
// definition: NAME and SYNOPSIS from the name, usage and commands,
// DESCRIPTION from the description, every visible flag with its
// placeholder, default and environment variable, and the exit codes that
// Run maps errors to.
func WriteManPage(w io.Writer, app *cli.App) error {
	bw := bufio.NewWriter(w)
	m := &man{w: bw}
	m.page(app)
	return bw.Flush()
}

type man struct{ w *bufio.Writer }

func (m *man) line(format string, args ...any) { fmt.Fprintf(m.w, format+"\n", args...) }

func (m *man) page(app *cli.App) {
	source := strings.TrimSpace("clbcert " + app.Version)
	m.line(`.TH "%s" 1 "" "%s" "User Commands"`, quoteArg(esc(strings.ToUpper(app.Name))), quoteArg(esc(source)))
	// Names, flags and paths must not break at a hyphen or stretch.
	m.line(".nh")
	m.line(".ad l")
	m.line(".SH NAME")
	if app.Usage != "" {
		m.line(`%s \- %s`, esc(app.Name), esc(oneLine(app.Usage)))
	} else {
		m.line("%s", esc(app.Name))
	}

	commands := visibleCommands(app.Commands)
	appFlags := withHelp(app.VisibleFlags(), app.HideHelp)
	if app.Version != "" && !app.HideVersion {
		appFlags = withFlag(appFlags, cli.VersionFlag)
	}
	common := commonFlags(app, commands)

	m.line(".SH SYNOPSIS")
	switch {
	case app.UsageText != "":
		m.preformatted(strings.Split(strings.Trim(app.UsageText, "\n"), "\n"))
	case len(commands) == 0:
		m.line(".B %s", esc(app.Name))
		m.line(`[\fIOPTIONS\fR]%s`, argsUsage(app.ArgsUsage))
	default:
		global := ""
		if len(app.VisibleFlags()) > 0 {
			global = ` [\fIGLOBAL OPTIONS\fR]`
		}
		for i, c := range commands {
			if i > 0 {
				m.line(".br")
			}
			m.line(`\fB%s\fR%s \fB%s\fR [\fIOPTIONS\fR]%s`, esc(app.Name), global, esc(c.Name), argsUsage(c.ArgsUsage))
		}
	}

	m.line(".SH DESCRIPTION")
	if app.Description != "" {
		m.text(app.Description)
	} else {
		m.text(app.Usage)
	}

	if len(appFlags) > 0 || len(common) > 0 {
		m.line(".SH OPTIONS")
		if len(commands) > 0 && len(appFlags) > 0 {
			m.line(".PP")
			m.line("Before the command:")
		}
		m.flags(appFlags)
		if len(common) > 0 {
			m.line(".PP")
			m.line("After any command:")
			m.flags(common)
		}
	}

	if len(commands) > 0 {
		m.line(".SH COMMANDS")
		m.commands("", commands, common, app.HideHelp)
	}

	m.environment(app)

	if hasFlagNamed(app, flagConfig) {
		m.line(".SH FILES")
		m.line(".TP")
		m.line(".I %s", esc(config.DefaultPath))
		m.line(`the config file, optional (\fB\-\-config\fR names another); it must be mode 0600 if it holds secret_id/secret_key.`)
	}

	m.line(".SH EXIT STATUS")
	m.line(".TP")
	m.line(".B 0")
	m.line("done, or nothing to do")
	m.line(".TP")
	m.line(".B 1")
	m.line("failed: the message or report says what and why")
	m.line(".TP")
	m.line(".B 2")
	m.line("usage or configuration error: nothing was changed")

	var see []string
	for _, b := range strings.Fields(binaries) {
		if b != app.Name {
			see = append(see, fmt.Sprintf(`.BR %s (1)`, esc(b)))
		}
	}
	see = append(see, ".BR certbot (1)")
	m.line(".SH SEE ALSO")
	m.line("%s", strings.Join(see, ",\n"))
}

// commands documents commands; a nested one's heading starts with the names
// of the commands it is under (prefix).
func (m *man) commands(prefix string, commands []*cli.Command, common []cli.Flag, hideHelp bool) {
	for _, c := range commands {
		m.line(`.SS "%s"`, quoteArg(esc(prefix+strings.Join(c.Names(), ", "))))
		if c.Usage != "" {
			m.text(c.Usage)
		}
		if c.UsageText != "" {
			m.preformatted(strings.Split(strings.Trim(c.UsageText, "\n"), "\n"))
		}
		if c.Description != "" {
			m.text(c.Description)
		}
		var own []cli.Flag
		for _, f := range withHelp(c.VisibleFlags(), hideHelp || c.HideHelp) {
			if !slices.ContainsFunc(common, func(g cli.Flag) bool { return sameFlag(f, g) }) {
				own = append(own, f)
			}
		}
		if len(own) > 0 {
			m.line(".PP")
			if len(common) > 0 {
				m.line("Options besides those under OPTIONS:")
			} else {
				m.line("Options:")
			}
			m.line(".RS 4")
			m.flags(own)
			m.line(".RE")
		}
		if sub := visibleCommands(c.Subcommands); len(sub) > 0 {
			m.commands(prefix+c.Name+" ", sub, nil, hideHelp)
		}
	}
}

func (m *man) flags(flags []cli.Flag) {
	for _, f := range flags {
		placeholder, usage := flagUsage(f)
		var names []string
		for _, n := range f.Names() {
			names = append(names, `\fB`+esc(dashed(n))+`\fR`)
		}
		head := strings.Join(names, ", ")
		if placeholder != "" {
			head += ` \fI` + esc(placeholder) + `\fR`
		}
		m.line(".TP")
		m.line("%s", head)
		body := []string{lineStart(esc(usage))}
		if def := defaultText(f); def != "" {
			body = append(body, "Default: "+esc(def)+".")
		}
		if env := envVars(f); len(env) > 0 {
			var bold []string
			for _, e := range env {
				bold = append(bold, `\fB`+esc(e)+`\fR`)
			}
			body = append(body, "Environment: "+strings.Join(bold, ", ")+".")
		}
		m.line("%s", strings.Join(body, "\n.br\n"))
	}
}

// environment lists every variable a flag reads, and the credential
// variables where the app reaches the cloud.
func (m *man) environment(app *cli.App) {
	type entry struct{ name, text string }
	var entries []entry
	seen := map[string]bool{}
	walkFlags(app, func(f cli.Flag) {
		for _, e := range envVars(f) {
			if !seen[e] {
				seen[e] = true
				_, usage := flagUsage(f)
				entries = append(entries, entry{e, `sets \fB` + esc(dashed(f.Names()[0])) + `\fR, unless that is given: ` + esc(usage)})
			}
		}
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	if hasFlagNamed(app, flagEndpoint) {
		entries = append(entries,
			entry{tencent.EnvSecretID + ", " + tencent.EnvSecretKey, "the Tencent Cloud API key; without them, secret_id/secret_key in the config file, then ~/.tencentcloud/credentials, then the CVM instance role are tried"},
			entry{tencent.EnvSessionToken, "the session token that goes with a temporary key"},
		)
	}
	if len(entries) == 0 {
		return
	}
	m.line(".SH ENVIRONMENT")
	for _, e := range entries {
		m.line(".TP")
		m.line(".B %s", esc(e.name))
		m.line("%s", e.text)
	}
}

// text renders a description written the way urfave/cli prints it: lines
// after the first indented by a few spaces, paragraphs apart by blank
// lines, and examples indented further. Examples keep their lines; prose is
// left to the formatter to fill.
func (m *man) text(s string) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	base := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" && (base < 0 || indent(l) < base) {
			base = indent(l)
		}
	}
	if base < 0 {
		base = 0
	}
	var para []string
	first := true
	flush := func() {
		if len(para) == 0 {
			return
		}
		pre := false
		for i, l := range para {
			if indent(l) > base && !(first && i == 0) {
				pre = true
			}
		}
		if pre {
			m.preformatted(para)
		} else {
			m.line(".PP")
			for _, l := range para {
				m.line("%s", lineStart(esc(strings.TrimSpace(l))))
			}
		}
		para, first = nil, false
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		para = append(para, l)
	}
	flush()
}

func (m *man) preformatted(lines []string) {
	cut := -1
	for _, l := range lines {
		if strings.TrimSpace(l) != "" && (cut < 0 || indent(l) < cut) {
			cut = indent(l)
		}
	}
	m.line(".PP")
	m.line(".RS 4")
	m.line(".nf")
	for _, l := range lines {
		if len(l) >= cut {
			l = l[cut:]
		}
		m.line("%s", lineStart(esc(strings.TrimRight(l, " "))))
	}
	m.line(".fi")
	m.line(".RE")
}

func indent(l string) int { return len(l) - len(strings.TrimLeft(l, " \t")) }

// esc escapes text for roff: a backslash would start an escape, and a plain
// "-" may print as a hyphen that breaks a command copied from the page.
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return strings.ReplaceAll(s, "-", `\-`)
}

// lineStart keeps a line that begins with a control character as text.
func lineStart(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

func quoteArg(s string) string { return strings.ReplaceAll(s, `"`, `\(dq`) }

func argsUsage(s string) string {
	if s == "" {
		return ""
	}
	return " " + esc(s)
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func visibleCommands(cmds []*cli.Command) []*cli.Command {
	var out []*cli.Command
	for _, c := range cmds {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

// withHelp adds -h/--help, which urfave/cli adds only when the app runs.
func withHelp(flags []cli.Flag, hide bool) []cli.Flag {
	if hide {
		return flags
	}
	return withFlag(flags, cli.HelpFlag)
}

func withFlag(flags []cli.Flag, f cli.Flag) []cli.Flag {
	for _, g := range flags {
		if g.Names()[0] == f.Names()[0] {
			return flags
		}
	}
	return append(slices.Clip(flags), f)
}

// commonFlags are the flags every command of a multi-command app takes,
// documented once instead of under each command.
func commonFlags(app *cli.App, commands []*cli.Command) []cli.Flag {
	if len(commands) < 2 {
		return nil
	}
	var common []cli.Flag
	for _, f := range withHelp(commands[0].VisibleFlags(), app.HideHelp || commands[0].HideHelp) {
		inAll := true
		for _, c := range commands[1:] {
			inAll = inAll && slices.ContainsFunc(withHelp(c.VisibleFlags(), app.HideHelp || c.HideHelp), func(g cli.Flag) bool { return sameFlag(f, g) })
		}
		if inAll {
			common = append(common, f)
		}
	}
	return common
}

func sameFlag(a, b cli.Flag) bool {
	if !slices.Equal(a.Names(), b.Names()) {
		return false
	}
	pa, ua := flagUsage(a)
	pb, ub := flagUsage(b)
	return pa == pb && ua == ub && defaultText(a) == defaultText(b) && slices.Equal(envVars(a), envVars(b))
}

// flagUsage returns the placeholder of a flag that takes a value (the
// `quoted` word of its usage, as urfave/cli's help shows it) and the usage.
func flagUsage(f cli.Flag) (placeholder, usage string) {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return "", ""
	}
	placeholder, usage = unquoteUsage(d.GetUsage())
	if !d.TakesValue() {
		return "", oneLine(usage)
	}
	if placeholder == "" {
		placeholder = "VALUE"
	}
	return placeholder, oneLine(usage)
}

// unquoteUsage finds the placeholder the way urfave/cli's help does: the
// first `quoted` word, kept in the usage without its quotes.
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}

func defaultText(f cli.Flag) string {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok || !d.TakesValue() {
		return ""
	}
	def := d.GetDefaultText()
	if unq, err := strconv.Unquote(def); err == nil {
		def = unq
	}
	return def
}

func envVars(f cli.Flag) []string {
	if d, ok := f.(cli.DocGenerationFlag); ok {
		return d.GetEnvVars()
	}
	return nil
}

// walkFlags calls fn on every visible flag of app and its commands.
func walkFlags(app *cli.App, fn func(cli.Flag)) {
	for _, f := range app.VisibleFlags() {
		fn(f)
	}
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range visibleCommands(cmds) {
			for _, f := range c.VisibleFlags() {
				fn(f)
			}
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
}

func hasFlagNamed(app *cli.App, name string) bool {
	found := false
	walkFlags(app, func(f cli.Flag) { found = found || slices.Contains(f.Names(), name) })
	return found
}
