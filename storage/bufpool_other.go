//go:build !linux

package storage

// allocBuf allocates a buffer on the Go heap.
func allocBuf(size int) []byte { return make([]byte, size) }

// freeBuf leaves the buffer to the garbage collector.
func freeBuf([]byte) {}
