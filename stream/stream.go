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
// Compression produces standard zstd frames (no checksum, no dictionary),
// as a libzstd stream does: a frame runs from one Flush to the next (legacy
// ends a frame at every flush too), its blocks hold BlockSize of text each
// and refer back up to Window bytes. Each writer compresses on its own
// goroutine with an encoder it takes from a process-wide pool when a frame
// starts and gives back when the frame ends. Readers decode any
// concatenation of frames, so files are interchangeable with the legacy
// tools in both directions.
package stream

import (
	"fmt"
	"io"
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

// encoderSetting is the encoder level and window a --compression-level
// uses.
type encoderSetting struct {
	level  zstd.EncoderLevel
	window int
}

// encoderSettings maps a legacy --compression-level onto the encoder: the
// cheapest encoder level and window whose files are at most 1% larger than
// legacy 4.5.8's (libzstd) at the same level, measured on two kinds of
// record text (synthetic records repeating one filler, and records of
// names, e-mail addresses, cities and words; docs/compat.md has the
// figures). Windows only grow where they pay: on record text a long window
// also costs bits (longer offsets), which is why the fastest levels use
// 64 KiB. Levels 10 and above cannot match libzstd's optimal parsing with
// this encoder and use its best setting.
//
//	level ≤ 1 (incl. negative "fast" levels)  SpeedFastest             64 KiB
//	0 (default, = libzstd 3), 2 … 4           SpeedDefault             256 KiB
//	5                                         SpeedBetterCompression   1 MiB
//	6                                         SpeedBetterCompression   8 MiB
//	7                                         SpeedBestCompression     2 MiB
//	8 … 22                                    SpeedBestCompression     8 MiB
func encoderSettings(level int) encoderSetting {
	switch {
	case level == 0:
		return encoderSetting{zstd.SpeedDefault, 256 << 10}
	case level <= 1:
		return encoderSetting{zstd.SpeedFastest, 64 << 10}
	case level <= 4:
		return encoderSetting{zstd.SpeedDefault, 256 << 10}
	case level == 5:
		return encoderSetting{zstd.SpeedBetterCompression, 1 << 20}
	case level == 6:
		return encoderSetting{zstd.SpeedBetterCompression, 8 << 20}
	case level == 7:
		return encoderSetting{zstd.SpeedBestCompression, 2 << 20}
	default:
		return encoderSetting{zstd.SpeedBestCompression, 8 << 20}
	}
}

// EncoderLevel returns the encoder level a --compression-level uses (see
// encoderSettings).
func EncoderLevel(level int) zstd.EncoderLevel { return encoderSettings(level).level }

// BlockSize is the text buffer of a compressing writer: the writer hands
// its text to the encoder, and the compressed block to the file, in pieces
// of this size (legacy: ZSTD_CStreamInSize(), the same 128 KiB).
const BlockSize = 128 << 10

// plainBufSize is the text buffer of a non-compressing writer (legacy: 4 KiB).
const plainBufSize = 4096

// Window returns the zstd window (the longest back-reference distance) of
// the frames written at a --compression-level (see encoderSettings); a
// reader of them holds about this much history. libzstd uses 2 MiB at
// level 3 and more above; a smaller window keeps the memory of an encoder,
// which every open backup file holds, small.
func Window(level int) int { return encoderSettings(level).window }

// EncoderMemory is an upper bound of the memory a compressing writer at a
// --compression-level holds while a frame is open: the encoder's match
// tables, its history (window plus one block) and block buffers, and the
// writer's own text and output buffers.
func EncoderMemory(level int) int64 {
	var tables int64
	switch EncoderLevel(level) {
	case zstd.SpeedFastest:
		tables = 256 << 10 // 32k entries of 8 bytes
	case zstd.SpeedDefault:
		tables = 1<<20 + 256<<10 // long and short table
	case zstd.SpeedBetterCompression:
		tables = 4<<20 + 64<<10
	case zstd.SpeedBestCompression:
		tables = 32<<20 + 2<<20
	}
	return tables + int64(Window(level)) + 8*BlockSize
}

// encoderPool holds the idle zstd encoders of one compression level. A
// writer takes an encoder when it starts a frame and keeps it until the
// frame ends (Flush, Close): the encoder holds the frame's history, so
// blocks refer back to the text before them, as in a libzstd stream. Ended
// frames give their encoder back, so a file that is only opened (or whose
// frame ended at a checkpoint) holds none, and the files opened when others
// rotate reuse the closed files' encoders instead of allocating new ones.
type encoderPool struct {
	level int
	mu    sync.Mutex
	idle  []*zstd.Encoder
}

var (
	poolMu sync.Mutex
	pools  = map[int]*encoderPool{}
)

// sharedEncoders returns the process-wide encoder pool of a level (the
// encoder level and window are what distinguishes them).
func sharedEncoders(level int) *encoderPool {
	key := int(EncoderLevel(level))<<32 | Window(level)
	poolMu.Lock()
	defer poolMu.Unlock()
	p, ok := pools[key]
	if !ok {
		p = &encoderPool{level: level}
		pools[key] = p
	}
	return p
}

// get returns an idle encoder or a new one, reset to start a frame on w.
func (p *encoderPool) get(w io.Writer) (*zstd.Encoder, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		e := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		e.Reset(w)
		return e, nil
	}
	p.mu.Unlock()
	return newStreamEncoder(w, p.level)
}

// put gives back the encoder of an ended frame.
func (p *encoderPool) put(e *zstd.Encoder) {
	e.Reset(nil)
	p.mu.Lock()
	p.idle = append(p.idle, e)
	p.mu.Unlock()
}

// newStreamEncoder returns a synchronous encoder (it compresses on the
// writer's goroutine, so the writers of a backup compress in parallel) of
// frames without checksum and with the window of the level. Literals are
// always entropy-coded, as libzstd does: record text (digits, base64) is
// skewed even where it has no repeats.
func newStreamEncoder(w io.Writer, level int) (*zstd.Encoder, error) {
	return zstd.NewWriter(w,
		zstd.WithEncoderLevel(EncoderLevel(level)),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithLowerEncoderMem(true),
		zstd.WithWindowSize(Window(level)),
		zstd.WithAllLitEntropyCompression(true),
	)
}
