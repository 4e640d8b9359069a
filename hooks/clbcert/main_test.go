package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/internal/simtest"
)

var bins simtest.Binaries

func TestMain(m *testing.M) { bins.Main(m) }

func clbcert(t *testing.T) string {
	return filepath.Join(bins.Dir(t), "clbcert")
}

// clbcert sim runs clbcert-sim beside it, passing on the arguments and the
// exit status; without clbcert-sim it says how to get it.
func TestSimRunsTheSimulator(t *testing.T) {
	r := simtest.Run(t, exec.Command(clbcert(t), "sim", "--fault-rate", "1.5"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "--fault-rate 1.5: give a fraction") {
		t.Fatalf("clbcert sim --fault-rate 1.5: exit %d, stderr %q", r.Code, r.Stderr)
	}

	alone := filepath.Join(t.TempDir(), "clbcert")
	data, err := os.ReadFile(clbcert(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(alone, "sim")
	cmd.Env = []string{"PATH=" + t.TempDir()}
	r = simtest.Run(t, cmd)
	if r.Code != 2 || !strings.Contains(r.Stderr, "go build ./hooks/clbcert-sim") || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("clbcert sim without clbcert-sim: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
