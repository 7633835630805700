package asb

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"testing"
)

// genCorpus builds a realistic file of n records of about recSize bytes
// each: a string key, a set, integer, double, string, base64 blob and map
// bins; the blob takes up the size beyond the fixed part.
func genCorpus(recSize, n int) ([]byte, int) {
	rng := rand.New(rand.NewSource(42))
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.WriteHeader(&Header{Meta: []Meta{NamespaceMeta("test"), FirstFileMeta()}})
	letters := []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \\\n")
	rnd := func(k int) []byte {
		b := make([]byte, k)
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return b
	}
	blobLen := max(8, (recSize-170)*3/4)
	for i := 0; i < n; i++ {
		var d [20]byte
		rng.Read(d[:])
		blob := make([]byte, blobLen+rng.Intn(8))
		rng.Read(blob)
		rec := Record{
			Key:        Key{Type: KeyString, Bytes: []byte(fmt.Sprintf("user-%08d", i))},
			Namespace:  []byte("test"),
			Digest:     d,
			Set:        []byte("users"),
			HasSet:     true,
			Generation: uint16(1 + rng.Intn(10)),
			VoidTime:   uint32(rng.Int31()),
			Bins: []Bin{
				{Name: []byte("age"), Type: BinInt, Int: rng.Int63n(100)},
				{Name: []byte("score"), Type: BinFloat, Float: rng.Float64() * 1000},
				{Name: []byte("name"), Type: BinString, Bytes: rnd(12)},
				{Name: []byte("data"), Type: BinBlob, Bytes: blob},
				{Name: []byte("tags"), Type: BinMap, Bytes: []byte{0x82, 0xa2, 3, 'a', 1, 0xa2, 3, 'b', 2}},
			},
		}
		if err := w.WriteRecord(&rec); err != nil {
			panic(err)
		}
	}
	_ = w.Flush()
	return buf.Bytes(), n
}

func decodeCorpus(t testing.TB, corpus []byte) []*Record {
	r := NewReader(bytes.NewReader(corpus), ReaderOptions{})
	var out []*Record
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Record.Clone())
	}
}

var benchSizes = []struct {
	name    string
	recSize int
	n       int
}{
	{"200B", 200, 20000},
	{"100KB", 100 << 10, 40},
}

func BenchmarkDecode(b *testing.B) {
	for _, s := range benchSizes {
		corpus, n := genCorpus(s.recSize, s.n)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(corpus)))
			b.ReportAllocs()
			src := bytes.NewReader(corpus)
			r := NewReader(src, ReaderOptions{})
			recs := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src.Reset(corpus)
				*r = Reader{}
				r2 := NewReader(src, ReaderOptions{})
				for {
					_, err := r2.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					recs++
				}
			}
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
			_ = n
		})
	}
}

// BenchmarkDecodeSteady reuses one Reader over a long stream, showing the
// per-record steady state (allocations per op are per file pass).
func BenchmarkDecodeSteady(b *testing.B) {
	for _, s := range benchSizes {
		corpus, n := genCorpus(s.recSize, s.n)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(corpus)))
			b.ReportAllocs()
			hdr := bytes.IndexByte(corpus[len("Version 3.1\n# namespace test\n"):], '\n') + len("Version 3.1\n# namespace test\n") + 1
			body := corpus[hdr:]
			r := NewBodyReader(&repeatReader{data: body, n: b.N}, Version31, 0, 1, ReaderOptions{})
			b.ResetTimer()
			recs := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				recs++
			}
			if recs != n*b.N {
				b.Fatalf("%d records, want %d", recs, n*b.N)
			}
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// repeatReader yields data n times.
type repeatReader struct {
	data []byte
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.data[r.off:])
	r.off += k
	if r.off == len(r.data) {
		r.off = 0
		r.n--
	}
	return k, nil
}

func BenchmarkEncode(b *testing.B) {
	for _, s := range benchSizes {
		corpus, _ := genCorpus(s.recSize, s.n)
		recs := decodeCorpus(b, corpus)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(corpus)))
			b.ReportAllocs()
			w := NewWriter(io.Discard)
			_ = w.WriteHeader(&Header{})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, r := range recs {
					if err := w.WriteRecord(r); err != nil {
						b.Fatal(err)
					}
				}
			}
			_ = w.Flush()
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
