package stream

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// encode writes text through a Writer with options o, ending a frame
// every flushEvery bytes (0: one frame).
func encode(t *testing.T, text []byte, o Options, flushEvery int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, o)
	if err != nil {
		t.Fatal(err)
	}
	for rest := text; len(rest) > 0; {
		n := len(rest)
		if flushEvery > 0 {
			n = min(n, flushEvery)
		}
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A suspended Reader holds no decoder and goes on from where it was moved
// back to, in every stream mode, at any point of the first block, over
// frames of any size, while other Readers take the decoder it gave back.
func TestSuspend(t *testing.T) {
	text := sampleText(3*BlockSize+123, 11)
	other := sampleText(BlockSize+7, 12)
	for _, o := range allOptions(t) {
		for _, flushEvery := range []int{0, 1000, 40000} {
			file := encode(t, text, o, flushEvery)
			otherFile := encode(t, other, o, 0)
			for _, first := range []int{0, 1, 12, 4096, 16 << 10, BlockSize - 1, BlockSize, BlockSize + 1} {
				for _, at := range []int{first, first / 2} {
					if !o.Compress && at != first {
						continue // a stream without compression cannot move back
					}
					held := DecodersInUse()
					r, err := NewReader(bytes.NewReader(file), o)
					if err != nil {
						t.Fatal(err)
					}
					r.AllowSuspend()
					got := make([]byte, first)
					if _, err := io.ReadFull(r, got); err != nil {
						t.Fatal(err)
					}
					if !r.SuspendAt(int64(at)) {
						t.Fatalf("%s flush %d: SuspendAt(%d) after %d bytes failed", name(o), flushEvery, at, first)
					}
					if n := DecodersInUse(); n != held {
						t.Fatalf("%s: %d decoders in use while suspended, want %d", name(o), n, held)
					}
					// Another stream takes the decoder given back.
					if out := decodeAll(t, otherFile, o); !bytes.Equal(out, other) {
						t.Fatalf("%s: other stream mismatch", name(o))
					}
					if !r.SuspendAt(int64(at)) {
						t.Fatal("second SuspendAt failed")
					}
					rest, err := io.ReadAll(r)
					if err != nil {
						t.Fatalf("%s flush %d first %d at %d: %v", name(o), flushEvery, first, at, err)
					}
					if got = append(got[:at], rest...); !bytes.Equal(got, text) {
						t.Fatalf("%s flush %d first %d at %d: text differs after resuming", name(o), flushEvery, first, at)
					}
					if r.BytesRead() != int64(len(file)) {
						t.Fatalf("BytesRead %d, want %d", r.BytesRead(), len(file))
					}
					// Ended: nothing held; SuspendAt can only stay at the end.
					if n := DecodersInUse(); n != held {
						t.Fatalf("%s: %d decoders in use after the end, want %d", name(o), n, held)
					}
					if !r.SuspendAt(int64(len(text))) || (len(text) > 0 && r.SuspendAt(0)) {
						t.Fatal("SuspendAt after the end")
					}
					r.Close()
				}
			}
		}
	}
}

// SuspendAt keeps the Reader as it is where it cannot give the decoder
// back: without AllowSuspend, after more compressed bytes than it keeps,
// or ahead of the text read.
func TestSuspendRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, maxReplay+BlockSize)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	text := append(append([]byte("Version 3.1\n"), noise...), sampleText(BlockSize, 5)...)
	o := Options{Compress: true}
	file := encode(t, text, o, 0)
	for _, c := range []struct {
		name  string
		allow bool
		first int
		at    int
	}{{"not allowed", false, 12, 12}, {"beyond the kept bytes", true, maxReplay + 1, 12}, {"ahead", true, 12, 13}} {
		held := DecodersInUse()
		r, err := NewReader(bytes.NewReader(file), o)
		if err != nil {
			t.Fatal(err)
		}
		if c.allow {
			r.AllowSuspend()
		}
		got := make([]byte, c.first)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatal(err)
		}
		if r.SuspendAt(int64(c.at)) {
			t.Fatalf("%s: SuspendAt succeeded", c.name)
		}
		if n := DecodersInUse(); n != held+1 {
			t.Fatalf("%s: %d decoders in use, want %d", c.name, n, held+1)
		}
		rest, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(append(got, rest...), text) {
			t.Fatalf("%s: text differs (%v)", c.name, err)
		}
		r.Close()
	}
}

// A stream damaged after the point where its Reader was suspended fails
// with the same error as without suspending.
func TestSuspendDamaged(t *testing.T) {
	text := sampleText(2*BlockSize, 21)
	o := Options{Compress: true}
	file := encode(t, text, o, 0)
	file = file[:len(file)*3/4] // cut inside the second block
	read := func(suspend bool) ([]byte, error) {
		r, err := NewReader(bytes.NewReader(file), o)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.AllowSuspend()
		head := make([]byte, 100)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		if suspend && !r.SuspendAt(50) {
			t.Fatal("SuspendAt failed")
		}
		if suspend {
			head = head[:50]
		}
		rest, err := io.ReadAll(r)
		return append(head, rest...), err
	}
	want, wantErr := read(false)
	got, err := read(true)
	if !errors.Is(err, ErrTruncatedFrame) || wantErr == nil || err.Error() != wantErr.Error() || !bytes.Equal(got, want) {
		t.Fatalf("suspended: %d bytes, %v; not suspended: %d bytes, %v", len(got), err, len(want), wantErr)
	}
}

// Files written by legacy asbackup (libzstd, 2 MiB window) resume too.
func TestSuspendLegacyFile(t *testing.T) {
	envTxt := string(bytes.TrimSpace(readGolden(t, "legacy-4.5.8/06-kitchen-zstd-aes256-env/env-key.txt")))
	o := Options{Compress: true, Cipher: AES256, Key: envKey(t, envTxt, AES256)}
	data := readGolden(t, "legacy-4.5.8/06-kitchen-zstd-aes256-env/backup.asb")
	want := readGolden(t, "legacy-4.5.8/06-kitchen-zstd-aes256-env/plain.asb")
	r, err := NewReader(bytes.NewReader(data), o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.AllowSuspend()
	head := make([]byte, 30)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	if !r.SuspendAt(12) {
		t.Fatal("SuspendAt failed")
	}
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(append(head[:12], rest...), want) {
		t.Fatalf("legacy file differs after resuming (%v)", err)
	}
}
