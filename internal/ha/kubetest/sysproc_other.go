//go:build !linux

package kubetest

import "syscall"

// SysProcAttr has no parent-death signal to set outside Linux.
func SysProcAttr() *syscall.SysProcAttr { return nil }
