package kubetest

import "syscall"

// SysProcAttr makes a child process die with the test binary, even if the
// test binary is killed before its cleanups run.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
