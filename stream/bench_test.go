package stream

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
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

// BenchmarkWritersParallel runs 1, 2 and 4 compressing writers at the same
// time, each on its own goroutine and text (as the files of a backup at
// --parallel 1, 2, 4), and reports their total throughput of text and the
// cores they kept busy (process CPU time over wall time): both grow with
// the writers up to the number of free cores, since each writer compresses
// with an encoder of its own.
func BenchmarkWritersParallel(b *testing.B) {
	k := DeriveKey([]byte("0123456789abcdef"), AES256)
	for _, mode := range []struct {
		name string
		o    Options
	}{{"zstd", Options{Compress: true}}, {"zstd+aes256", Options{Compress: true, Cipher: AES256, Key: k}}} {
		for _, n := range []int{1, 2, 4} {
			texts := make([][]byte, n)
			for i := range texts {
				texts[i] = sampleText(8<<20, uint64(10+i))
			}
			b.Run(fmt.Sprintf("%s/writers-%d", mode.name, n), func(b *testing.B) {
				b.SetBytes(int64(n) * 8 << 20)
				cpu0, wall0 := processCPU(), time.Now()
				for b.Loop() {
					var wg sync.WaitGroup
					for i := range n {
						wg.Add(1)
						go func() {
							defer wg.Done()
							w, err := NewWriter(io.Discard, mode.o)
							if err != nil {
								b.Error(err)
								return
							}
							for p := texts[i]; len(p) > 0; p = p[min(len(p), 200):] {
								w.Write(p[:min(len(p), 200)]) // record-sized writes
							}
							if err := w.Close(); err != nil {
								b.Error(err)
							}
						}()
					}
					wg.Wait()
				}
				b.ReportMetric((processCPU()-cpu0).Seconds()/time.Since(wall0).Seconds(), "cores")
			})
		}
	}
}

// processCPU returns the CPU time (user and system) of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
// encrypting writers with an open frame (and 16 readers; 4 at levels 6 and
// above) at a level of every encoder setting and fails if a
// writer holds more than EncoderMemory, the bound asbackup adds to its
// memory limit per open file, or a reader more than the window plus 512 KiB.
func TestMemoryPerWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	text := sampleText(1<<20, 2)
	k := DeriveKey([]byte("k"), AES256)
	for _, lvl := range []int{1, 0, 5, 6, 7, 9} {
		o := Options{Compress: true, Level: lvl, Cipher: AES256, Key: k}
		// 16 writers, 4 of the larger encoders of levels 6 and above.
		n := 16
		if EncoderMemory(lvl) > 8<<20 {
			n = 4
		}
		files := make([]bytes.Buffer, n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ws := make([]*Writer, n)
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
		t.Logf("level %d: %d writers hold %.2f MiB", lvl, n, float64(held)/(1<<20))
		if held > int64(n)*EncoderMemory(lvl) {
			t.Errorf("level %d: %d writers hold %d bytes, more than %d × %d", lvl, n, held, n, EncoderMemory(lvl))
		}
		// Readers.
		runtime.GC()
		runtime.ReadMemStats(&before)
		rs := make([]*Reader, n)
		buf := make([]byte, 100)
		for i := range rs {
			rs[i], _ = NewReader(bytes.NewReader(files[i].Bytes()), o)
			rs[i].Read(buf)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("level %d: %d readers hold %.2f MiB", lvl, n, float64(held)/(1<<20))
		if held > int64(n)*(int64(Window(lvl))+512<<10) {
			t.Errorf("level %d: %d readers hold %d bytes, more than %d × (window + 512 KiB)", lvl, n, held, n)
		}
		for _, r := range rs {
			r.Close()
		}
	}
}
