package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"time"
)

// add128 returns the 128-bit big-endian integer c plus v (mod 2^128).
func add128(c [16]byte, v uint64) [16]byte {
	hi := binary.BigEndian.Uint64(c[:8])
	lo := binary.BigEndian.Uint64(c[8:])
	nlo := lo + v
	if nlo < lo {
		hi++
	}
	binary.BigEndian.PutUint64(c[:8], hi)
	binary.BigEndian.PutUint64(c[8:], nlo)
	return c
}

// sub128 returns c minus v (mod 2^128).
func sub128(c [16]byte, v uint64) [16]byte {
	hi := binary.BigEndian.Uint64(c[:8])
	lo := binary.BigEndian.Uint64(c[8:])
	if v > lo {
		hi--
	}
	binary.BigEndian.PutUint64(c[:8], hi)
	binary.BigEndian.PutUint64(c[8:], lo-v)
	return c
}

// newIV returns a legacy-style IV: Unix time (big-endian uint32) followed by
// 12 random bytes.
func newIV() ([16]byte, error) {
	var iv [16]byte
	binary.BigEndian.PutUint32(iv[:4], uint32(time.Now().Unix()))
	_, err := rand.Read(iv[4:])
	return iv, err
}

// keystream is an AES-CTR keystream positioned at counter block ctr, byte off
// (0–15) of that block.
type keystream struct {
	block  cipher.Block
	ctr    [16]byte
	off    int
	stream cipher.Stream
}

func newKeystream(key []byte, ctr [16]byte, off int) (*keystream, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	k := &keystream{block: b}
	k.seek(ctr, off)
	return k, nil
}

func (k *keystream) seek(ctr [16]byte, off int) {
	k.ctr, k.off = ctr, off
	k.stream = cipher.NewCTR(k.block, ctr[:])
	if off > 0 {
		var skip [16]byte
		k.stream.XORKeyStream(skip[:off], skip[:off])
	}
}

// xor encrypts/decrypts p in place and advances the position.
func (k *keystream) xor(p []byte) {
	k.stream.XORKeyStream(p, p)
	total := uint64(k.off) + uint64(len(p))
	k.ctr = add128(k.ctr, total/16)
	k.off = int(total % 16)
}

// legacy returns the position in the form the legacy .state stores it:
// iv = (next counter block to encrypt) − 1, num = offset inside the current
// block.
func (k *keystream) legacy() (iv [16]byte, num uint32) {
	if k.off == 0 {
		return sub128(k.ctr, 1), 0
	}
	return k.ctr, uint32(k.off)
}

// fromLegacy converts a legacy (iv, num) pair to the counter block holding the
// next keystream byte and the offset inside it.
func fromLegacy(iv [16]byte, num uint32) ([16]byte, int) {
	if num == 0 {
		return add128(iv, 1), 0
	}
	return iv, int(num)
}
