package main

import (
	"context"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// Every example in a command's help runs as written: the commands refuse
// options after their arguments (flagsFirst), so no example puts one there.
func TestHelpExamplesPutOptionsFirst(t *testing.T) {
	for _, cmd := range commands(context.Background()) {
		bools := map[string]bool{"help": true, "h": true}
		for _, f := range cmd.Flags {
			if bf, ok := f.(*cli.BoolFlag); ok {
				for _, n := range bf.Names() {
					bools[n] = true
				}
			}
		}
		text := strings.ReplaceAll(cmd.Description, "\\\n", " ")
		examples := 0
		for _, line := range strings.Split(text, "\n") {
			line, _, _ = strings.Cut(line, "#")
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "clbcert" || f[1] != cmd.Name {
				continue
			}
			examples++
			arg := ""
			for i := 2; i < len(f); i++ {
				tok := f[i]
				if !strings.HasPrefix(tok, "-") {
					arg = tok
					continue
				}
				if arg != "" {
					t.Errorf("clbcert %s --help: %q has %s after the argument %s, which the command refuses", cmd.Name, strings.Join(f, " "), tok, arg)
				}
				if name := strings.TrimLeft(tok, "-"); !strings.Contains(name, "=") && !bools[name] {
					i++ // the option's value
				}
			}
		}
		if examples == 0 && cmd.Name == "tune" {
			t.Errorf("no example found in clbcert tune --help")
		}
	}
}
