package stream

import (
	"crypto/aes"
	"errors"
	"fmt"
	"io"
)

// DecryptReaderAt gives random access to the plaintext of an encrypted,
// uncompressed stream (CTR mode is seekable). It is safe for concurrent use
// if the underlying io.ReaderAt is.
type DecryptReaderAt struct {
	ra   io.ReaderAt
	size int64
	key  []byte
	c0   [16]byte // counter block of plaintext offset 0
}

// NewDecryptReaderAt reads the header of the encrypted stream ra (size bytes
// in total) and returns a reader of its plaintext, which is size−16 bytes
// long. Errors: IVError if size < 16.
func NewDecryptReaderAt(ra io.ReaderAt, size int64, c Cipher, key []byte) (*DecryptReaderAt, error) {
	if c == None {
		return nil, errors.New("stream: NewDecryptReaderAt needs a cipher")
	}
	if err := (Options{Cipher: c, Key: key}).validate(); err != nil {
		return nil, err
	}
	if size < 16 {
		if size < 0 {
			size = 0
		}
		return nil, &IVError{Got: int(size)}
	}
	var hdr [16]byte
	if n, err := ra.ReadAt(hdr[:], 0); n < 16 {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, &IVError{Got: n}
		}
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var iv [16]byte
	b.Decrypt(iv[:], hdr[:])
	return &DecryptReaderAt{ra: ra, size: size - 16, key: append([]byte(nil), key...), c0: add128(iv, 1)}, nil
}

// Size returns the plaintext length.
func (d *DecryptReaderAt) Size() int64 { return d.size }

// ReadAt reads plaintext at offset off, following io.ReaderAt semantics.
func (d *DecryptReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("stream: negative offset %d", off)
	}
	if off >= d.size {
		return 0, io.EOF
	}
	want := len(p)
	if rem := d.size - off; int64(want) > rem {
		p = p[:rem]
	}
	n, err := d.ra.ReadAt(p, off+16)
	if n > 0 {
		ks, kerr := newKeystream(d.key, add128(d.c0, uint64(off/16)), int(off%16))
		if kerr != nil {
			return 0, kerr
		}
		ks.xor(p[:n])
	}
	if err == nil && n < want {
		err = io.EOF
	}
	return n, err
}
