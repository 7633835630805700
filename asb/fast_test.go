package asb

import (
	"bytes"
	"encoding/base64"
	"math"
	"math/rand"
	"strconv"
	"testing"
)

// refDecodeBase64 is the plain group-by-group statement of the legacy
// base64 rules that decodeBase64 must match.
func refDecodeBase64(dst, src []byte) (n int, bad int) {
	val := func(c byte) int {
		switch {
		case c >= 'A' && c <= 'Z':
			return int(c - 'A')
		case c >= 'a' && c <= 'z':
			return int(c-'a') + 26
		case c >= '0' && c <= '9':
			return int(c-'0') + 52
		case c == '+':
			return 62
		case c == '/':
			return 63
		case c == '=':
			return 0
		}
		return -1
	}
	for g := 0; g+4 <= len(src); g += 4 {
		v := 0
		for k := 0; k < 4; k++ {
			d := val(src[g+k])
			if d < 0 {
				return 0, g
			}
			v = v<<6 | d
		}
		o := g / 4 * 3
		dst[o], dst[o+1], dst[o+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
		if src[g+3] == '=' {
			n--
			if src[g+2] == '=' {
				n--
			}
		}
	}
	return n, -1
}

func TestBase64Decode(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for iter := 0; iter < 50000; iter++ {
		n := 4 * rng.Intn(40)
		if iter%100 == 0 {
			n = 4 * rng.Intn(2000)
		}
		src := make([]byte, n)
		for i := range src {
			src[i] = alpha[rng.Intn(64)]
		}
		// Sprinkle padding and foreign bytes in some inputs.
		switch rng.Intn(4) {
		case 1:
			if n > 0 {
				src[rng.Intn(n)] = '='
			}
		case 2:
			if n > 0 {
				src[rng.Intn(n)] = byte(rng.Intn(256))
			}
		case 3:
			if n > 0 {
				src[n-1] = '='
				if rng.Intn(2) == 0 {
					src[n-2] = '='
				}
			}
		}
		m := n / 4 * 3
		want := make([]byte, m)
		got := make([]byte, m)
		wn, wbad := refDecodeBase64(want, src)
		gn, gbad := decodeBase64(got, src)
		if wn != gn || wbad != gbad {
			t.Fatalf("%q: got (%d, %d), want (%d, %d)", src, gn, gbad, wn, wbad)
		}
		if wbad < 0 && !bytes.Equal(got, want) {
			t.Fatalf("%q: got %x, want %x", src, got, want)
		}
		if wbad < 0 && wn == m-bytes.Count(src[max(0, n-2):], []byte("=")) && !bytes.ContainsAny(src[:max(0, n-4)], "=") {
			// Canonical input: the standard decoder agrees.
			std, err := base64.StdEncoding.DecodeString(string(src))
			if err == nil && !bytes.Equal(std, got[:gn]) {
				t.Fatalf("%q: got %x, standard decoder %x", src, got[:gn], std)
			}
		}
	}
}

func TestBase64Encode(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for iter := 0; iter < 100000; iter++ {
		n := rng.Intn(100)
		if iter%100 == 0 {
			n = rng.Intn(5000)
		}
		src := make([]byte, n)
		rng.Read(src)
		want := base64.StdEncoding.EncodeToString(src)
		// Surround dst with sentinels to catch stray writes.
		buf := bytes.Repeat([]byte{0xAA}, len(want)+16)
		encodeBase64(buf[8:8+len(want)], src)
		if got := string(buf[8 : 8+len(want)]); got != want {
			t.Fatalf("% x: got %q, want %q", src, got, want)
		}
		if !bytes.Equal(buf[:8], bytes.Repeat([]byte{0xAA}, 8)) || !bytes.Equal(buf[8+len(want):], bytes.Repeat([]byte{0xAA}, 8)) {
			t.Fatalf("% x: write outside dst", src)
		}
	}
}

func TestPow10Table(t *testing.T) {
	tab := pow10Table()
	check := func(q int, hi, lo uint64) {
		t.Helper()
		if e := tab[q-pow10Min]; e != [2]uint64{hi, lo} {
			t.Errorf("10^%d: got %#x %#x, want %#x %#x", q, e[0], e[1], hi, lo)
		}
	}
	check(0, 1<<63, 0)
	check(1, 0xA<<60, 0)
	check(43, 0xE596B7B0C643C719, 0x6D9CCD05D0000000)
	// 10^-1 = 0.0CCC...: 128 bits of 0xCCCC... rounded down.
	check(-1, 0xCCCCCCCCCCCCCCCC, 0xCCCCCCCCCCCCCCCC)
}

// checkScanFloat compares scanFloat with the general parser's conversion.
func checkScanFloat(t *testing.T, s string) {
	t.Helper()
	b := []byte(s + "\n")
	f, end := scanFloat(b, 0)
	if end < 0 {
		return
	}
	if end != len(s) {
		t.Fatalf("%q: end %d", s, end)
	}
	if bad := floatBadIndex([]byte(s)); bad >= 0 {
		t.Fatalf("%q accepted by scanFloat, rejected by the general parser at %d", s, bad)
	}
	want, ok := parseFloatToken([]byte(s))
	if !ok {
		t.Fatalf("%q accepted by scanFloat, rejected by parseFloatToken", s)
	}
	if math.Float64bits(f) != math.Float64bits(want) {
		t.Fatalf("%q: scanFloat %v (%#x), ParseFloat %v (%#x)", s, f, math.Float64bits(f), want, math.Float64bits(want))
	}
}

func TestScanFloat(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "0.1", "217.94157457562281", "1e+17", "1e-05", "-1.5",
		"4.9406564584124654e-324", "2.2250738585072014e-308", "2.2250738585072011e-308",
		"1.7976931348623157e+308", "1.7976931348623159e+308", "1e400", "1e-400", "0e999",
		"9007199254740993", "12345678901234567890", "1234567890123456789", "0.000000000000000000000001",
		"00000000000000000000000000001.5", "1.00000000000000000000000000", "123456789012345678e-30",
		"1e0000", "1e10000", "1.e5", ".5", "+1", "1E5", "nan", "inf", "1e", "1e+", "-", ""} {
		checkScanFloat(t, s)
	}
	rng := rand.New(rand.NewSource(9))
	var buf []byte
	for i := 0; i < 300000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if i%4 == 0 {
			// Values of realistic magnitude.
			f = math.Ldexp(float64(rng.Int63()), rng.Intn(140)-130)
		}
		buf = AppendFloat(buf[:0], f)
		checkScanFloat(t, string(buf))
		f2, end := scanFloat(append(buf, '\n'), 0)
		if end != len(buf) || math.Float64bits(f2) != math.Float64bits(f) {
			t.Fatalf("%q: round trip gives %v (end %d), want %v", buf, f2, end, f)
		}
		switch i % 3 {
		case 0:
			buf = strconv.AppendFloat(buf[:0], f, 'g', -1, 64)
		case 1:
			buf = strconv.AppendFloat(buf[:0], f, 'e', rng.Intn(25), 64)
		default:
			buf = strconv.AppendFloat(buf[:0], f, 'f', rng.Intn(30), 64)
		}
		checkScanFloat(t, string(buf))
	}
	// Random digit strings, including long and halfway cases.
	for i := 0; i < 100000; i++ {
		buf = buf[:0]
		if rng.Intn(2) == 0 {
			buf = append(buf, '-')
		}
		for k := rng.Intn(25) + 1; k > 0; k-- {
			buf = append(buf, byte('0'+rng.Intn(10)))
		}
		if rng.Intn(2) == 0 {
			buf = append(buf, '.')
			for k := rng.Intn(25) + 1; k > 0; k-- {
				buf = append(buf, byte('0'+rng.Intn(10)))
			}
		}
		if rng.Intn(2) == 0 {
			buf = append(buf, 'e')
			buf = append(buf, "+-"[rng.Intn(2)])
			buf = strconv.AppendInt(buf, int64(rng.Intn(360)), 10)
		}
		checkScanFloat(t, string(buf))
	}
}

// slowRecord decodes a record with the general parser only.
func slowRecord(b []byte, atEOF, unesc bool) (*Record, int, error) {
	var p parser
	p.ar = &arena{}
	p.reset(b, atEOF, unesc)
	p.i = 1
	var rec Record
	err := p.record(&rec)
	return &rec, p.i, err
}

// checkFastRecord requires that whenever the fast path accepts b, the
// general parser decodes the same record from it, and that the fast path
// accepts plain records.
func checkFastRecord(t *testing.T, b []byte, mustAccept bool) bool {
	t.Helper()
	var p parser
	p.ar = &arena{}
	p.reset(b, false, true)
	var rec Record
	rec.Bins = make([]Bin, 1, 4) // stale capacity must not leak
	rec.Bins[0] = Bin{Name: []byte("stale"), Int: 9}
	ok := p.fastRecord(&rec)
	if mustAccept && !ok {
		t.Fatalf("fast path refused %q", b)
	}
	if !ok {
		return false
	}
	for _, unesc := range []bool{true, false} {
		for _, eof := range []bool{true, false} {
			want, end, err := slowRecord(b, eof, unesc)
			if err != nil {
				t.Fatalf("fast path accepted %q, general parser: %v", b, err)
			}
			if end != p.i || !rec.Equal(want) {
				t.Fatalf("%q: fast path gives %+v (end %d), general parser %+v (end %d)", b, rec, p.i, *want, end)
			}
		}
	}
	return true
}

func TestFastRecordMatchesGeneral(t *testing.T) {
	// Every record of the corpus and of the sample set.
	corpus, _ := genCorpus(200, 300)
	var bodies [][]byte
	split := func(file []byte) {
		d, err := decodeAll(bytes.NewReader(file), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range d.entries {
			if e.Kind != EntryRecord {
				continue
			}
			end := int64(len(file))
			if i+1 < len(d.entries) {
				end = d.entries[i+1].Offset
			}
			bodies = append(bodies, file[e.Offset:end])
		}
	}
	split(corpus)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.WriteHeader(&Header{})
	for _, r := range sampleRecords() {
		if err := w.WriteRecord(&r); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Flush()
	split(buf.Bytes())
	accepted := 0
	for i, b := range bodies {
		if checkFastRecord(t, b, i < 300) {
			accepted++
		}
		// Every prefix: accepted only if the general parser agrees.
		if i%10 == 0 && len(b) < 4096 {
			for k := 0; k < len(b); k++ {
				checkFastRecord(t, b[:k], false)
			}
		}
	}
	if accepted < 300 {
		t.Fatalf("fast path accepted %d of %d records", accepted, len(bodies))
	}
	// Mutations: single-byte changes, insertions and deletions from a set
	// of bytes that matter to the grammar.
	rng := rand.New(rand.NewSource(10))
	const special = " \n\\-+!=.e0123456789ABDGIKLMNSTUXZbdgknst\x00\xff"
	mutated := 0
	for iter := 0; iter < 50000; iter++ {
		src := bodies[rng.Intn(len(bodies))]
		if len(src) > 2048 {
			continue
		}
		b := append([]byte(nil), src...)
		for m := rng.Intn(3) + 1; m > 0; m-- {
			pos := rng.Intn(len(b) + 1)
			c := special[rng.Intn(len(special))]
			switch rng.Intn(3) {
			case 0:
				if pos < len(b) {
					b[pos] = c
				}
			case 1:
				b = append(b[:pos], append([]byte{c}, b[pos:]...)...)
			default:
				if pos < len(b) {
					b = append(b[:pos], b[pos+1:]...)
				}
			}
		}
		if len(b) == 0 || b[0] != '+' {
			continue
		}
		if checkFastRecord(t, b, false) {
			mutated++
		}
	}
	// Many mutations keep the record valid (a changed digit or base64
	// character); the comparison must have covered them.
	if mutated < 5000 {
		t.Fatalf("only %d mutated records took the fast path", mutated)
	}
}

func TestAppendFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	var got, want []byte
	check := func(f float64) {
		got = AppendFloat(got[:0], f)
		want = strconv.AppendFloat(want[:0], f, 'g', 17, 64)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendFloat(%b) = %q, strconv %q", f, got, want)
		}
	}
	for _, f := range []float64{0, 1, 10, 100, 1e15, 1e16, 9.9999999999999998e16, 1e17, 0.5, 1e-4, 1.5e-4,
		1e-5, 123.456, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 0.3, 2.5, 1e21, 1e-300} {
		check(f)
		check(-f)
	}
	fast, total := 0, 0
	for i := 0; i < 300000; i++ {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		check(f)
		if _, _, ok := digits17(math.Float64bits(math.Abs(f))); ok {
			fast++
		}
		total++
		// Short decimals and integers, whose digits end in zeros.
		check(float64(rng.Int63n(1<<uint(rng.Intn(62)+1))) / math.Pow(10, float64(rng.Intn(25))))
		check(math.Ldexp(float64(rng.Int63()), rng.Intn(140)-130))
	}
	// The comparison above must have exercised the fast digit generation.
	if fast < total*99/100 {
		t.Fatalf("digits17 handled only %d of %d values", fast, total)
	}
}

func TestAppendInt(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	vals := []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, math.MaxInt64, math.MinInt64, -1, -10, math.MaxUint32}
	for i := 0; i < 100000; i++ {
		vals = append(vals[:14], rng.Int63()>>uint(rng.Intn(63)), -rng.Int63()>>uint(rng.Intn(63)))
		for _, v := range vals {
			if got, want := string(appendInt([]byte("x"), v)), "x"+strconv.FormatInt(v, 10); got != want {
				t.Fatalf("appendInt(%d) = %q, want %q", v, got, want)
			}
			if v >= 0 {
				if got, want := string(appendUint(nil, uint64(v)*2)), strconv.FormatUint(uint64(v)*2, 10); got != want {
					t.Fatalf("appendUint(%d) = %q, want %q", uint64(v)*2, got, want)
				}
			}
		}
	}
}

func TestDecodeDigest(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	for iter := 0; iter < 100000; iter++ {
		var src [28]byte
		for i := range src {
			src[i] = alpha[rng.Intn(len(alpha))]
		}
		if iter%3 == 0 {
			src[rng.Intn(28)] = byte(rng.Intn(256))
		}
		var want [21]byte
		_, bad := refDecodeBase64(want[:], src[:])
		var got [20]byte
		ok := decodeDigest(&got, &src)
		if ok != (bad < 0) || ok && !bytes.Equal(got[:], want[:20]) {
			t.Fatalf("%q: got %x %v, want %x (bad %d)", src, got, ok, want[:20], bad)
		}
	}
}
