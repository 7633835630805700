package secretagent

import (
	"os"
	"syscall"
	"testing"
)

// TestLegacySocketFD checks that descriptors opened by the process itself
// (close-on-exec) do not count, while a descriptor as inherited (not
// close-on-exec) does.
func TestLegacySocketFD(t *testing.T) {
	n := legacySocketFD()
	if n < 3 {
		t.Fatalf("legacySocketFD() = %d, want at least 3 (stdin, stdout and stderr are inherited)", n)
	}
	// Files the process opens itself are close-on-exec: they do not count.
	var opened []*os.File
	for i := 0; i < 3; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, f)
	}
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	if got := legacySocketFD(); got != n {
		t.Fatalf("legacySocketFD() = %d after opening files, want %d", got, n)
	}
	// An inherited descriptor (no close-on-exec, here a dup of stdin at
	// the lowest free number) counts as held.
	d, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(d)
	got := legacySocketFD()
	switch {
	case d == n && got <= n:
		t.Fatalf("legacySocketFD() = %d with descriptor %d inherited, want more", got, n)
	case d != n && got != n:
		t.Fatalf("legacySocketFD() = %d, want %d (descriptor %d is inherited, %d is not)", got, n, d, n)
	}
}
