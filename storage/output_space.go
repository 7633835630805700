package storage

import (
	"path/filepath"
	"syscall"
)

// DiskSpace returns the bytes available to an unprivileged user on the file
// system holding dir (legacy disk_space_remaining: f_bavail × f_bsize), or 0
// when it cannot be determined.
func DiskSpace(dir string) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return uint64(st.Bavail) * uint64(st.Bsize)
}

// FileSpaceWarning returns the legacy warning printed when a backup file is
// created on a file system with less free space than expected for it, or ""
// when there is enough.
func FileSpaceWarning(path string, expected uint64) string {
	if path == "-" || expected == 0 || IsS3Path(path) {
		return ""
	}
	if free := DiskSpace(filepath.Dir(path)); free < expected {
		return "Warning: " + utoa(free) + " bytes of disk space remaining, but expected file size is " + utoa(expected) + " bytes"
	}
	return ""
}

func utoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
