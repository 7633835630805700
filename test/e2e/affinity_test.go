package e2e

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"unsafe"
)

// cpuMask is a CPU set for sched_setaffinity (up to 1024 CPUs).
type cpuMask [16]uint64

func maskOf(cpus []int) cpuMask {
	var m cpuMask
	for _, c := range cpus {
		m[c/64] |= 1 << (c % 64)
	}
	return m
}

func setAffinity(tid int, m *cpuMask) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if e != 0 {
		return e
	}
	return nil
}

func getAffinity(tid int) (cpuMask, error) {
	var m cpuMask
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if e != 0 {
		return m, e
	}
	return m, nil
}

// pinProcess runs every thread of process pid on the given CPUs (threads
// it starts later inherit that from their creator, and so do the processes
// it starts) and returns the function that gives all its threads back the
// CPUs the process had.
func pinProcess(tb testing.TB, pid int, cpus ...int) (restore func()) {
	tb.Helper()
	orig, err := getAffinity(pid)
	if err != nil {
		tb.Fatalf("sched_getaffinity %d: %v", pid, err)
	}
	apply := func(m cpuMask) error {
		tids, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			return err
		}
		for _, d := range tids {
			tid, err := strconv.Atoi(d.Name())
			if err != nil {
				continue
			}
			// A thread that ended meanwhile is no error.
			if err := setAffinity(tid, &m); err != nil && err != syscall.ESRCH {
				return err
			}
		}
		return nil
	}
	if err := apply(maskOf(cpus)); err != nil {
		tb.Fatalf("pinning process %d to CPUs %v: %v", pid, cpus, err)
	}
	return func() {
		if err := apply(orig); err != nil {
			tb.Errorf("unpinning process %d: %v", pid, err)
		}
	}
}
