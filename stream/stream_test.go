package stream

import (
	"bytes"
	"crypto/aes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const golden = "../test/golden"

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readGolden(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(golden, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envKey derives a key the way --encryption-key-env does.
func envKey(t *testing.T, b64 string, c Cipher) []byte {
	t.Helper()
	t.Setenv("STREAM_TEST_KEY", b64)
	k, err := KeyMaterialFromEnv("STREAM_TEST_KEY")
	if err != nil {
		t.Fatal(err)
	}
	return DeriveKey(k, c)
}

func decodeAll(t *testing.T, data []byte, opts Options) []byte {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if r.BytesRead() != int64(len(data)) {
		t.Fatalf("BytesRead = %d, want %d", r.BytesRead(), len(data))
	}
	return out
}

// Known-answer test of the spec (B.5).
func TestKnownAnswer(t *testing.T) {
	k, _ := DecodeBase64Key("MDEyMzQ1Njc4OWFiY2RlZg==")
	if string(k) != "0123456789abcdef" {
		t.Fatalf("key material %q", k)
	}
	if got := hex.EncodeToString(DeriveKey(k, AES256)); got != "9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f" {
		t.Fatalf("SHA-256(K) = %s", got)
	}
	iv := [16]byte(mustHex(t, "5f5e0f00 11223344 5566778899aabbcc"))
	plain := "Version 3.1\n# namespace test\n"
	for _, tc := range []struct {
		c    Cipher
		want string
	}{
		{AES128, "fd683005ff42f5e1e20553627f1d62d8 a4459e02fdba67206996a0a34d0418dda19bdf143465f4d442ea754fa7"},
		{AES256, "db3cbe9f28bfecc0a383d224e4db06c6 0572ba27344b8b3ca4793afb17ac6743b3898adf9a2afb0f51089638dc"},
	} {
		opts := Options{Cipher: tc.c, Key: envKey(t, "MDEyMzQ1Njc4OWFiY2RlZg==", tc.c), IV: &iv}
		var out bytes.Buffer
		w, err := NewWriter(&out, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.WriteString(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), mustHex(t, tc.want)) {
			t.Errorf("%s: got %x", tc.c, out.Bytes())
		}
		if w.BytesWritten() != 45 {
			t.Errorf("%s: BytesWritten %d", tc.c, w.BytesWritten())
		}
		if got := decodeAll(t, out.Bytes(), opts); string(got) != plain {
			t.Errorf("%s: decoded %q", tc.c, got)
		}
	}
}

func TestGoldenLegacyFiles(t *testing.T) {
	pemKey, err := KeyMaterialFromPEMFile(filepath.Join(golden, "legacy-4.5.8/05-kitchen-aes128-keyfile/key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	envTxt := strings.TrimSpace(string(readGolden(t, "legacy-4.5.8/06-kitchen-zstd-aes256-env/env-key.txt")))
	cases := []struct {
		dir  string
		opts Options
	}{
		{"04-kitchen-zstd", Options{Compress: true}},
		{"05-kitchen-aes128-keyfile", Options{Cipher: AES128, Key: DeriveKey(pemKey, AES128)}},
		{"06-kitchen-zstd-aes256-env", Options{Compress: true, Cipher: AES256, Key: envKey(t, envTxt, AES256)}},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			data := readGolden(t, "legacy-4.5.8/"+tc.dir+"/backup.asb")
			want := readGolden(t, "legacy-4.5.8/"+tc.dir+"/plain.asb")
			got := decodeAll(t, data, tc.opts)
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded %d bytes, want %d bytes equal to plain.asb", len(got), len(want))
			}
			if tc.opts.Cipher != None && !tc.opts.Compress {
				ra, err := NewDecryptReaderAt(bytes.NewReader(data), int64(len(data)), tc.opts.Cipher, tc.opts.Key)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(io.NewSectionReader(ra, 0, ra.Size()))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("ReaderAt mismatch (%v)", err)
				}
			}
		})
	}
}

func TestGoldenCLIFiles(t *testing.T) {
	k, err := KeyMaterialFromPEMFile(filepath.Join(golden, "cli/files/key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		opts Options
	}{
		{"valid-enc.asb", Options{Cipher: AES128, Key: DeriveKey(k, AES128)}},
		{"valid-zstd.asb", Options{Compress: true}},
	} {
		got := decodeAll(t, readGolden(t, "cli/files/"+tc.file), tc.opts)
		if !bytes.HasPrefix(got, []byte("Version 3.1\n")) {
			t.Errorf("%s: decoded text starts %q", tc.file, got[:min(len(got), 20)])
		}
	}
}

func TestKeyErrors(t *testing.T) {
	_, err := KeyMaterialFromPEMFile("testdata-missing/missing.pem")
	if err == nil || err.Error() != `Could not open private key file "testdata-missing/missing.pem"` {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(golden, "cli/files/not-a-key.pem")
	_, err = KeyMaterialFromPEMFile(p)
	if err == nil || err.Error() != "Unable to parse private key, make sure the key is in PEM format" {
		t.Errorf("not a key: %v", err)
	}
	// A directory opens but does not read: a parse failure, as in legacy.
	_, err = KeyMaterialFromPEMFile(t.TempDir())
	if err == nil || err.Error() != "Unable to parse private key, make sure the key is in PEM format" {
		t.Errorf("directory: %v", err)
	}
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Errorf("not a KeyError: %T", err)
	}

	os.Unsetenv("STREAM_NOPE_NOT_SET")
	_, err = KeyMaterialFromEnv("STREAM_NOPE_NOT_SET")
	if err == nil || err.Error() != "No environment variable \"STREAM_NOPE_NOT_SET\" found\n" {
		t.Errorf("unset env: %q", err)
	}
	// Golden transcripts b045/b046 show these exact texts.
	for _, f := range []string{"b045", "b046"} {
		line := string(readGolden(t, "cli/"+f+".stderr"))
		if !strings.HasSuffix(line, "found\n\n") && !strings.HasSuffix(line, "base64\n\n") {
			t.Errorf("%s: unexpected golden %q", f, line)
		}
	}
	for _, bad := range []string{"not base64!", "", "QQ", "QQ=", "Q===", "QQ=A", "QUJD\n", " QUJD", "QU JD", "QUJD====", "QUJ-", "QUJ_"} {
		t.Setenv("STREAM_BAD_KEY", bad)
		_, err = KeyMaterialFromEnv("STREAM_BAD_KEY")
		if err == nil || err.Error() != "Unable to decode enviroment variable \"STREAM_BAD_KEY\" as base64\n" {
			t.Errorf("%q: %q", bad, err)
		}
	}
	for in, want := range map[string]string{"QQ==": "A", "QUI=": "AB", "QUJD": "ABC", "QR==": "A", "MDEyMzQ1Njc4OWFiY2RlZg==": "0123456789abcdef"} {
		got, err := DecodeBase64Key(in)
		if err != nil || string(got) != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
}

func TestPEMKeyForms(t *testing.T) {
	// The golden key is PKCS#8 "BEGIN PRIVATE KEY"; the material must be the
	// PKCS#1 form, which is what decrypted the golden file above. Check that
	// the PKCS#1 PEM of the same key gives the same material.
	k8, err := KeyMaterialFromPEMFile(filepath.Join(golden, "legacy-4.5.8/05-kitchen-aes128-keyfile/key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := "-----BEGIN RSA PRIVATE KEY-----\n" + wrap64(k8) + "-----END RSA PRIVATE KEY-----\n"
	k1, err := KeyMaterialFromPEM([]byte("junk before\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + pkcs1))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k8) {
		t.Fatal("PKCS#1 and PKCS#8 forms of one key give different material")
	}
	enc := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
	if _, err := KeyMaterialFromPEM([]byte(enc)); err == nil {
		t.Fatal("encrypted key accepted")
	}
}

func wrap64(der []byte) string {
	s := base64Std(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n")
	return b.String()
}

func allOptions(t *testing.T) []Options {
	k := envKey(t, "MDEyMzQ1Njc4OWFiY2RlZg==", AES256)
	var out []Options
	for _, comp := range []bool{false, true} {
		for _, c := range []Cipher{None, AES128, AES256} {
			o := Options{Compress: comp, Cipher: c}
			if c != None {
				o.Key = k[:c.KeySize()]
			}
			out = append(out, o)
		}
	}
	return out
}

func name(o Options) string { return fmt.Sprintf("zstd=%v/%s", o.Compress, o.Cipher) }

func sampleText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString("Version 3.1\n# namespace test\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "+ k I %d\n+ n test\n+ d %x\n+ s kitchen\n+ g 1\n+ t 0\n+ b 2\n- I i %d\n- S s 12 %012d\n", i, r.Uint64(), r.IntN(1000), r.IntN(1e9))
	}
	return b.Bytes()[:n]
}

func TestRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 15, 16, 17, 4095, 4096, 4097, BlockSize - 1, BlockSize, 3*BlockSize + 123} {
		text := sampleText(size, uint64(size))
		for _, o := range allOptions(t) {
			var out bytes.Buffer
			w, err := NewWriter(&out, o)
			if err != nil {
				t.Fatal(err)
			}
			// Irregular write sizes.
			r := rand.New(rand.NewPCG(uint64(size), 2))
			for rest := text; len(rest) > 0; {
				n := min(len(rest), 1+r.IntN(9000))
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
				if r.IntN(20) == 0 {
					if err := w.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.BytesWritten() != uint64(out.Len()) {
				t.Fatalf("%s size %d: BytesWritten %d, file %d", name(o), size, w.BytesWritten(), out.Len())
			}
			if got := decodeAll(t, out.Bytes(), o); !bytes.Equal(got, text) {
				t.Fatalf("%s size %d: round trip mismatch", name(o), size)
			}
			wantHdr := 0
			if o.Cipher != None {
				wantHdr = 16
			}
			if size == 0 && out.Len() != wantHdr {
				t.Fatalf("%s: empty stream is %d bytes", name(o), out.Len())
			}
			if o.Cipher != None && !o.Compress {
				checkReaderAt(t, out.Bytes(), o, text)
			}
		}
	}
}

func checkReaderAt(t *testing.T, file []byte, o Options, text []byte) {
	t.Helper()
	ra, err := NewDecryptReaderAt(bytes.NewReader(file), int64(len(file)), o.Cipher, o.Key)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Size() != int64(len(text)) {
		t.Fatalf("Size %d want %d", ra.Size(), len(text))
	}
	r := rand.New(rand.NewPCG(7, uint64(len(text))))
	for i := 0; i < 50 && len(text) > 0; i++ {
		off := r.IntN(len(text))
		n := r.IntN(100)
		buf := make([]byte, n)
		got, err := ra.ReadAt(buf, int64(off))
		want := min(n, len(text)-off)
		if got != want || !bytes.Equal(buf[:got], text[off:off+want]) {
			t.Fatalf("ReadAt(%d,%d) = %d, %v", off, n, got, err)
		}
		if want < n && err != io.EOF {
			t.Fatalf("short ReadAt without EOF: %v", err)
		}
	}
	if _, err := ra.ReadAt(make([]byte, 1), int64(len(text))); err != io.EOF {
		t.Fatalf("ReadAt at end: %v", err)
	}
}

// The compressed output is a sequence of frames: one per Flush, never
// empty ones.
func TestFramesPerFlush(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewWriter(&out, Options{Compress: true})
	w.WriteString("Version 3.1\n")
	w.Flush()
	w.Flush() // nothing new: no empty frame
	w.WriteString("# namespace test\n")
	w.Close()
	frames := countFrames(t, out.Bytes())
	if frames != 2 {
		t.Fatalf("got %d frames, want 2", frames)
	}
}

func countFrames(t *testing.T, b []byte) int {
	t.Helper()
	n := 0
	for len(b) > 0 {
		var h zstd.Header
		if err := h.Decode(b); err != nil {
			t.Fatal(err)
		}
		// Walk the blocks of the frame.
		p := h.HeaderSize
		for {
			bh := uint32(b[p]) | uint32(b[p+1])<<8 | uint32(b[p+2])<<16
			last, typ, size := bh&1, (bh>>1)&3, int(bh>>3)
			p += 3
			if typ == 1 { // RLE
				size = 1
			}
			p += size
			if last == 1 {
				break
			}
		}
		if h.HasCheckSum {
			p += 4
		}
		b = b[p:]
		n++
	}
	return n
}

// Files made of several frames, including empty frames like the one legacy
// writes when saving state, decode to the concatenated text.
func TestMultiAndEmptyFrames(t *testing.T) {
	emptyFrame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	a := enc.EncodeAll([]byte("Version 3.1\n"), nil)
	b := enc.EncodeAll([]byte("# namespace test\n"), nil)
	var file []byte
	file = append(file, emptyFrame...)
	file = append(file, a...)
	file = append(file, emptyFrame...)
	file = append(file, b...)
	file = append(file, emptyFrame...)
	got := decodeAll(t, file, Options{Compress: true})
	if string(got) != "Version 3.1\n# namespace test\n" {
		t.Fatalf("got %q", got)
	}
	if got := decodeAll(t, emptyFrame, Options{Compress: true}); len(got) != 0 {
		t.Fatalf("empty frame decoded to %q", got)
	}
}

func TestReaderErrors(t *testing.T) {
	k := envKey(t, "MDEyMzQ1Njc4OWFiY2RlZg==", AES128)
	for _, n := range []int{0, 1, 15} {
		_, err := NewReader(bytes.NewReader(make([]byte, n)), Options{Cipher: AES128, Key: k})
		want := fmt.Sprintf("Error when reading IV from file: only %d bytes were found, but expected 16", n)
		if err == nil || err.Error() != want {
			t.Errorf("%d bytes: %v", n, err)
		}
		_, err = NewDecryptReaderAt(bytes.NewReader(make([]byte, n)), int64(n), AES128, k)
		if err == nil || err.Error() != want {
			t.Errorf("ReaderAt %d bytes: %v", n, err)
		}
	}

	text := sampleText(300000, 9)
	var out bytes.Buffer
	o := Options{Compress: true, Cipher: AES128, Key: k}
	w, _ := NewWriter(&out, o)
	w.Write(text)
	w.Close()
	file := out.Bytes()

	// Truncated inside a frame.
	r, _ := NewReader(bytes.NewReader(file[:len(file)-10]), o)
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrTruncatedFrame) || !strings.HasPrefix(err.Error(), "Failed to decompress data: ") {
		t.Fatalf("truncated: %v", err)
	}
	if !bytes.HasPrefix(text, got) || len(got) < BlockSize {
		t.Fatalf("truncated: decoded %d bytes before the error", len(got))
	}

	// Wrong key: the decrypted stream is not zstd.
	bad := envKey(t, "QUJD", AES128)
	r, _ = NewReader(bytes.NewReader(file), Options{Compress: true, Cipher: AES128, Key: bad})
	_, err = io.ReadAll(r)
	if err == nil || err.Error() != "Failed to decompress data: Unknown frame descriptor" {
		t.Fatalf("wrong key: %v", err)
	}
	// Wrong key without compression: garbage, not the text.
	var plainOut bytes.Buffer
	w, _ = NewWriter(&plainOut, Options{Cipher: AES128, Key: k})
	w.Write(text[:100])
	w.Close()
	if got := decodeAll(t, plainOut.Bytes(), Options{Cipher: AES128, Key: bad}); bytes.HasPrefix(got, []byte("Version")) {
		t.Fatal("wrong key decrypted the text")
	}
	// Corrupted frame body.
	var zOut bytes.Buffer
	w, _ = NewWriter(&zOut, Options{Compress: true})
	w.Write(text)
	w.Close()
	corrupt := append([]byte(nil), zOut.Bytes()...)
	for i := 20; i < 200; i++ {
		corrupt[i] ^= 0x5a
	}
	r, _ = NewReader(bytes.NewReader(corrupt), Options{Compress: true})
	_, err = io.ReadAll(r)
	var de *DecompressError
	if !errors.As(err, &de) {
		t.Fatalf("corrupt: %v", err)
	}
	// Option validation.
	if _, err := NewWriter(io.Discard, Options{Cipher: AES256, Key: k}); err == nil {
		t.Fatal("16-byte key accepted for aes256")
	}
	if _, err := NewWriter(io.Discard, Options{Compress: true, Level: 23}); err == nil ||
		err.Error() != "Compression level 23 is outside zstd compression level bounds (-131072 - 22)" {
		t.Fatalf("level 23: %v", err)
	}
}

func TestLevels(t *testing.T) {
	text := sampleText(200000, 3)
	for _, lvl := range []int{MinLevel, -5, 0, 1, 3, 5, 6, 9, 19, 22} {
		var out bytes.Buffer
		w, err := NewWriter(&out, Options{Compress: true, Level: lvl})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(text)
		w.Close()
		if got := decodeAll(t, out.Bytes(), Options{Compress: true}); !bytes.Equal(got, text) {
			t.Fatalf("level %d: mismatch", lvl)
		}
		if out.Len() >= len(text)/2 {
			t.Fatalf("level %d: %d -> %d bytes", lvl, len(text), out.Len())
		}
	}
	if EncoderLevel(0) != zstd.SpeedDefault || EncoderLevel(3) != zstd.SpeedDefault || Window(0) != 256<<10 ||
		EncoderLevel(1) != zstd.SpeedFastest || EncoderLevel(-7) != zstd.SpeedFastest ||
		EncoderLevel(2) != zstd.SpeedDefault || EncoderLevel(6) != zstd.SpeedBetterCompression ||
		EncoderLevel(7) != zstd.SpeedBestCompression || EncoderLevel(22) != zstd.SpeedBestCompression {
		t.Fatal("level mapping changed")
	}
}

// Resume: write, flush, capture Position, continue with a new writer on the
// same file; the whole file decodes, and the keystream continues seamlessly
// (the file equals a single uninterrupted encryption of the same frames).
func TestResume(t *testing.T) {
	iv := [16]byte(mustHex(t, "5f5e0f00 11223344 ffffffffffffffff")) // counter carries into the high half
	text := sampleText(50000, 5)
	for _, o := range allOptions(t) {
		o.IV = &iv
		for _, cut := range []int{0, 5, 16, 4096, 4103, 31000} {
			var file bytes.Buffer
			w1, _ := NewWriter(&file, o)
			w1.Write(text[:cut])
			if err := w1.Flush(); err != nil {
				t.Fatal(err)
			}
			pos := w1.Position()
			if w1.Buffered() != 0 || pos.BytesWritten != uint64(file.Len()) {
				t.Fatalf("position %+v vs file %d", pos, file.Len())
			}
			w2, err := ResumeWriter(&file, o, pos)
			if err != nil {
				t.Fatal(err)
			}
			w2.Write(text[cut:])
			w2.Close()
			if w2.BytesWritten() != uint64(file.Len()) {
				t.Fatalf("%s cut %d: BytesWritten %d file %d", name(o), cut, w2.BytesWritten(), file.Len())
			}
			if got := decodeAll(t, file.Bytes(), o); !bytes.Equal(got, text) {
				t.Fatalf("%s cut %d: resumed file does not decode", name(o), cut)
			}
			if !o.Compress {
				// Without compression, frame boundaries don't exist: the
				// resumed file must equal the uninterrupted one.
				var whole bytes.Buffer
				w, _ := NewWriter(&whole, o)
				w.Write(text)
				w.Close()
				if !bytes.Equal(whole.Bytes(), file.Bytes()) {
					t.Fatalf("%s cut %d: resumed bytes differ", name(o), cut)
				}
			}
			wantRaw := uint64(len(text))
			if o.Cipher != None {
				wantRaw += 16
			}
			if w2.Position().RawBytes != wantRaw {
				t.Fatalf("RawBytes %d want %d", w2.Position().RawBytes, wantRaw)
			}
		}
	}
}

// Position of a fresh encrypted writer matches the verified legacy example:
// raw_byte_cnt 16, iv = V, num 0; after 29 bytes iv = V+2, num 13.
func TestLegacyPositionValues(t *testing.T) {
	iv := [16]byte(mustHex(t, "5f5e0f00 11223344 5566778899aabbcc"))
	k := envKey(t, "MDEyMzQ1Njc4OWFiY2RlZg==", AES128)
	var out bytes.Buffer
	w, _ := NewWriter(&out, Options{Cipher: AES128, Key: k, IV: &iv})
	p := w.Position()
	if p.RawBytes != 16 || p.BytesWritten != 0 || p.IV != iv || p.Num != 0 {
		t.Fatalf("fresh: %+v", p)
	}
	w.WriteString("Version 3.1\n# namespace test\n")
	w.Flush()
	p = w.Position()
	if p.RawBytes != 45 || p.BytesWritten != 45 || p.IV != add128(iv, 2) || p.Num != 13 {
		t.Fatalf("after 29 bytes: %+v", p)
	}
	w.WriteString("xyz")
	w.Flush()
	p = w.Position()
	if p.IV != add128(iv, 2) || p.Num != 0 {
		t.Fatalf("after 32 bytes: %+v", p)
	}
}

// Draining the buffers of a legacy .state entry (A.3.3 example shape): the
// encrypted IV header, an empty zstd frame, then pending text.
func TestLegacyBufferDrain(t *testing.T) {
	iv := [16]byte(mustHex(t, "6b0243db 00000000 0000000000000001"))
	k := envKey(t, "MDEyMzQ1Njc4OWFiY2RlZg==", AES128)
	o := Options{Compress: true, Cipher: AES128, Key: k}
	blk, _ := aes.NewCipher(k)
	hdr := make([]byte, 16)
	blk.Encrypt(hdr, iv[:])
	emptyFrame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00}
	var file bytes.Buffer
	w, err := ResumeWriter(&file, o, Position{RawBytes: 16, IV: iv})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteCiphertext(hdr); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteCompressed(emptyFrame); err != nil {
		t.Fatal(err)
	}
	w.WriteString("Version 3.1\n# namespace test\n")
	w.WriteString("+ k I 1\n")
	if err := w.WriteCiphertext(nil); err == nil {
		t.Fatal("WriteCiphertext after text accepted")
	}
	w.Close()
	if got := decodeAll(t, file.Bytes(), o); string(got) != "Version 3.1\n# namespace test\n+ k I 1\n" {
		t.Fatalf("got %q", got)
	}
}

// add128/sub128 and the CTR keystream agree with big-integer arithmetic and
// with AES applied to each counter block, across 64- and 128-bit wraps.
func TestCounterArithmetic(t *testing.T) {
	two128 := new(big.Int).Lsh(big.NewInt(1), 128)
	for _, s := range []string{"00000000000000000000000000000000", "0000000000000000ffffffffffffffff", "ffffffffffffffffffffffffffffffff", "0123456789abcdeffffffffffffffff0"} {
		c := [16]byte(mustHex(t, s))
		for _, v := range []uint64{0, 1, 2, 15, 1 << 40, ^uint64(0)} {
			want := new(big.Int).Add(new(big.Int).SetBytes(c[:]), new(big.Int).SetUint64(v))
			want.Mod(want, two128)
			got := add128(c, v)
			if new(big.Int).SetBytes(got[:]).Cmp(want) != 0 {
				t.Fatalf("add128(%s,%d)", s, v)
			}
			if sub128(got, v) != c {
				t.Fatalf("sub128(add128(%s,%d))", s, v)
			}
		}
		key := make([]byte, 16)
		blk, _ := aes.NewCipher(key)
		ks, _ := newKeystream(key, c, 0)
		stream := make([]byte, 64)
		ks.xor(stream)
		for i := 0; i < 4; i++ {
			ctr := add128(c, uint64(i))
			want := make([]byte, 16)
			blk.Encrypt(want, ctr[:])
			if !bytes.Equal(stream[16*i:16*i+16], want) {
				t.Fatalf("keystream block %d from %s", i, s)
			}
		}
	}
}

func TestLegacyFlags(t *testing.T) {
	if (Options{Compress: true, Cipher: AES128}).LegacyFlags() != 0x05 ||
		(Options{Cipher: AES256}).LegacyFlags() != 0x02 || (Options{}).LegacyFlags() != 0 {
		t.Fatal("flags")
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Writers on different goroutines compress at the same time, each stream
// decodes to exactly its own text, one frame per writer (no Flush), and the
// encoders come back to their pools when the writers close.
func TestConcurrentWriters(t *testing.T) {
	k := DeriveKey([]byte("k"), AES128)
	opts := []Options{{Compress: true}, {Compress: true, Cipher: AES128, Key: k}, {Compress: true, Level: 1}}
	const n = 12
	outs := make([]bytes.Buffer, n)
	texts := make([][]byte, n)
	idle := func() int {
		poolMu.Lock()
		defer poolMu.Unlock()
		c := 0
		for _, p := range pools {
			p.mu.Lock()
			c += len(p.idle)
			p.mu.Unlock()
		}
		return c
	}
	before := idle()
	var wg sync.WaitGroup
	for i := range n {
		texts[i] = sampleText(3*BlockSize+1000*i, uint64(100+i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := NewWriter(&outs[i], opts[i%len(opts)])
			if err != nil {
				t.Error(err)
				return
			}
			for p := texts[i]; len(p) > 0; p = p[min(len(p), 333):] {
				if _, err := w.Write(p[:min(len(p), 333)]); err != nil {
					t.Error(err)
					return
				}
			}
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if after := idle(); after == 0 || after > before+n {
		t.Errorf("%d idle encoders after %d writers closed (%d before)", after, n, before)
	}
	for i := range n {
		r, err := NewReader(bytes.NewReader(outs[i].Bytes()), opts[i%len(opts)])
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, texts[i]) {
			t.Fatalf("writer %d: %d bytes decoded (want %d), err %v", i, len(got), len(texts[i]), err)
		}
		if opts[i%len(opts)].Cipher != None {
			continue
		}
		if f := countFrames(t, outs[i].Bytes()); f != 1 {
			t.Errorf("writer %d: %d frames for %d bytes of text, want 1", i, f, len(texts[i]))
		}
	}
}

// The blocks of a frame refer back to the text of the blocks before them
// (up to Window bytes): text that repeats a chunk written one block earlier
// compresses to about the size of one chunk. A Flush ends the frame, so the
// repeat after it costs a whole chunk again, and the encoder goes back to
// its pool and is reused by the next frame.
func TestFrameHistory(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, BlockSize)
	for i := range chunk {
		chunk[i] = 'a' + byte(r.IntN(26))
	}
	p := sharedEncoders(0)
	var out bytes.Buffer
	w, _ := NewWriter(&out, Options{Compress: true})
	w.Write(chunk)
	w.Write(chunk)
	if out.Len() == 0 {
		t.Fatal("a full block was not handed on")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	one := out.Len()
	// Random letters take about 4.7 bits each: the second copy must cost
	// next to nothing.
	if max := len(chunk) * 5 / 8 * 11 / 10; one > max {
		t.Errorf("two copies of a chunk in one frame: %d bytes, want at most %d", one, max)
	}
	p.mu.Lock()
	idle := len(p.idle)
	p.mu.Unlock()
	if idle == 0 {
		t.Fatal("the encoder of the ended frame is not back in its pool")
	}
	w.Write(chunk)
	p.mu.Lock()
	if len(p.idle) != idle-1 {
		t.Errorf("new frame: %d idle encoders, want %d", len(p.idle), idle-1)
	}
	p.mu.Unlock()
	w.Close()
	if two := out.Len() - one; two < len(chunk)/2 {
		t.Errorf("chunk in a new frame: %d bytes; it cannot refer to the frame before", two)
	}
	if got := decodeAll(t, out.Bytes(), Options{Compress: true}); !bytes.Equal(got, bytes.Repeat(chunk, 3)) {
		t.Fatal("round trip mismatch")
	}
	if f := countFrames(t, out.Bytes()); f != 2 {
		t.Fatalf("%d frames, want 2", f)
	}
}
