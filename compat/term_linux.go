//go:build linux

package compat

import (
	"os"
	"syscall"
	"unsafe"
)

// TerminalPrompt is the legacy getpass: the prompt is written to the
// controlling terminal and a line is read from it with echo off. Without a
// terminal (e.g. in tests or pipelines) the prompt goes to stderr and the
// line is read from stdin, like glibc's getpass.
func TerminalPrompt(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return ReadPasswordLine(prompt, os.Stdin, os.Stderr)
	}
	// The terminal is only used for the prompt; closing it cannot lose
	// anything the caller needs.
	defer func() { _ = tty.Close() }()
	fd := tty.Fd()
	var old syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&old))); e != 0 {
		return ReadPasswordLine(prompt, tty, tty)
	}
	noEcho := old
	noEcho.Lflag &^= syscall.ECHO | syscall.ECHOE | syscall.ECHOK | syscall.ECHONL
	_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&noEcho)))
	defer func() {
		_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&old)))
		_, _ = tty.WriteString("\n")
	}()
	return ReadPasswordLine(prompt, tty, tty)
}
