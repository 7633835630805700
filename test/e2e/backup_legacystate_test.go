package e2e

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/state"
	"asbtools/stream"
)

// The tests in this file resume (--continue) a backup interrupted by the
// legacy tool: the .state file and the partial backup files are built here
// the way legacy 4.5.8 leaves them (state-and-streams.md A.3, B), with open
// files whose text, compressed and encrypted consumer buffers still hold
// data that never reached the disk.

// legacyEmptyFrame is the empty zstd frame libzstd emits when a frame is
// ended without input (state-and-streams.md A.3.3).
var legacyEmptyFrame = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00}

// legacyKeyMaterial is the --encryption-key-env value of these tests.
const legacyKeyMaterial = "0123456789abcdef"

// legacyMode is one stream mode of the interrupted backup.
type legacyMode struct {
	name   string
	zstd   bool
	cipher stream.Cipher
}

func (m legacyMode) flags() uint8 {
	f := uint8(0)
	switch m.cipher {
	case stream.AES128:
		f |= 0x01
	case stream.AES256:
		f |= 0x02
	}
	if m.zstd {
		f |= 0x04
	}
	return f
}

func (m legacyMode) key() []byte {
	if m.cipher == stream.None {
		return nil
	}
	d := sha256.Sum256([]byte(legacyKeyMaterial))
	return d[:m.cipher.KeySize()]
}

func (m legacyMode) args() []string {
	var a []string
	if m.zstd {
		a = append(a, "-z", "zstd")
	}
	if m.cipher != stream.None {
		a = append(a, "-y", m.cipher.String(), "--encryption-key-env", "ASB_LEGACY_KEY")
	}
	return a
}

// legacyWriter produces the byte stream of one legacy backup file: text is
// compressed into frames (zstd mode), the frames are CTR-encrypted after a
// 16-byte header (encrypted modes). It keeps the unencrypted stage-two bytes
// (C) and the file bytes (E = header ‖ CTR(C)) so that a test can cut them
// at any point into "on disk", "encrypted buffer" and "compressed buffer".
type legacyWriter struct {
	mode legacyMode
	iv   [16]byte
	text []byte // all text given to the compressor so far
	c    []byte // stage-two bytes (compressed or plain text)
	enc  *zstd.Encoder
}

func newLegacyWriter(t *testing.T, m legacyMode) *legacyWriter {
	w := &legacyWriter{mode: m}
	if _, err := rand.Read(w.iv[:]); err != nil {
		t.Fatal(err)
	}
	if m.zstd {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		w.enc = enc
	}
	return w
}

// frame passes text through the first stage (one zstd frame per call).
func (w *legacyWriter) frame(text []byte) {
	w.text = append(w.text, text...)
	if w.enc != nil {
		w.c = w.enc.EncodeAll(text, w.c)
		return
	}
	w.c = append(w.c, text...)
}

// rawFrame appends ready stage-two bytes (an empty zstd frame).
func (w *legacyWriter) rawFrame(b []byte) { w.c = append(w.c, b...) }

func (w *legacyWriter) hdr() int {
	if w.mode.cipher == stream.None {
		return 0
	}
	return 16
}

// fileBytes returns E: header ‖ CTR(C) (or C when not encrypting).
func (w *legacyWriter) fileBytes() []byte {
	if w.mode.cipher == stream.None {
		return append([]byte(nil), w.c...)
	}
	b, _ := aes.NewCipher(w.mode.key())
	out := make([]byte, 16+len(w.c))
	b.Encrypt(out[:16], w.iv[:])
	cipher.NewCTR(b, ivPlus(w.iv, 1)).XORKeyStream(out[16:], w.c)
	return out
}

// entry builds the legacy FILE ENTRY of the file cut at: disk = E[:a],
// encrypted buffer = E[a:b] (encrypted modes), compressed buffer = C[b-hdr:]
// (zstd), main buffer = pending text.
func (w *legacyWriter) entry(path string, a, b int, pending []byte, recs uint64) state.FileEntry {
	e := w.fileBytes()
	h := w.hdr()
	if w.mode.cipher == stream.None {
		b = a
	}
	if !w.mode.zstd {
		b = len(e)
		if w.mode.cipher == stream.None {
			a = len(e)
		}
	}
	// n = stage-two bytes already encrypted: iv = V + ceil(n/16), num = n%16
	// (legacy saves OpenSSL's counter − 1).
	n := max(b-h, 0)
	var iv [16]byte
	if w.mode.cipher != stream.None {
		copy(iv[:], ivPlus(w.iv, (n+15)/16))
	}
	bufSize := uint64(4096)
	if w.mode.zstd {
		bufSize = 131591
	}
	ent := state.FileEntry{
		ByteCount:    uint64(a),
		RawByteCount: uint64(h + len(w.text)),
		Num:          uint32(n % 16),
		Flags:        w.mode.flags(),
		IV:           iv,
		Main:         state.Buffer{Size: bufSize, Data: append([]byte(nil), pending...)},
		FilePos:      uint64(a),
		Path:         path,
		RecCount:     recs,
	}
	if w.mode.zstd {
		ent.Compressed = &state.Buffer{Size: bufSize, Data: append([]byte(nil), w.c[b-h:]...)}
	}
	if w.mode.cipher != stream.None {
		ent.Encrypted = &state.Buffer{Size: bufSize, Data: append([]byte(nil), e[a:b]...)}
	}
	return ent
}

// ivPlus returns iv + n as a 128-bit big-endian integer (mod 2^128).
func ivPlus(iv [16]byte, n int) []byte {
	v := new(big.Int).Add(new(big.Int).SetBytes(iv[:]), big.NewInt(int64(n)))
	v.Mod(v, new(big.Int).Lsh(big.NewInt(1), 128))
	out := make([]byte, 16)
	v.FillBytes(out)
	return out
}

// legacyRecordText encodes a test-server record as the legacy writer does.
func legacyRecordText(t *testing.T, r asdsim.Record) []byte {
	n := int64(binary.BigEndian.Uint64(r.Bins[0].Data))
	rec := asb.Record{
		Key:       asb.Key{Type: asb.KeyInt, Int: n},
		Namespace: []byte("test"), Digest: r.Digest, Set: []byte(r.Set), HasSet: true,
		Generation: r.Generation, VoidTime: r.VoidTime,
		Bins: []asb.Bin{
			{Name: []byte(r.Bins[0].Name), Type: asb.BinInt, Int: n},
			{Name: []byte(r.Bins[1].Name), Type: asb.BinString, Bytes: r.Bins[1].Data},
		},
	}
	var buf bytes.Buffer
	w := asb.NewBodyWriter(&buf, asb.Version31, 0)
	if err := w.WriteRecord(&rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func legacyHeader(first bool) []byte {
	s := "Version 3.1\n# namespace test\n"
	if first {
		s += "# first-file\n"
	}
	return []byte(s)
}

// cutJob returns the first k records (k moved forward until the cut falls
// inside a partition) of the partitions begin..begin+count-1 and sets their
// states in st.
func cutJob(parts [][]asdsim.Record, st *state.State, begin, count, k int) []asdsim.Record {
	var all []asdsim.Record
	var pidOf []int
	for p := begin; p < begin+count; p++ {
		for _, r := range parts[p] {
			all = append(all, r)
			pidOf = append(pidOf, p)
		}
	}
	if k > 0 && k < len(all) {
		for k < len(all)-1 && !(k > 0 && pidOf[k-1] == pidOf[k]) {
			k++
		}
	}
	k = min(k, len(all))
	cur := begin + count // partition being scanned
	if k < len(all) {
		cur = pidOf[k]
	}
	written := map[int]int{}
	for i := 0; i < k; i++ {
		written[pidOf[i]]++
	}
	for p := begin; p < begin+count; p++ {
		ps := &st.Partitions[p]
		w := written[p]
		switch {
		case p < cur && w > 0:
			ps.Status, ps.Digest = state.Complete, parts[p][w-1].Digest
		case p < cur:
			ps.Status = state.CompleteEmpty
		case p == cur && w > 0:
			ps.Status, ps.Digest = state.Incomplete, parts[p][w-1].Digest
		default:
			ps.Status = state.NotStarted
		}
	}
	return all[:k]
}

// parts0Cut returns the first partition from begin on that is not complete.
func parts0Cut(st *state.State, begin int) int {
	p := begin
	for st.Partitions[p].Status == state.Complete || st.Partitions[p].Status == state.CompleteEmpty {
		p++
	}
	return p
}

func textOf(t *testing.T, recs []asdsim.Record) []byte {
	var b []byte
	for _, r := range recs {
		b = append(b, legacyRecordText(t, r)...)
	}
	return b
}

// TestBackupContinueLegacyState builds, for plain, zstd, zstd+AES-128 and
// AES-256 streams, the directory and .state file legacy 4.5.8 leaves after
// an interruption of a 4-job backup (two closed files, an open file whose
// data sits partly on disk and partly in the encrypted, compressed and text
// buffers, an open fully flushed file in the reuse queue, a freshly
// rotated file nothing of which reached the disk; one job finished, two
// interrupted inside a partition, one never started), runs `asbackup
// --continue` on it and checks that every record is in the backup exactly
// once and every file decodes cleanly, with an independent decoder and
// with the stream package.
func TestBackupContinueLegacyState(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	const total = 8000
	recs := make([]asdsim.Record, 0, total)
	for i := 0; i < total; i++ {
		recs = append(recs, asdsim.Record{Set: "ls", Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
			asdsim.IntBin("n", int64(i)),
			{Name: "s", Type: asdsim.ParticleString, Data: []byte(fmt.Sprintf("legacy-%06d-%s", i, strings.Repeat("y", 50)))},
		}})
	}
	if err := srv.PutMany("test", recs); err != nil {
		t.Fatal(err)
	}
	parts := make([][]asdsim.Record, state.NumPartitions)
	srv.Each("test", func(r asdsim.Record) bool {
		p := asdsim.PartitionOf(r.Digest)
		parts[p] = append(parts[p], r)
		return true
	})

	modes := []legacyMode{
		{name: "plain"},
		{name: "zstd", zstd: true},
		{name: "zstd-aes128", zstd: true, cipher: stream.AES128},
		{name: "aes256", cipher: stream.AES256},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			work := t.TempDir()
			dir := filepath.Join(work, "bk")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			st := &state.State{FileCount: 5}
			name := func(i int) string { return fmt.Sprintf("bk/test_%05d.asb", i) }
			write := func(i int, data []byte) {
				if err := os.WriteFile(filepath.Join(work, name(i)), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var recTotal, byteTotal uint64

			// Job 0 (partitions 0-1023): interrupted inside a partition;
			// its first file was closed at the size limit, its second one
			// (created by the rotation) has nothing on disk yet.
			job0 := cutJob(parts, st, 0, 1024, 1200)
			closed0, fresh := job0[:len(job0)-25], job0[len(job0)-25:]
			// Job 1 (1024-2047): finished; its first file was closed, the
			// second one was released into the reuse queue.
			job1 := cutJob(parts, st, 1024, 1024, 1<<30)
			closed1, queued := job1[:len(job1)/2], job1[len(job1)/2:]
			// Job 2 (2048-3071): interrupted inside a partition, file data
			// spread over disk and every consumer buffer.
			job2 := cutJob(parts, st, 2048, 1024, 700)
			// Job 3 (3072-4095): never started.
			cutJob(parts, st, 3072, 1024, 0)

			// Closed files: complete streams, two frames each.
			for i, part := range [][]asdsim.Record{closed0, closed1} {
				lw := newLegacyWriter(t, m)
				txt := append(legacyHeader(i == 0), textOf(t, part[:len(part)/2])...)
				lw.frame(txt)
				lw.frame(textOf(t, part[len(part)/2:]))
				e := lw.fileBytes()
				write(i, e)
				recTotal += uint64(len(part))
				byteTotal += uint64(len(e))
				st.ByteCommitted += uint64(len(e))
				st.RecCommitted += uint64(len(part))
			}

			// File 2: disk ‖ encrypted buffer ‖ compressed buffer ‖ text.
			{
				lw := newLegacyWriter(t, m)
				split1, split2 := len(job2)*2/5, len(job2)-25
				lw.frame(append(legacyHeader(false), textOf(t, job2[:split1])...))
				f1 := len(lw.c)
				lw.frame(textOf(t, job2[split1:split2]))
				f2 := len(lw.c) - f1
				h := lw.hdr()
				a, b := h+f1+f2/3, h+f1+2*f2/3
				if !m.zstd && m.cipher != stream.None {
					a = h + len(lw.c) - 3000 // the legacy encrypted buffer holds 4 KiB
				}
				if m.zstd && m.cipher == stream.None {
					a = f1 + f2/2
				}
				ent := lw.entry(name(2), a, b, textOf(t, job2[split2:]), uint64(len(job2)))
				write(2, lw.fileBytes()[:ent.FilePos])
				st.Files = append(st.Files, ent)
				recTotal += uint64(len(job2))
				byteTotal += ent.FilePos
			}
			// File 3: fully flushed, in the reuse queue; saving ended an
			// empty zstd frame that is still in the compressed buffer.
			{
				lw := newLegacyWriter(t, m)
				lw.frame(append(legacyHeader(false), textOf(t, queued)...))
				disk := len(lw.fileBytes())
				if m.zstd {
					lw.rawFrame(legacyEmptyFrame)
				}
				ent := lw.entry(name(3), disk, disk, nil, uint64(len(queued)))
				write(3, lw.fileBytes()[:disk])
				st.Files = append(st.Files, ent)
				recTotal += uint64(len(queued))
				byteTotal += uint64(disk)
			}
			// File 4: created by job 0's rotation; nothing reached the disk
			// (encrypted buffer = the IV header, compressed buffer = an
			// empty frame, text buffer = header and records).
			{
				lw := newLegacyWriter(t, m)
				if m.zstd {
					lw.rawFrame(legacyEmptyFrame)
				}
				pending := append(legacyHeader(false), textOf(t, fresh)...)
				if len(pending) >= 4096 {
					t.Fatalf("fresh file text %d bytes does not fit the legacy 4 KiB buffer", len(pending))
				}
				ent := lw.entry(name(4), 0, lw.hdr(), pending, uint64(len(fresh)))
				write(4, nil)
				st.Files = append(st.Files, ent)
				recTotal += uint64(len(fresh))
			}
			st.RecTotal, st.ByteTotal = recTotal, byteTotal
			if st.Partitions[parts0Cut(st, 0)].Status != state.Incomplete || st.Partitions[parts0Cut(st, 2048)].Status != state.Incomplete {
				t.Fatal("jobs 0 and 2 are not interrupted inside a partition")
			}
			if f := st.Files[0]; len(f.Main.Pending()) == 0 || (m.zstd && m.cipher != stream.None &&
				(len(f.Compressed.Pending()) == 0 || len(f.Encrypted.Pending()) == 0)) {
				t.Fatal("file 2 has empty consumer buffers")
			}
			if err := st.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := state.Save(filepath.Join(dir, "test.asb.state"), st); err != nil {
				t.Fatal(err)
			}

			env := []string{"ASB_LEGACY_KEY=" + base64.StdEncoding.EncodeToString([]byte(legacyKeyMaterial))}
			args := append([]string{"-h", srv.Host(), "-p", fmt.Sprint(srv.Port()), "-n", "test",
				"-d", "bk", "--parallel", "4", "--continue", "bk/test.asb.state"}, m.args()...)
			res := runTool(t, "asbackup", work, env, args...)
			if res.code != 0 {
				t.Fatalf("--continue exit %d:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", total)) {
				t.Errorf("summary does not report %d records:\n%s", total, lastLines(res.stderr, 3))
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.asb"))
			sort.Strings(files)
			if want := fmt.Sprintf(" %d byte(s) in total", outputSize(dir)); !strings.Contains(res.stderr, want) {
				t.Errorf("summary does not report the%s of the files:\n%s", want, lastLines(res.stderr, 1))
			}
			if len(files) < 5 {
				t.Fatalf("%d backup files, want at least 5", len(files))
			}
			opts := &stream.Options{Compress: m.zstd, Cipher: m.cipher, Key: m.key()}
			seen := map[[20]byte]int{}
			firsts := 0
			for _, f := range files {
				text := legacyDecode(t, f, m)
				if got := decodeFile(t, f, opts); !bytes.Equal(got, text) {
					t.Fatalf("%s: stream reader and independent decoder disagree (%d vs %d bytes)", f, len(got), len(text))
				}
				if bytes.Contains(text, []byte("# first-file\n")) {
					firsts++
					if filepath.Base(f) != "test_00000.asb" {
						t.Errorf("# first-file in %s", f)
					}
				}
				_, _, blocks := fileBlocks(t, text, f)
				recs, _, _ := readEntries(t, f, bytes.NewReader(text))
				for _, r := range recs {
					seen[r.Digest]++
					want, ok := srv.Get("test", r.Digest)
					if !ok || r.Key.Int != int64(binary.BigEndian.Uint64(want.Bins[0].Data)) ||
						len(r.Bins) != 2 || !bytes.Equal(r.Bins[1].Bytes, want.Bins[1].Data) {
						t.Fatalf("%s: record %x does not match the server", f, r.Digest)
					}
				}
				if len(recs) != len(blocks) {
					t.Fatalf("%s: %d records read, %d blocks", f, len(recs), len(blocks))
				}
			}
			if firsts != 1 {
				t.Errorf("%d files carry # first-file, want 1", firsts)
			}
			dups := 0
			for _, n := range seen {
				if n > 1 {
					dups++
				}
			}
			for _, r := range srv.Records("test") {
				if seen[r.Digest] == 0 {
					p := asdsim.PartitionOf(r.Digest)
					t.Errorf("missing record %x of partition %d (saved status %v)", r.Digest, p, st.Partitions[p].Status)
				}
			}
			if dups != 0 || len(seen) != total {
				t.Fatalf("%d distinct records, %d duplicated; want %d exactly once", len(seen), dups, total)
			}
		})
	}
}

// legacyDecode decodes a backup file independently of the stream package:
// header → IV, AES-CTR from IV+1, then any concatenation of zstd frames.
func legacyDecode(t *testing.T, path string, m legacyMode) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var key []byte
	if m.cipher != stream.None {
		key = m.key()
	}
	return independentDecode(t, path, data, key, m.zstd)
}

// independentDecode turns a backup file's bytes into its text without the
// stream package: with a key, a 16-byte header AES-ECB(key, V) and
// AES-CTR from V+1 over the rest; when compressed, then every concatenated
// zstd frame.
func independentDecode(t testing.TB, name string, data, key []byte, compressed bool) []byte {
	t.Helper()
	if key != nil {
		if len(data) < 16 {
			t.Fatalf("%s: %d bytes, no IV header", name, len(data))
		}
		b, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		var iv [16]byte
		b.Decrypt(iv[:], data[:16])
		plain := make([]byte, len(data)-16)
		cipher.NewCTR(b, ivPlus(iv, 1)).XORKeyStream(plain, data[16:])
		data = plain
	}
	if compressed {
		dec, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		out, err := io.ReadAll(dec)
		if err != nil {
			t.Fatalf("%s: zstd: %v", name, err)
		}
		data = out
	}
	return data
}
