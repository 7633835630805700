//go:build linux

package storage

import "syscall"

// allocBuf maps size bytes of anonymous memory (pages are allocated, zeroed
// by the kernel, when first touched).
func allocBuf(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, size)
	}
	return b
}

// freeBuf unmaps a buffer of allocBuf.
func freeBuf(b []byte) {
	_ = syscall.Munmap(b[:cap(b)])
}
