// Package stream implements the legacy backup file byte stream: ASB text,
// optionally zstd-compressed, optionally AES-CTR-encrypted, exactly as the
// legacy backup tools write and read it.
//
// Layering (writer): text → zstd (if enabled) → AES-CTR (if enabled) → file.
// An encrypted stream starts with a 16-byte header H = AES-ECB(key, V) where
// V is the IV; the payload is AES-CTR with initial counter block V+1
// (128-bit big-endian increment) and a keystream that is continuous over the
// whole file, across zstd frames and across resumed runs.
//
// Compression produces standard zstd frames (no checksum, no dictionary). A
// frame is ended at every Flush and additionally every FrameSize bytes of
// text, so that a writer's memory stays bounded: each frame is compressed by
// an encoder borrowed from a process-wide pool (at most one encoder per CPU)
// for the time of that frame only, so writers compress in parallel while the
// encoders' memory does not grow with the number of open files; a writer
// holds its FrameSize text buffer and the frame it is writing out. Readers
// decode any concatenation of
// frames, so files are interchangeable with the legacy tools in both
// directions.
package stream

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Cipher is the encryption mode of a stream.
type Cipher int

// Encryption modes.
const (
	// None disables encryption.
	None Cipher = iota
	// AES128 is AES-128-CTR (`-y aes128`).
	AES128
	// AES256 is AES-256-CTR (`-y aes256`).
	AES256
)

// KeySize returns the AES key length in bytes (0 for None).
func (c Cipher) KeySize() int {
	switch c {
	case AES128:
		return 16
	case AES256:
		return 32
	}
	return 0
}

// String returns the legacy command-line name of the mode.
func (c Cipher) String() string {
	switch c {
	case AES128:
		return "aes128"
	case AES256:
		return "aes256"
	case None:
		return "none"
	}
	return fmt.Sprintf("Cipher(%d)", int(c))
}

// ParseCipher maps the legacy `--encrypt` names ("aes128", "aes256", exact
// lower case) to a Cipher.
func ParseCipher(name string) (Cipher, bool) {
	switch name {
	case "aes128":
		return AES128, true
	case "aes256":
		return AES256, true
	}
	return None, false
}

// Legacy io-proxy flag bits, as stored in the .state file.
const (
	FlagAES128 uint8 = 0x01
	FlagAES256 uint8 = 0x02
	FlagZstd   uint8 = 0x04
	// FlagsMask selects the bits that describe the stream mode.
	FlagsMask uint8 = 0x07
)

// Options configure a Writer or Reader. Both sides must use the same
// Compress and Cipher settings; nothing in a file announces them.
type Options struct {
	// Compress enables zstd.
	Compress bool
	// Level is the legacy --compression-level (libzstd scale; 0 = default 3).
	// See EncoderLevel for how it maps onto the encoder.
	Level int
	// Cipher selects encryption.
	Cipher Cipher
	// Key is the derived AES key (DeriveKey), Cipher.KeySize() bytes.
	Key []byte
	// IV is the writer's IV; nil picks one (4 bytes of Unix time, big-endian,
	// then 12 random bytes, as legacy does). Ignored by readers.
	IV *[16]byte
}

// LegacyFlags returns the io-proxy flag bits (FlagAES128, FlagAES256,
// FlagZstd) describing o, as stored in a .state file entry.
func (o Options) LegacyFlags() uint8 {
	var f uint8
	switch o.Cipher {
	case AES128:
		f |= FlagAES128
	case AES256:
		f |= FlagAES256
	}
	if o.Compress {
		f |= FlagZstd
	}
	return f
}

func (o Options) validate() error {
	switch o.Cipher {
	case None:
	case AES128, AES256:
		if len(o.Key) != o.Cipher.KeySize() {
			return fmt.Errorf("stream: %s needs a %d-byte key, got %d bytes", o.Cipher, o.Cipher.KeySize(), len(o.Key))
		}
	default:
		return fmt.Errorf("stream: unknown cipher %d", int(o.Cipher))
	}
	if o.Compress {
		return CheckLevel(o.Level)
	}
	return nil
}

// Compression level bounds of libzstd, as reported by legacy.
const (
	MinLevel = -131072
	MaxLevel = 22
)

// CheckLevel validates a --compression-level value against libzstd's bounds,
// with the legacy message
// `Compression level %d is outside zstd compression level bounds (%d - %d)`.
func CheckLevel(level int) error {
	if level < MinLevel || level > MaxLevel {
		return fmt.Errorf("Compression level %d is outside zstd compression level bounds (%d - %d)", level, MinLevel, MaxLevel)
	}
	return nil
}

// EncoderLevel maps a legacy --compression-level to the encoder level used:
//
//	level ≤ 2 (incl. negative "fast" levels)  → SpeedFastest
//	0 (default, = libzstd 3), 3 … 5           → SpeedDefault
//	6 … 22                                    → SpeedBetterCompression
//
// This is the nearest-ratio mapping of zstd.EncoderLevelFromZstd except that
// levels 10 and above use SpeedBetterCompression rather than
// SpeedBestCompression: the latter needs about 34 MiB of match tables per
// encoder, which does not fit the tools' memory budget.
func EncoderLevel(level int) zstd.EncoderLevel {
	switch {
	case level == 0:
		return zstd.SpeedDefault
	case level < 3:
		return zstd.SpeedFastest
	case level < 6:
		return zstd.SpeedDefault
	default:
		return zstd.SpeedBetterCompression
	}
}

// FrameSize is the maximum amount of text compressed into one zstd frame,
// and the text buffer a compressing writer holds: 32 KiB. Every open file of
// a backup holds one, so it is kept small; compared with libzstd's 128 KiB
// streaming input size the output grows by about 3% on typical backup text.
const FrameSize = 32 << 10

// plainBufSize is the text buffer of a non-compressing writer (legacy: 4 KiB).
const plainBufSize = 4096

// encoderPool holds the zstd encoders of one encoder level. A writer takes
// an encoder only while it compresses one frame (EncodeAll) and puts it back
// before the frame is encrypted and written, so encoders are not tied to
// files: a backup with many open files needs no more of them than there are
// frames being compressed at the same moment. Encoders are created on
// demand, up to one per CPU the Go runtime uses (GOMAXPROCS), so compression
// runs on every core while the memory (0.3 to 4 MiB of match tables per
// encoder, depending on the level) is bounded by the number of CPUs, not by
// the number of files.
type encoderPool struct {
	level zstd.EncoderLevel
	mu    sync.Mutex
	cond  sync.Cond
	idle  []*zstd.Encoder
	made  int
	limit int
}

var (
	poolMu sync.Mutex
	pools  = map[zstd.EncoderLevel]*encoderPool{}
)

// sharedEncoders returns the process-wide encoder pool of a level.
func sharedEncoders(level zstd.EncoderLevel) *encoderPool {
	poolMu.Lock()
	defer poolMu.Unlock()
	p, ok := pools[level]
	if !ok {
		p = &encoderPool{level: level, limit: max(1, runtime.GOMAXPROCS(0))}
		p.cond.L = &p.mu
		pools[level] = p
	}
	return p
}

// get returns an idle encoder, a new one while fewer than limit exist, or
// waits for one to be put back.
func (p *encoderPool) get() (*zstd.Encoder, error) {
	p.mu.Lock()
	for len(p.idle) == 0 && p.made >= p.limit {
		p.cond.Wait()
	}
	if n := len(p.idle); n > 0 {
		e := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return e, nil
	}
	p.made++
	p.mu.Unlock()
	e, err := newFrameEncoder(p.level)
	if err != nil {
		p.mu.Lock()
		p.made--
		p.cond.Signal()
		p.mu.Unlock()
		return nil, err
	}
	return e, nil
}

func (p *encoderPool) put(e *zstd.Encoder) {
	p.mu.Lock()
	p.idle = append(p.idle, e)
	p.cond.Signal()
	p.mu.Unlock()
}

// compress appends one zstd frame holding src to dst.
func (p *encoderPool) compress(src, dst []byte) ([]byte, error) {
	e, err := p.get()
	if err != nil {
		return dst, err
	}
	dst = e.EncodeAll(src, dst)
	p.put(e)
	return dst, nil
}

func newFrameEncoder(level zstd.EncoderLevel) (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithLowerEncoderMem(true),
		zstd.WithWindowSize(FrameSize),
		zstd.WithZeroFrames(true),
	)
}
