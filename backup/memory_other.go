//go:build !linux

package backup

// releaseStartupPages is a no-op where /proc/self/smaps does not exist.
func releaseStartupPages() {}
