package stream

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

func benchOptions(b *testing.B) map[string]Options {
	k := DeriveKey([]byte("0123456789abcdef"), AES256)
	return map[string]Options{
		"none":     {},
		"zstd":     {Compress: true},
		"aes128":   {Cipher: AES128, Key: k[:16]},
		"zstd+aes": {Compress: true, Cipher: AES256, Key: k},
	}
}

func BenchmarkWriter(b *testing.B) {
	text := sampleText(8<<20, 1)
	for name, o := range benchOptions(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				w, err := NewWriter(io.Discard, o)
				if err != nil {
					b.Fatal(err)
				}
				for p := text; len(p) > 0; p = p[min(len(p), 200):] {
					w.Write(p[:min(len(p), 200)]) // record-sized writes
				}
				w.Close()
			}
		})
	}
}

func BenchmarkReader(b *testing.B) {
	text := sampleText(8<<20, 1)
	for name, o := range benchOptions(b) {
		var file bytes.Buffer
		w, _ := NewWriter(&file, o)
		w.Write(text)
		w.Close()
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			buf := make([]byte, 4096)
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(file.Bytes()), o)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := r.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				r.Close()
			}
		})
	}
}

// TestMemoryPerWriter reports the heap held by 16 compressing and
// encrypting writers with an open frame (and 16 readers) and fails if a
// writer holds more than EncoderMemory, the bound asbackup adds to its
// memory limit per open file, or a reader more than the window plus 512 KiB.
func TestMemoryPerWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	text := sampleText(1<<20, 2)
	k := DeriveKey([]byte("k"), AES256)
	for _, lvl := range []int{1, 0, 9} {
		o := Options{Compress: true, Level: lvl, Cipher: AES256, Key: k}
		var files [16]bytes.Buffer
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ws := make([]*Writer, 16)
		for i := range ws {
			ws[i], _ = NewWriter(&files[i], o)
			ws[i].Write(text[:2*BlockSize+100])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		for _, w := range ws {
			w.Close()
		}
		t.Logf("level %d: 16 writers hold %.2f MiB", lvl, float64(held)/(1<<20))
		if held > 16*EncoderMemory(lvl) {
			t.Errorf("level %d: 16 writers hold %d bytes, more than 16 × %d", lvl, held, EncoderMemory(lvl))
		}
		// Readers.
		runtime.GC()
		runtime.ReadMemStats(&before)
		rs := make([]*Reader, 16)
		buf := make([]byte, 100)
		for i := range rs {
			rs[i], _ = NewReader(bytes.NewReader(files[i].Bytes()), o)
			rs[i].Read(buf)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("level %d: 16 readers hold %.2f MiB", lvl, float64(held)/(1<<20))
		if held > 16*(int64(Window(lvl))+512<<10) {
			t.Errorf("level %d: 16 readers hold %d bytes, more than 16 × (window + 512 KiB)", lvl, held)
		}
		for _, r := range rs {
			r.Close()
		}
	}
}
