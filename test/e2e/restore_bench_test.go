package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"asbtools/asb"
	"asbtools/asdsim"
	"asbtools/stream"
)

// benchRecords is the record count of the restore benchmarks
// (ASB_BENCH_RECORDS overrides the default of 1M).
func benchRecords() int {
	if v, err := strconv.Atoi(os.Getenv("ASB_BENCH_RECORDS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// writeBenchFiles writes n records of about 200 bytes of bin data split
// over files backup files in dir, through the stream of opts when not nil.
func writeBenchFiles(b *testing.B, dir string, n, files int, opts *stream.Options) {
	b.Helper()
	payload := make([]byte, 150)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	for f := 0; f < files; f++ {
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("test_%05d.asb", f)))
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(fh, 1<<20)
		var dst io.Writer = bw
		var sw *stream.Writer
		if opts != nil {
			if sw, err = stream.NewWriter(bw, *opts); err != nil {
				b.Fatal(err)
			}
			dst = sw
		}
		w := asb.NewWriter(dst)
		w.WriteHeader(&asb.Header{Version: asb.Version31, Meta: []asb.Meta{asb.NamespaceMeta("test")}})
		for i := f; i < n; i += files {
			key := "key-" + strconv.Itoa(i)
			rec := asb.Record{Key: asb.Key{Type: asb.KeyString, Bytes: []byte(key)}, Namespace: []byte("test"),
				Digest: asdsim.ComputeDigest("bench", asdsim.StringKey(key)), Set: []byte("bench"), HasSet: true,
				Generation: 1, Bins: []asb.Bin{
					{Name: []byte("id"), Type: asb.BinInt, Int: int64(i)},
					{Name: []byte("name"), Type: asb.BinString, Bytes: []byte(key)},
					{Name: []byte("score"), Type: asb.BinFloat, Float: float64(i) / 7},
					{Name: []byte("data"), Type: asb.BinBlob, Bytes: payload},
				}}
			if err := w.WriteRecord(&rec); err != nil {
				b.Fatal(err)
			}
		}
		w.Flush()
		if sw != nil {
			if err := sw.Close(); err != nil {
				b.Fatal(err)
			}
		}
		bw.Flush()
		fh.Close()
	}
}

// BenchmarkRestore restores the same records from one file and from a
// 16-file directory and reports records/s, CPU seconds and peak RSS of the
// asrestore process.
func BenchmarkRestore(b *testing.B) { benchRestore(b, nil) }

// BenchmarkRestoreZstdAES256 is BenchmarkRestore from zstd-compressed,
// AES-256-encrypted files.
func BenchmarkRestoreZstdAES256(b *testing.B) {
	mat, _ := stream.DecodeBase64Key(benchKeyMaterial)
	benchRestore(b, &stream.Options{Compress: true, Cipher: stream.AES256, Key: stream.DeriveKey(mat, stream.AES256)},
		"-z", "zstd", "-y", "aes256", "--encryption-key-env", "ASB_BENCH_KEY")
}

func benchRestore(b *testing.B, opts *stream.Options, codec ...string) {
	n := benchRecords()
	env := []string{"ASB_BENCH_KEY=" + benchKeyMaterial}
	for _, c := range []struct {
		name  string
		files int
	}{{"one-file", 1}, {"dir-16", 16}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			writeBenchFiles(b, dir, n, c.files, opts)
			args := append([]string{"-d", dir}, codec...)
			if c.files == 1 {
				args = append([]string{"-i", filepath.Join(dir, "test_00000.asb")}, codec...)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv := startServer(b, asdsim.Config{})
				b.StartTimer()
				res := runTool(b, "asrestore", dir, env, append([]string{"-h", srv.Host(), "-p", strconv.Itoa(srv.Port())}, args...)...)
				b.StopTimer()
				if res.code != 0 {
					b.Fatalf("exit %d\n%s", res.code, res.stderr)
				}
				if got := srv.Count("test", "bench"); got != n {
					b.Fatalf("%d records restored, want %d", got, n)
				}
				b.ReportMetric(float64(n)/res.wall.Seconds(), "rec/s")
				b.ReportMetric(res.cpu.Seconds(), "cpu-s")
				b.ReportMetric(res.cpu.Seconds()*1e6/float64(n), "cpu-s/1M")
				b.ReportMetric(float64(res.maxRSS)/(1<<20), "peak-MiB")
				srv.Close()
				b.StartTimer()
			}
		})
	}
}
