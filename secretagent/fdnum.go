package secretagent

import "syscall"

// legacySocketFD returns the descriptor number the legacy C client reports
// in "connect failed: %d, errno: %d": that of the socket it created (and
// closed) for the last address tried, i.e. the lowest descriptor the process
// did not hold. When the legacy tools ask the agent they hold only what they
// inherited, so this is the lowest descriptor that was not inherited: one
// that is closed, or one this process opened itself (the Go runtime and
// packages open everything close-on-exec, inherited descriptors are not).
// With only stdin, stdout and stderr inherited it is 3.
func legacySocketFD() int {
	for fd := 0; fd < 1<<16; fd++ {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if e != 0 || flags&syscall.FD_CLOEXEC != 0 {
			return fd
		}
	}
	return -1
}
