package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"asbtools/asdsim"
	"asbtools/state"
	"asbtools/stream"
)

// legacyPartSize is the part size legacy 4.5.8 uses for the files of a
// directory backup with the default --file-limit (_calc_part_size: the
// expected file size / 10,000, at least 5 MiB).
const legacyPartSize = 5 << 20

// legacyCut returns where the bytes of a legacy stream stand at the save:
// E[:a] went to the file proxy (on S3: uploaded parts, failed parts and the
// upload manager's buffer), E[a:b] is in the encrypted buffer (4 KiB in
// AES-only mode) and C[b-hdr:] in the compressed buffer (131,591 bytes).
func legacyCut(m legacyMode, e int) (a, b int) {
	switch {
	case !m.zstd && m.cipher == stream.None:
		return e, e
	case !m.zstd:
		return e - 3000, e
	case m.cipher == stream.None:
		return e - 60000, e - 60000
	default:
		return e - 120000, e - 60000
	}
}

// TestS3ContinueLegacyState builds the bucket and the .state file legacy
// 4.5.8 leaves after an interruption of a 2-job backup to S3 (state-and-
// streams.md A.3, the UploadManager layout): a closed object, an open
// multipart upload with one uploaded part, one part whose upload failed
// (its bytes are in the state) and the upload buffer, and an open upload
// without parts, each with data still in the text, compressed and
// encrypted buffers. `asbackup --continue` must finish the backup with
// every record exactly once, keep the bytes legacy already wrote, leave no
// incomplete upload, and the objects must restore to the source records.
func TestS3ContinueLegacyState(t *testing.T) {
	srv := startServer(t, asdsim.Config{})
	const total = 22000
	recs := make([]asdsim.Record, 0, total)
	noise := make([]byte, 1200)
	for i := 0; i < total; i++ {
		if _, err := rand.Read(noise); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, asdsim.Record{Set: "ls", Key: asdsim.IntKey(int64(i)), Bins: []asdsim.Bin{
			asdsim.IntBin("n", int64(i)),
			{Name: "s", Type: asdsim.ParticleString, Data: []byte(fmt.Sprintf("s3-%06d-%s", i, base64.StdEncoding.EncodeToString(noise)))},
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
	count := func(begin, n int) int {
		c := 0
		for p := begin; p < begin+n; p++ {
			c += len(parts[p])
		}
		return c
	}
	bucket := s3Bucket(t)
	client := s3Server(t).Client()
	ctx := context.Background()

	modes := []legacyMode{
		{name: "plain"},
		{name: "zstd-aes128", zstd: true, cipher: stream.AES128},
		{name: "aes256", cipher: stream.AES256},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			work := t.TempDir()
			prefix := "legacy-" + m.name
			dir := "s3://" + bucket + "/" + prefix
			key := func(i int) string { return fmt.Sprintf("%s/test_%05d.asb", prefix, i) }
			st := &state.State{FileCount: 3}
			var recTotal, byteTotal uint64
			// Records still in the text buffer: it holds 4 KiB without
			// compression, 131,591 bytes with it.
			inText := 2
			if m.zstd {
				inText = 25
			}
			// open starts a legacy upload of key(i): E[:a] split into
			// uploaded parts, failed parts (every second one from the
			// second on) and the upload buffer.
			open := func(i int, lw *legacyWriter, pending []byte, n int, failSecond bool) ([]byte, int) {
				e := lw.fileBytes()
				a, b := legacyCut(m, len(e))
				ent := lw.entry(dir+fmt.Sprintf("/test_%05d.asb", i), a, b, pending, uint64(n))
				ent.FileFlags = state.FileS3
				cr, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key(i))})
				if err != nil {
					t.Fatal(err)
				}
				up := &state.S3Upload{PartNumber: 1, UploadID: aws.ToString(cr.UploadId), MinPartSize: legacyPartSize}
				off := 0
				for off+legacyPartSize <= a {
					data := e[off : off+legacyPartSize]
					if failSecond && up.PartNumber == 2 {
						up.Failed = append(up.Failed, state.S3FailedPart{PartNumber: up.PartNumber, Data: data})
					} else {
						res, err := client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key(i)),
							UploadId: cr.UploadId, PartNumber: aws.Int32(int32(up.PartNumber)), Body: bytes.NewReader(data)})
						if err != nil {
							t.Fatal(err)
						}
						up.Parts = append(up.Parts, state.S3Part{PartNumber: up.PartNumber, ETag: aws.ToString(res.ETag)})
					}
					up.PartNumber++
					off += legacyPartSize
				}
				up.Pending = e[off:a]
				ent.S3 = up
				st.Files = append(st.Files, ent)
				recTotal += uint64(n)
				byteTotal += uint64(a)
				return e[:a], int(up.PartNumber)
			}

			// Job 0 (partitions 0-2047): its first file was closed at the
			// size limit, the next one is an upload with parts.
			job0 := cutJob(parts, st, 0, 2048, count(0, 2048)*19/20)
			closed := job0[:len(job0)/10]
			open0 := job0[len(job0)/10:]
			lw := newLegacyWriter(t, m)
			lw.frame(append(legacyHeader(true), textOf(t, closed)...))
			e0 := lw.fileBytes()
			s3Put(t, bucket, key(0), e0)
			recTotal += uint64(len(closed))
			byteTotal += uint64(len(e0))
			st.ByteCommitted += uint64(len(e0))
			st.RecCommitted += uint64(len(closed))

			lw = newLegacyWriter(t, m)
			body := open0[:len(open0)-inText]
			lw.frame(append(legacyHeader(false), textOf(t, body[:len(body)/2])...))
			lw.frame(textOf(t, body[len(body)/2:]))
			saved2, next2 := open(2, lw, textOf(t, open0[len(open0)-inText:]), len(open0), true)
			if next2 < 3 {
				t.Fatalf("file 2 has %d bytes on S3, want at least two parts", len(saved2))
			}

			// Job 1 (partitions 2048-4095): its only file is an upload
			// without parts.
			job1 := cutJob(parts, st, 2048, 2048, 1500)
			lw = newLegacyWriter(t, m)
			lw.frame(append(legacyHeader(false), textOf(t, job1[:len(job1)-inText])...))
			saved1, next1 := open(1, lw, textOf(t, job1[len(job1)-inText:]), len(job1), false)
			if next1 != 1 {
				t.Fatalf("file 1 has %d parts", next1-1)
			}
			st.RecTotal, st.ByteTotal = recTotal, byteTotal
			if err := st.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := state.Save(filepath.Join(work, "test.asb.state"), st); err != nil {
				t.Fatal(err)
			}

			env := s3Env(t, "ASB_LEGACY_KEY="+base64.StdEncoding.EncodeToString([]byte(legacyKeyMaterial)))
			args := append(append(append(hostArgs(srv), "-n", "test", "-d", dir, "--parallel", "2",
				"--continue", "test.asb.state"), m.args()...), s3Flags(t)...)
			res := runTool(t, "asbackup", work, env, args...)
			if res.code != 0 {
				t.Fatalf("--continue exit %d:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, fmt.Sprintf("Backed up %d record(s)", total)) {
				t.Errorf("summary does not report %d records:\n%s", total, lastLines(res.stderr, 3))
			}
			for _, u := range s3Uploads(t, bucket) {
				if strings.HasPrefix(u, prefix+"/") {
					t.Errorf("incomplete upload left: %s", u)
				}
			}
			for i, saved := range map[int][]byte{1: saved1, 2: saved2} {
				if got := s3Get(t, bucket, key(i)); !bytes.HasPrefix(got, saved) {
					t.Errorf("%s does not begin with the %d bytes legacy wrote", key(i), len(saved))
				}
			}
			if got := s3Get(t, bucket, key(0)); !bytes.Equal(got, e0) {
				t.Errorf("the closed object %s was changed", key(0))
			}

			local := filepath.Join(work, "copy")
			if err := os.Mkdir(local, 0o755); err != nil {
				t.Fatal(err)
			}
			files := s3Download(t, bucket, prefix+"/", local)
			if len(files) < 3 {
				t.Fatalf("objects: %v", files)
			}
			seen := map[[20]byte]int{}
			firsts := 0
			for _, f := range files {
				text := legacyDecode(t, f, m)
				if bytes.Contains(text, []byte("# first-file\n")) {
					firsts++
				}
				recs, _, _ := readEntries(t, f, bytes.NewReader(text))
				for _, r := range recs {
					seen[r.Digest]++
					want, ok := srv.Get("test", r.Digest)
					if !ok || len(r.Bins) != 2 || !bytes.Equal(r.Bins[1].Bytes, want.Bins[1].Data) {
						t.Fatalf("%s: record %x does not match the server", f, r.Digest)
					}
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
			if dups != 0 || len(seen) != total {
				t.Fatalf("%d distinct records, %d duplicated; want %d exactly once", len(seen), dups, total)
			}

			dst := startServer(t, asdsim.Config{})
			rargs := append(append(append(hostArgs(dst), "-d", dir), m.args()...), s3Flags(t)...)
			res = runTool(t, "asrestore", work, env, rargs...)
			if res.code != 0 {
				t.Fatalf("restore: exit %d\n%s", res.code, lastLines(res.stderr, 5))
			}
			sameServerContent(t, srv, dst)
		})
	}
}
