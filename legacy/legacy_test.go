package legacy

import "testing"

func TestFormatETA(t *testing.T) {
	for in, want := range map[int64]string{
		-5: "0s", 0: "0s", 45: "45s", 120: "2m0s", 3723: "1h2m3s", 86405: "1d0h0m5s",
		100 * 86400: "100d0h0m0s", 100*86400 + 1: ">100d",
	} {
		if got := FormatETA(in); got != want {
			t.Errorf("FormatETA(%d) = %q, want %q", in, got, want)
		}
	}
}
