//go:build linux

package acmetest

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in a process group of its own, so killGroup also reaches the
// hooks certbot spawns, and has the kernel kill the child if the test binary dies: a `go test`
// that times out panics and exits without running any cleanup. (The signal really follows the
// forking OS thread, which the Go runtime only ends for a goroutine that exits while locked to
// it; nothing here locks threads.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills cmd's whole process group. It is cmd.Cancel, so it must report an already
// finished group as os.ErrProcessDone for Wait to return the real exit status.
func killGroup(cmd *exec.Cmd) error {
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// waitSweep waits for cmd, first killing whatever its process group still holds (a hook that
// left a background process behind). It waits for the leader to exit without reaping it: the
// zombie keeps the group id from being reused, so the kill cannot reach an unrelated process.
func waitSweep(cmd *exec.Cmd) error {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	for errors.Is(err, unix.EINTR) {
		err = unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	}
	if err == nil {
		// Best effort: the group may hold nothing but the zombie leader, and Wait below reports
		// what matters, the leader's exit status.
		_ = killGroup(cmd)
	}
	return cmd.Wait()
}
