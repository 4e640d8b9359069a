//go:build !linux

package acmetest

import (
	"os/exec"
	"syscall"
)

// Outside Linux the package still builds, but only the started process itself is killed:
// process groups and parent-death signals are Linux features here, and certbot and pebble are
// only packaged for tests on Linux.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func waitSweep(cmd *exec.Cmd) error { return cmd.Wait() }
