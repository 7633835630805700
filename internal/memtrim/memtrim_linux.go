//go:build linux

// Package memtrim releases the resident pages of the process's read-only
// file mappings (asbackup calls it once start-up is over and then
// periodically, to keep its peak RSS low).
package memtrim

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Release drops the page mappings of the read-only, file-backed
// regions of the process (program text, read-only data, shared libraries).
// Start-up touches most of them once (package initialisation of the client
// and its dependencies, TLS and option parsing); the kernel maps 64 KiB
// around every fault, so they stay resident although the record path uses
// a small part. After the call only the pages used again are mapped back in
// from the page cache. Writable mappings are never touched: their private
// copies would be lost.
func Release() {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }() // read-only
	var regions []region
	var cur region
	candidate := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if rng, ok := mappingRange(fields); ok {
			// address perms offset dev inode path
			cur, candidate = rng, len(fields) >= 6 && fields[4] != "0" &&
				strings.HasPrefix(fields[5], "/") && (fields[1] == "r-xp" || fields[1] == "r--p")
			continue
		}
		// A read-only mapping with anonymous pages holds private copies
		// (relocated data made read-only afterwards): leave it alone.
		if candidate && fields[0] == "Anonymous:" {
			if len(fields) >= 2 && fields[1] == "0" {
				regions = append(regions, cur)
			}
			candidate = false
		}
	}
	if sc.Err() != nil {
		return
	}
	for _, r := range regions {
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, r.start, r.end-r.start, syscall.MADV_DONTNEED)
	}
}

// region is an address range of the process.
type region struct{ start, end uintptr }

// mappingRange parses the address range of a smaps mapping header line.
func mappingRange(fields []string) (region, bool) {
	var r region
	if len(fields) < 5 || strings.HasSuffix(fields[0], ":") {
		return r, false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return r, false
	}
	a, err1 := strconv.ParseUint(lo, 16, 64)
	b, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || b <= a {
		return r, false
	}
	r.start, r.end = uintptr(a), uintptr(b)
	return r, true
}
