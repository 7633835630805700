package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"asbtools/logging"
	"asbtools/msg"
)

// digestFor returns a digest belonging to partition p.
func digestFor(p int, fill byte) [20]byte {
	var d [20]byte
	for i := range d {
		d[i] = fill
	}
	d[0] = byte(p)
	d[1] = byte(p>>8) | (fill & 0xf0)
	return d
}

func TestStatusWordsVerifiedExample(t *testing.T) {
	s := &State{}
	s.Partitions[0] = PartitionState{Complete, digestFor(0, 0xa1)}
	s.Partitions[1] = PartitionState{Incomplete, digestFor(1, 0xb2)}
	s.Partitions[2].Status = NotStarted
	s.Partitions[3].Status = CompleteEmpty
	s.Partitions[21].Status = NotStarted
	s.Partitions[4095].Status = NotStarted
	b := s.Bytes()
	if len(b) != 83544 {
		t.Fatalf("size %d", len(b))
	}
	word := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	if word(0) != 0x8D1 || word(1) != 0x3 || word(195) != 0x3 {
		t.Fatalf("words %#x %#x %#x", word(0), word(1), word(195))
	}
	if !bytes.Equal(b[1568+20:1568+40], s.Partitions[1].Digest[:]) {
		t.Fatal("digest slot of partition 1")
	}
	got, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Partitions != s.Partitions {
		t.Fatal("partitions differ after round trip")
	}
	if got.IsComplete() {
		t.Fatal("IsComplete with incomplete partitions")
	}
}

// writeLegacyPrefix writes the part of a state file before its file
// entries, field by field as state-and-streams.md A lays it out (one file
// entry follows), and returns big-endian writers to b.
func writeLegacyPrefix(b *bytes.Buffer) (be64 func(uint64), be32 func(uint32)) {
	words := make([]byte, 1568)
	// Partitions 0..20 NOT_STARTED, partition 21 INCOMPLETE.
	var w0 uint64
	for p := 0; p < 21; p++ {
		w0 |= 3 << (3 * p)
	}
	binary.LittleEndian.PutUint64(words[0:], w0)
	binary.LittleEndian.PutUint64(words[8:], 2)
	b.Write(words)
	digests := make([]byte, 81920)
	d := digestFor(21, 0x77)
	copy(digests[20*21:], d[:])
	b.Write(digests)
	be64 = func(v uint64) { _ = binary.Write(b, binary.BigEndian, v) }
	be32 = func(v uint32) { _ = binary.Write(b, binary.BigEndian, v) }
	be64(4)    // file_count
	be32(3)    // index_count
	be32(2)    // udf_count
	be64(100)  // rec total
	be64(5000) // byte total
	be64(95)   // rec committed
	be64(4000) // byte committed
	be64(1)    // n_files
	return be64, be32
}

// legacyExample builds, byte by byte from the layout description, the
// verified example entry: zstd + AES-128, nothing flushed, 29 bytes pending.
func legacyExample(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	be64, be32 := writeLegacyPrefix(&b)
	// io-proxy header
	be64(0)
	be64(16)
	be32(0)
	b.WriteByte(0x05)
	b.Write([]byte{0x6b, 0x02, 0x43, 0xdb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	b.Write([]byte{0, 0, 0})
	// main buffer
	be64(131591)
	be64(29)
	be64(0)
	b.WriteString("Version 3.1\n# namespace test\n")
	// compressed buffer: an empty frame
	be64(131591)
	be64(9)
	be64(0)
	b.Write([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00})
	// encrypted buffer: the IV header
	be64(131591)
	be64(16)
	be64(0)
	b.Write(bytes.Repeat([]byte{0xee}, 16))
	// file proxy
	be64(0)
	b.WriteByte(0)
	be64(uint64(len("backup/test_00003.asb")))
	b.WriteString("backup/test_00003.asb")
	be64(5) // rec_count_file
	return b.Bytes()
}

func TestLegacyLayoutEntry(t *testing.T) {
	raw := legacyExample(t)
	s, err := Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s.FileCount != 4 || s.IndexCount != 3 || s.UDFCount != 2 || s.RecTotal != 100 || s.ByteTotal != 5000 || s.RecCommitted != 95 || s.ByteCommitted != 4000 {
		t.Fatalf("counters %+v", s)
	}
	if s.Partitions[20].Status != NotStarted || s.Partitions[21].Status != Incomplete || s.Partitions[22].Status != None {
		t.Fatal("statuses")
	}
	if len(s.Files) != 1 {
		t.Fatalf("%d files", len(s.Files))
	}
	e := s.Files[0]
	if e.ByteCount != 0 || e.RawByteCount != 16 || e.Num != 0 || e.Flags != 0x05 || e.Mode() != 0x05 || e.IV[0] != 0x6b || e.IV[15] != 12 {
		t.Fatalf("header %+v", e)
	}
	if string(e.Main.Pending()) != "Version 3.1\n# namespace test\n" || e.Main.Size != 131591 {
		t.Fatalf("main %+v", e.Main)
	}
	if e.Compressed == nil || len(e.Compressed.Pending()) != 9 || e.Encrypted == nil || len(e.Encrypted.Pending()) != 16 {
		t.Fatal("compressed/encrypted buffers")
	}
	if e.FilePos != 0 || e.FileFlags != 0 || e.Path != "backup/test_00003.asb" || e.RecCount != 5 || e.S3 != nil {
		t.Fatalf("file record %+v", e)
	}
	if !bytes.Equal(s.Bytes(), raw) {
		t.Fatal("re-serialisation differs from the legacy bytes")
	}
}

func TestRoundTripAllEntryKinds(t *testing.T) {
	s := &State{FileCount: 7, IndexCount: 1, UDFCount: 1, RecTotal: 1 << 40, ByteTotal: 1<<63 + 5}
	for p := 0; p < NumPartitions; p++ {
		switch p % 4 {
		case 0:
			s.Partitions[p] = PartitionState{Complete, digestFor(p, byte(p))}
		case 1:
			s.Partitions[p] = PartitionState{Incomplete, digestFor(p, byte(p*7))}
		case 2:
			s.Partitions[p].Status = NotStarted
		case 3:
			s.Partitions[p].Status = CompleteEmpty
		}
	}
	s.Files = []FileEntry{
		{ByteCount: 10, RawByteCount: 10, Main: Buffer{Size: 4096, DataPos: 2, Data: []byte("abcd")}, FilePos: 10, Path: "dir/test_00000.asb", RecCount: 3},
		{ByteCount: 99, RawByteCount: 300, Num: 7, Flags: 0x02 | 0x20, IV: [16]byte{1, 2, 3}, Main: Buffer{Size: 4096},
			Encrypted: &Buffer{Size: 4096, Data: []byte{9, 9}}, FilePos: 99, Path: "-", RecCount: 1},
		{Flags: 0x04, Main: Buffer{Size: 131072}, Compressed: &Buffer{Size: 131072, Data: []byte{1}}, FileFlags: FileS3,
			Path: "s3://bucket/dir/test_00002.asb", RecCount: 8,
			S3: &S3Upload{PartNumber: 3, UploadID: "upl-1", MinPartSize: 5 << 20, Pending: []byte("pending"),
				Parts:  []S3Part{{1, "\"etag1\""}, {2, "\"etag2\""}},
				Failed: []S3FailedPart{{2, []byte("part2data")}}}},
	}
	raw := s.Bytes()
	got, err := Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	// "-" is saved with fpos 0.
	if !bytes.Equal(got.Bytes(), raw) || got.Files[1].FilePos != 0 || got.Files[1].Flags != 0x22 || got.Files[1].Mode() != 0x02 {
		t.Fatal("round trip differs")
	}
	u := got.Files[2].S3
	if u == nil || u.UploadID != "upl-1" || len(u.Parts) != 2 || u.Parts[1].ETag != "\"etag2\"" || string(u.Failed[0].Data) != "part2data" || string(u.Pending) != "pending" {
		t.Fatalf("s3 %+v", u)
	}
	if got.Partitions != s.Partitions || got.ByteTotal != s.ByteTotal {
		t.Fatal("partitions/counters")
	}
	// Every truncation point fails cleanly with the legacy lines.
	for n := 0; n < len(raw); n += 1 + n/64 {
		if _, err := Read(bytes.NewReader(raw[:n])); err == nil {
			t.Fatalf("truncated at %d accepted", n)
		} else if me, ok := err.(*msg.Error); !ok || len(me.Lines) == 0 {
			t.Fatalf("truncated at %d: %T %v", n, err, err)
		}
	}
}

func expectLoadErr(t *testing.T, raw []byte, want ...string) {
	t.Helper()
	_, err := Read(bytes.NewReader(raw))
	var le *msg.Error
	if !errors.As(err, &le) {
		t.Fatalf("want %q, got %v", want, err)
	}
	var got []string
	for _, l := range le.Lines {
		if l.Level != logging.Error {
			t.Fatalf("not an ERR line: %+v", l)
		}
		got = append(got, l.Text)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestValidationErrors(t *testing.T) {
	garbage, err := os.ReadFile("../test/golden/cli/files/garbage.state")
	if err != nil {
		t.Fatal(err)
	}
	expectLoadErr(t, garbage, "Unable to read all data from the backup state file")
	base := (&State{}).Bytes()
	expectLoadErr(t, base[:83487], "Unable to read all data from the backup state file")
	for _, c := range []struct {
		cut int
		msg string
	}{
		{83488, "Error while reading file count from backup state"},
		{83496, "Error while reading index count from backup state"},
		{83500, "Error while reading udf count from backup state"},
		{83504, "Error while reading record count total from backup state"},
		{83512, "Error while reading byte count total from backup state"},
		{83520, "Error while reading record count total committed from backup state"},
		{83528, "Error while reading byte count total committed from backup state"},
		{83536, "Failed to read the number of backup files from the backup state file"},
	} {
		expectLoadErr(t, base[:c.cut+3], c.msg)
	}
	ex := legacyExample(t)
	entry := 83544
	expectLoadErr(t, ex[:entry+39], "Reading serialized io_proxy from file failed", deserializeIO)
	expectLoadErr(t, ex[:entry+40+23], "Deserializing consumer buffer fields from file failed", deserializeIO)
	expectLoadErr(t, ex[:entry+40+24+28], "Deserializing consumer buffer data from file failed", deserializeIO)
	nameAt := len(ex) - 8 - 21 - 8 - 9
	expectLoadErr(t, ex[:nameAt+8], "Failed to read serialized metadata for io proxy", deserializeIO)
	expectLoadErr(t, ex[:nameAt+9+7], "Failed to read file name length for serialized io proxy", deserializeIO)
	expectLoadErr(t, ex[:nameAt+9+8+20], "Unable to read file name of serialized io proxy", deserializeIO)
	expectLoadErr(t, ex[:len(ex)-1], "Failed to read rec_count_file from backup state file")

	// Partition checks run after the whole file was read.
	bad := append([]byte(nil), base...)
	bad[0] = 5 // partition 0 status 5
	expectLoadErr(t, bad, "Unexpected backup state status 0x05")
	bad = append([]byte(nil), base...)
	bad[1568+20*7+3] = 1 // NONE partition 7 with a digest
	expectLoadErr(t, bad, "Expected zero-valued digest at partition id 7 (0)")
	bad = append([]byte(nil), base...)
	binary.LittleEndian.PutUint64(bad[8*195:], 4) // p4095 COMPLETE_EMPTY with digest
	bad[1568+20*4095] = 9
	expectLoadErr(t, bad, "Expected zero-valued digest at partition id 4095 (4)")
	bad = append([]byte(nil), base...)
	binary.LittleEndian.PutUint64(bad[8:], 1<<3) // p22 COMPLETE
	d := digestFor(23, 0x10)
	copy(bad[1568+20*22:], d[:])
	expectLoadErr(t, bad, "Digest for partition id 22 belongs to partition 23")

	// Buffer records that would overrun legacy's buffer are refused.
	over := append([]byte(nil), ex...)
	binary.BigEndian.PutUint64(over[entry+40:], 10) // size 10 < pos 29
	expectLoadErr(t, over, "Invalid consumer buffer in the backup state file: size 10, pos 29, data_pos 0", deserializeIO)
	// A huge bogus length fails on the short read, without a huge allocation.
	huge := append([]byte(nil), ex...)
	binary.BigEndian.PutUint64(huge[entry+40:], 1<<60)
	binary.BigEndian.PutUint64(huge[entry+48:], 1<<59)
	expectLoadErr(t, huge, "Deserializing consumer buffer data from file failed", deserializeIO)
}

func TestLoadSaveAndOpenAppend(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.state")
	_, err := Load(missing)
	want := "Failed to open file " + missing + " in \"r\" mode (error 2: No such file or directory)\nUnable to open file " + missing + " for reading"
	if err == nil || err.Error() != want {
		t.Fatalf("got %q", err)
	}
	if _, err := Load(dir); err == nil || err.Error() != "Unable to read all data from the backup state file" {
		t.Fatalf("directory: %v", err)
	}

	bk := filepath.Join(dir, "test_00000.asb")
	os.WriteFile(bk, []byte("0123456789"), 0o644)
	s := &State{FileCount: 1, Files: []FileEntry{{Path: bk, FilePos: 10, ByteCount: 10}}}
	s.Partitions[5].Status = NotStarted
	p := filepath.Join(dir, "test.asb.state")
	if err := Save(p, s); err != nil {
		t.Fatal(err)
	}
	if err := Save(p, s); err != nil { // overwrite
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), s.Bytes()) {
		t.Fatal("saved state differs")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("temporary files left: %v", ents)
	}
	f, err := OpenAppend(&got.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("X")
	f.Close()
	_, err = OpenAppend(&got.Files[0])
	if err == nil || err.Error() != "Expected file pos (10) did not match file pos (11) for file ("+bk+") opened in append mode\n"+deserializeIO {
		t.Fatalf("got %q", err)
	}
	if f, err := OpenAppend(&FileEntry{Path: "-"}); err != nil || f != nil {
		t.Fatal("stdout entry")
	}
	if _, err := OpenAppend(&FileEntry{Path: "-", FilePos: 3}); err == nil || !strings.HasPrefix(err.Error(), "Expected file pos must be 0 when opening a file in write mode") {
		t.Fatalf("stdout fpos: %v", err)
	}
}

func TestStatePath(t *testing.T) {
	dirs := map[string]bool{"/states": true}
	isDir := func(p string) bool { return dirs[p] }
	for _, c := range []struct {
		in    PathInput
		want  string
		check bool
	}{
		{PathInput{Namespace: "test", Directory: "/bk"}, "/bk/test.asb.state", false},
		{PathInput{Namespace: "test", Directory: "/bk/"}, "/bk//test.asb.state", false},
		{PathInput{Namespace: "test", Prefix: "pre", Directory: "/bk"}, "/bk/pre.asb.state", false},
		{PathInput{Namespace: "test", OutputFile: "out.asb"}, "out.asb.state", false},
		{PathInput{Namespace: "test", OutputFile: "-"}, "test.asb.state", false},
		{PathInput{Namespace: "test", OutputFile: "s3://b/k.asb"}, "test.asb.state", false},
		{PathInput{Namespace: "test", Directory: "s3://b/dir"}, "test.asb.state", false},
		{PathInput{Namespace: "test", Directory: "/bk", StateFileDst: "/states"}, "/states/test.asb.state", false},
		{PathInput{Namespace: "test", Directory: "/bk", StateFileDst: "/x/my.state"}, "/x/my.state", true},
		{PathInput{Namespace: "test", OutputFile: "-", StateFileDst: "s3://b/s"}, "s3://b/s", false},
		{PathInput{Namespace: "test", Directory: "/bk", Estimate: true, StateFileDst: "/states"}, "", false},
	} {
		got, check, err := StatePath(c.in, isDir)
		if err != nil || got != c.want || check != c.check {
			t.Errorf("%+v: got %q %v %v", c.in, got, check, err)
		}
	}
	if _, _, err := StatePath(PathInput{Namespace: "test"}, isDir); err == nil {
		t.Error("no target accepted")
	}

	dir := t.TempDir()
	r, err := ResolveStatePath(PathInput{Namespace: "test", Directory: "/bk", StateFileDst: dir})
	if err != nil || r.Path != dir+"/test.asb.state" {
		t.Errorf("dir dst: %+v %v", r, err)
	}
	newFile := filepath.Join(dir, "new.state")
	r, err = ResolveStatePath(PathInput{Namespace: "test", OutputFile: "o.asb", StateFileDst: newFile})
	if err != nil || r.Path != newFile {
		t.Errorf("new file dst: %+v %v", r, err)
	}
	if _, err := os.Stat(newFile); !os.IsNotExist(err) {
		t.Error("probe file left behind")
	}
	bad := filepath.Join(dir, "no-such-dir", "x.state")
	_, err = ResolveStatePath(PathInput{Namespace: "test", OutputFile: "o.asb", StateFileDst: bad})
	if err == nil || err.Error() != "Failed to open state file \""+bad+"\", reason: No such file or directory" {
		t.Errorf("bad dst: %v", err)
	}
	_, err = ResolveStatePath(PathInput{Namespace: "test", Directory: "s3://b/dir/", StateFileDst: "s3://b/dir"})
	if err == nil || err.Error() != "--state-file-dst cannot be the same S3 path as --directory" {
		t.Errorf("s3 conflict: %v", err)
	}
	r, err = ResolveStatePath(PathInput{Namespace: "test", Directory: "s3://b/dir/", StateFileDst: "s3://b/st/"})
	if err != nil || r.Path != "s3://b/st" || r.Directory != "s3://b/dir" {
		t.Errorf("s3 strip: %+v %v", r, err)
	}
	r, _ = ResolveStatePath(PathInput{Namespace: "test", Directory: "/bk", Estimate: true, StateFileDst: "/x"})
	if !r.IgnoredDst || r.Path != "" {
		t.Errorf("estimate: %+v", r)
	}
}

func TestNarrow(t *testing.T) {
	s := &State{}
	for p := 0; p < 8; p++ {
		s.Partitions[p].Status = NotStarted
	}
	s.Partitions[1] = PartitionState{Incomplete, digestFor(1, 0x50)}
	s.Partitions[2] = PartitionState{Complete, digestFor(2, 0x60)}
	s.Partitions[3].Status = CompleteEmpty

	out, err := Narrow(s, []Filter{{Begin: 0, Count: 4}, {Begin: 4, Count: 4}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || len(out[0]) != 4 || out[0][0].After != nil || *out[0][1].After != s.Partitions[1].Digest ||
		*out[0][2].After != s.Partitions[2].Digest || out[0][3].After != nil || out[1][3].ID != 7 {
		t.Fatalf("narrowed %+v", out)
	}
	// Different parallelism, same partition set: fine.
	if _, err := Narrow(s, []Filter{{Begin: 0, Count: 2}, {Begin: 2, Count: 3}, {Begin: 5, Count: 3}}, false); err != nil {
		t.Fatal(err)
	}
	_, err = Narrow(s, []Filter{{Begin: 0, Count: 9}}, false)
	if err == nil || err.Error() != "Partition 8 was not saved in the backup state file" {
		t.Fatalf("got %v", err)
	}
	_, err = Narrow(s, []Filter{{Begin: 0, Count: 4}, {Begin: 3, Count: 5}}, false)
	if err == nil || err.Error() != "Partition 3 was not saved in the backup state file" {
		t.Fatalf("overlap: %v", err)
	}
	_, err = Narrow(s, []Filter{{Begin: 0, Count: 7}}, false)
	if err == nil || err.Error() != "Error while narrowing partition filters from backup state file: partition 7 was not covered by any partition range" {
		t.Fatalf("uncovered: %v", err)
	}
	out, err = Narrow(s, []Filter{{Begin: 0, Count: 10}}, true)
	if err != nil || !out[0][9].Skip || out[0][9].After[0] != 9 || out[0][8].After[1] != 0 || out[0][7].Skip {
		t.Fatalf("node-list: %+v %v", out, err)
	}
	// Digest filters.
	low := digestFor(1, 0x40)  // below the saved digest (0x50...)
	high := digestFor(1, 0x70) // above it
	_, err = Narrow(s, []Filter{{Begin: 1, Count: 1, Digest: &low}, {Begin: 0, Count: 1}, {Begin: 2, Count: 6}}, false)
	if err == nil || !strings.HasPrefix(err.Error(), "Digest value AUBAQEBAQEBAQEBAQEBAQEBAQEA= is below the after-digest AVBQUFBQUFBQUFBQUFBQUFBQUFA= of partition 1") {
		t.Fatalf("digest below: %v", err)
	}
	out, err = Narrow(s, []Filter{{Begin: 1, Count: 1, Digest: &high}, {Begin: 0, Count: 1}, {Begin: 2, Count: 6}}, false)
	if err != nil || *out[0][0].After != s.Partitions[1].Digest {
		t.Fatalf("digest above: %+v %v", out, err)
	}
	d0 := digestFor(0, 0x33)
	out, err = Narrow(s, []Filter{{Begin: 0, Count: 1, Digest: &d0}, {Begin: 1, Count: 7}}, false)
	if err != nil || *out[0][0].After != d0 {
		t.Fatalf("digest filter on NOT_STARTED: %+v %v", out, err)
	}
	// The state is not modified.
	if s.Partitions[1].Status != Incomplete {
		t.Fatal("state modified")
	}
}

func TestResumeChecks(t *testing.T) {
	s := &State{RecTotal: 50, FileCount: 3, Files: []FileEntry{{Path: "bk/test_00001.asb", Flags: 0x25}}}
	if n, err := CheckMaxRecords(s, 80); n != 30 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := CheckMaxRecords(s, 49); err == nil || err.Error() != "Continuing backup with 50 records already backed up, but --max-records set to 49" {
		t.Fatal(err)
	}
	if err := CheckOutputFile(s, "bk/test_00001.asb"); err != nil {
		t.Fatal(err)
	}
	if err := CheckOutputFile(s, "./bk/test_00001.asb"); err == nil || err.Error() != `Expected output file name of "./bk/test_00001.asb", but found "bk/test_00001.asb" in the backup state file` {
		t.Fatal(err)
	}
	if err := CheckOutputFile(&State{}, "x"); err == nil || err.Error() != "Expected 1 backup file save state for resuming backup-to-file, but found 0 in the backup state file" {
		t.Fatal(err)
	}
	if err := CheckFlags(&s.Files[0], 0x05); err != nil {
		t.Fatal(err)
	}
	if err := CheckFlags(&s.Files[0], 0x04); err == nil || err.Error() != "io_proxy flags (04) do not match the serialized flags (05), make sure the io_proxy is initialized in the same matter as it was when serialized." {
		t.Fatal(err)
	}
	names := []string{"test_00000.asb", "test_00001.asb", "test_00002.asb", "notes.txt", ".asb"}
	if err := CheckDirectory(s, "bk", names); err != nil {
		t.Fatal(err)
	}
	if err := CheckDirectory(s, "bk/", names); err == nil || err.Error() != "Expected 1 incomplete backup files per the backup state, but found 0" {
		t.Fatal(err)
	}
	if err := CheckDirectory(s, "bk", names[1:]); err == nil || err.Error() != "Expected 3 backup files, but found 2" {
		t.Fatal(err)
	}
}

// sliceWriter records the slices it is given.
type sliceWriter struct {
	out    bytes.Buffer
	writes [][]byte
}

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, p)
	return w.out.Write(p)
}

// TestWriteToPassesLargeFields: WriteTo writes what Bytes returns, and
// hands the large fields (a part being filled, a failed part, a stream
// buffer) to the writer as they are, not copied into the encoding.
func TestWriteToPassesLargeFields(t *testing.T) {
	pending := bytes.Repeat([]byte("p"), 5<<20)
	failed := bytes.Repeat([]byte("f"), 1<<20)
	main := bytes.Repeat([]byte("m"), 128<<10)
	s := &State{FileCount: 2}
	s.Files = []FileEntry{
		{Main: Buffer{Size: 4096, Data: []byte("small")}, Path: "s3://b/d/test_00000.asb", FileFlags: FileS3,
			S3: &S3Upload{PartNumber: 4, UploadID: "u", MinPartSize: 5 << 20, Pending: pending,
				Parts:  []S3Part{{1, "\"e1\""}, {3, "\"e3\""}},
				Failed: []S3FailedPart{{2, failed}}}, RecCount: 9},
		{Main: Buffer{Size: 1 << 20, Data: main}, Path: "d/test_00001.asb", RecCount: 1},
	}
	var w sliceWriter
	n, err := s.WriteTo(&w)
	if err != nil {
		t.Fatal(err)
	}
	if want := s.Bytes(); n != int64(len(want)) || !bytes.Equal(w.out.Bytes(), want) {
		t.Fatalf("WriteTo wrote %d bytes, Bytes has %d; equal %v", n, len(want), bytes.Equal(w.out.Bytes(), want))
	}
	for _, big := range [][]byte{pending, failed, main} {
		passed := false
		for _, p := range w.writes {
			passed = passed || len(p) == len(big) && &p[0] == &big[0]
		}
		if !passed {
			t.Errorf("a field of %d bytes was copied, not written as it is", len(big))
		}
	}
	if _, err := Read(bytes.NewReader(w.out.Bytes())); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyLayoutS3Entry reads an S3 file entry built byte by byte from
// the layout of state-and-streams.md A (FILE-PROXY RECORD with its UPLOAD
// STATE: a plain file, two parts uploaded, one failed, bytes pending) and
// writes the same bytes back.
func TestLegacyLayoutS3Entry(t *testing.T) {
	var b bytes.Buffer
	be64, be32 := writeLegacyPrefix(&b)
	bytes32 := func(s string) { be32(uint32(len(s))); b.WriteString(s) }
	// io-proxy header: plain, 12 MiB + 7 written
	be64(12<<20 + 7)
	be64(12<<20 + 7)
	be32(3)
	b.WriteByte(0x00)
	b.Write(make([]byte, 16+3))
	// main buffer: nothing pending
	be64(4096)
	be64(0)
	be64(0)
	// file proxy: S3
	path := "s3://bucket/dir/test_00003.asb"
	be64(12<<20 + 7)
	b.WriteByte(0x01)
	be64(uint64(len(path)))
	b.WriteString(path)
	be32(4) // next part
	bytes32("upload-id-1")
	be64(5 << 20) // min part size
	bytes32("pending bytes")
	be32(2)
	be32(1)
	bytes32(`"etag-1"`)
	be32(3)
	bytes32(`"etag-3"`)
	be32(1)
	be32(2)
	bytes32("failed part 2")
	be64(42) // rec_count_file
	raw := b.Bytes()

	s, err := Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 1 {
		t.Fatalf("%d files", len(s.Files))
	}
	e := s.Files[0]
	if !e.IsS3() || e.FileFlags != FileS3 || e.Path != path || e.FilePos != 12<<20+7 || e.RecCount != 42 || e.Num != 3 {
		t.Fatalf("file record %+v", e)
	}
	u := e.S3
	if u == nil || u.PartNumber != 4 || u.UploadID != "upload-id-1" || u.MinPartSize != 5<<20 || string(u.Pending) != "pending bytes" ||
		len(u.Parts) != 2 || u.Parts[0] != (S3Part{1, `"etag-1"`}) || u.Parts[1] != (S3Part{3, `"etag-3"`}) ||
		len(u.Failed) != 1 || u.Failed[0].PartNumber != 2 || string(u.Failed[0].Data) != "failed part 2" {
		t.Fatalf("upload state %+v", u)
	}
	if !bytes.Equal(s.Bytes(), raw) {
		t.Fatal("re-serialisation differs from the legacy bytes")
	}
	var w sliceWriter
	if _, err := s.WriteTo(&w); err != nil || !bytes.Equal(w.out.Bytes(), raw) {
		t.Fatalf("WriteTo differs from the legacy bytes (%v)", err)
	}
}
