//go:build !unix

package emulator

import (
	"errors"
	"os"
	"os/exec"
)

// setProcessGroup is a no-op where process groups are not available.
func setProcessGroup(*exec.Cmd) {}

// terminate kills the process: there is no portable SIGTERM.
func terminate(cmd *exec.Cmd) error {
	return kill(cmd)
}

// kill kills the process; one that has already exited is not an error.
func kill(cmd *exec.Cmd) error {
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
