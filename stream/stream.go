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
// text, so that a writer's memory stays bounded: frames are compressed one at
// a time by a process-wide encoder (one per level) shared by all writers and
// written straight to the writer's output, and each writer only holds its
// FrameSize text buffer. Readers decode any concatenation of
// frames, so files are interchangeable with the legacy tools in both
// directions.
package stream

import (
	"fmt"
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

// frameEncoder is a process-wide zstd encoder with its output buffer. It
// compresses one frame at a time for all writers of the same encoder level:
// a writer holds it from the compression of its buffered text until the
// frame has been handed to its file, so the output never needs a buffer of
// its own per writer. One encoder (its match tables are 0.3 to 4 MiB,
// depending on the level) is what keeps the memory of a compressing backup
// independent of the number of files open at once.
type frameEncoder struct {
	mu  sync.Mutex
	enc *zstd.Encoder
	out []byte
}

var (
	encMu   sync.Mutex
	encPool = map[zstd.EncoderLevel]*frameEncoder{}
)

func sharedEncoder(level zstd.EncoderLevel) (*frameEncoder, error) {
	encMu.Lock()
	defer encMu.Unlock()
	if e, ok := encPool[level]; ok {
		return e, nil
	}
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithLowerEncoderMem(true),
		zstd.WithWindowSize(FrameSize),
		zstd.WithZeroFrames(true),
	)
	if err != nil {
		return nil, err
	}
	fe := &frameEncoder{enc: e}
	encPool[level] = fe
	return fe, nil
}
