//go:build !linux

package memtrim

// Release is a no-op where /proc/self/smaps does not exist.
func Release() {}
