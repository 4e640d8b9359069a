package simtest

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"
)

// Result is what a finished process printed, and its exit status.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs cmd to its end, collecting its output; a process that could not
// be started, or was killed by a signal, fails the test.
func Run(tb testing.TB, cmd *exec.Cmd) Result {
	tb.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return r
}
