package cli

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/urfave/cli/v2"
)

// completeArg is the last argument of a completion request, as in
// urfave/cli's own scripts. The scripts of WriteCompletion send every word
// before the cursor and the word under it (empty at a fresh word) ahead of
// it, so that "--region" then TAB completes the flag and "--region " then
// TAB its value.
//
// Run answers the request itself rather than through urfave/cli's
// EnableBashCompletion: that runs the command's action, with the request as
// an argument, whenever "--" is among the words (as it is while completing
// "--"), and its default completer reads os.Args, not the arguments given.
const completeArg = "--generate-bash-completion"

// completing reports whether args are a completion request.
func completing(args []string) bool {
	return len(args) > 1 && args[len(args)-1] == completeArg
}

// writeCompletions answers a completion request, one word a line.
func writeCompletions(w io.Writer, app *cli.App, args []string) error {
	bw := bufio.NewWriter(w)
	for _, word := range completions(app, args[1:len(args)-1]) {
		fmt.Fprintln(bw, word)
	}
	return bw.Flush()
}

// completions returns the words that can stand at the cursor. typed holds
// the words after the program's name: the complete ones, then the one
// under the cursor. None means the shell's default (file names) applies.
func completions(app *cli.App, typed []string) []string {
	cur := ""
	if len(typed) > 0 {
		cur, typed = typed[len(typed)-1], typed[:len(typed)-1]
	}
	flags := withHelp(app.VisibleFlags(), app.HideHelp)
	commands := visibleCommands(app.Commands)
	if !app.HideHelp && !app.HideHelpCommand && findCommand(commands, "help") == nil {
		commands = append(commands, &cli.Command{Name: "help", Aliases: []string{"h"}})
	}
	used := map[string]bool{}
	valueDue := false
	for _, w := range typed {
		switch {
		case valueDue:
			valueDue = false
		case w == "--":
			return nil // only arguments follow
		case strings.HasPrefix(w, "-") && w != "-":
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if f := findFlag(flags, name); f != nil {
				used[f.Names()[0]] = true
				valueDue = takesValue(f) && !hasValue
			}
		default:
			c := findCommand(commands, w)
			if c == nil {
				// An argument: urfave/cli looks for no command after one.
				commands = nil
				continue
			}
			flags = withHelp(c.VisibleFlags(), app.HideHelp || c.HideHelp)
			commands = visibleCommands(c.Subcommands)
			used = map[string]bool{}
		}
	}
	if valueDue {
		return nil
	}
	var out []string
	if strings.HasPrefix(cur, "-") {
		if strings.Contains(cur, "=") {
			return nil
		}
		for _, f := range flags {
			if used[f.Names()[0]] && !repeatable(f) {
				continue
			}
			for _, n := range f.Names() {
				if d := dashed(n); strings.HasPrefix(d, cur) {
					out = append(out, d)
				}
			}
		}
		return out
	}
	for _, c := range commands {
		for _, n := range c.Names() {
			if strings.HasPrefix(n, cur) {
				out = append(out, n)
			}
		}
	}
	return out
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if slices.Contains(c.Names(), name) {
			return c
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

func repeatable(f cli.Flag) bool {
	s, ok := f.(cli.DocGenerationSliceFlag)
	return ok && s.IsSliceFlag()
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// WriteCompletion writes the completion script of the program name for
// shell, bash or zsh. The script asks the program for the words at the
// cursor, so it stays right as commands and flags change.
func WriteCompletion(w io.Writer, name, shell string) error {
	if !safeName.MatchString(name) {
		return fmt.Errorf("program name %q: a completion script needs a name of letters, digits, '.', '_' and '-'", name)
	}
	var t *template.Template
	switch shell {
	case "bash":
		t = bashCompletion
	case "zsh":
		t = zshCompletion
	default:
		return Usagef("%s %q: give bash or zsh", CompletionArg, shell)
	}
	fn := "_" + name
	if shell == "bash" {
		fn = "_" + strings.NewReplacer("-", "_", ".", "_").Replace(name)
	}
	// zsh autoloads the file _NAME as the function _NAME, which must then
	// complete at once: the script's function has that name.
	return t.Execute(w, struct{ Name, Func, Arg string }{Name: name, Func: fn, Arg: completeArg})
}

// The word under the cursor is always sent, even empty: "--region" then
// TAB completes the flag, "--region " then TAB its value.
var bashCompletion = template.Must(template.New("bash").Parse(`# bash completion for {{.Name}}                        -*- shell-script -*-
# Written by "{{.Name}} --generate-completion bash". It asks {{.Name}}
# itself for the words that fit, so it follows new commands and flags.

{{.Func}}() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	local prog=${words[0]/#\~/$HOME}
	local IFS=$'\n'
	local found
	found=$("$prog" "${words[@]:1:cword-1}" "$cur" {{.Arg}} 2>/dev/null) || return
	COMPREPLY=($(compgen -W "$found" -- "$cur"))
	return 0
}
complete -o bashdefault -o default -F {{.Func}} {{.Name}}
`))

var zshCompletion = template.Must(template.New("zsh").Parse(`#compdef {{.Name}}
# zsh completion for {{.Name}}. Written by "{{.Name}} --generate-completion zsh".
# It asks {{.Name}} itself for the words that fit, so it follows new commands
# and flags.

{{.Func}}() {
	local prog=${(Q)words[1]}
	prog=${prog/#\~/$HOME}
	local -a found
	found=("${(@f)$("$prog" "${(@Q)words[2,CURRENT-1]}" "${(Q)words[CURRENT]}" {{.Arg}} 2>/dev/null)}")
	if [[ -n ${found[1]} ]]; then
		compadd -a found
	else
		_files
	fi
}

if [[ ${funcstack[1]} == {{.Func}} ]]; then
	{{.Func}} "$@"
else
	compdef {{.Func}} {{.Name}}
fi
`))
