package asb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// The general parser.
//
// It decodes one entry from a window of the input that starts at the
// entry, and follows the legacy reader (aerospike-tools-backup 4.5.8,
// dec_text.c) step by step: the same characters are read in the same
// order, so that a defect is found at the same byte and reported with the
// same chain of messages. The legacy reader logs one message where it
// detects a defect and one more in every caller that fails because of it,
// innermost first; the parser collects those lines in chain (see
// SyntaxError.Legacy). Where the legacy reader would have consumed input
// when it stopped, p.i is left there (SyntaxError.LegacyLine).

var errNeedMore = errors.New("asb: need more input")

// parser decodes one entry from a window that starts at the entry.
type parser struct {
	b      []byte
	i      int
	atEOF  bool
	unesc  bool
	need   int
	errPos int
	ar     *arena
	// line0 is the line number of b[0] (legacy messages name lines).
	line0 int
	// chain holds the legacy reader's messages for the failure, innermost
	// first.
	chain []string
	// startChar is set when the entry's first byte is not a valid start:
	// the legacy reader read it without counting lines.
	startChar bool
	// scratch collects escaped number tokens.
	scratch []byte
	// peeked is set when the legacy reader failed after peeking at the
	// byte at p.i (a token's delimiter).
	peeked bool
	// ns is the namespace records (and indexes when indexNS) must be in
	// (ReaderOptions.Namespace).
	ns      string
	indexNS bool
}

func (p *parser) reset(b []byte, atEOF, unesc bool) {
	p.b, p.i, p.atEOF, p.unesc, p.need, p.errPos = b, 0, atEOF, unesc, 0, 0
	p.chain = p.chain[:0]
	p.startChar, p.peeked = false, false
}

// where renders window position i as the legacy "line L, col C".
func (p *parser) where(i int) string {
	w := p.b[:min(i, len(p.b))]
	line := p.line0 + bytes.Count(w, []byte{'\n'})
	col := i + 1
	if k := bytes.LastIndexByte(w, '\n'); k >= 0 {
		col = i - k
	}
	return fmt.Sprintf("line %d, col %d", line, col)
}

// legacy adds a line to the legacy chain.
func (p *parser) legacy(format string, args ...any) {
	p.chain = append(p.chain, fmt.Sprintf(format, args...))
}

// wrap adds the message a legacy caller logs when its callee failed.
func (p *parser) wrap(err error, msg string) error {
	if err != nil && err != errNeedMore {
		p.chain = append(p.chain, msg)
	}
	return err
}

// legacyChar renders a byte like the legacy print_char.
func legacyChar(c byte) string { return quoteByte(c) }

// cString returns b up to its first NUL, as C's "%s" prints it.
func cString(b []byte) string {
	if z := bytes.IndexByte(b, 0); z >= 0 {
		b = b[:z]
	}
	return string(b)
}

func (p *parser) fail(pos int, context, expected, found string) error {
	p.errPos = pos
	return &SyntaxError{Context: context, Expected: expected, Found: found}
}

// eof reports the end of the input where the legacy reader reads or peeks
// a character: one "Unexpected end of file" line per attempt.
func (p *parser) eof(context, expected string) error {
	p.i = len(p.b)
	p.legacy("Unexpected end of file in backup block (%s)", p.where(p.i))
	return p.fail(len(p.b), context, expected, foundEOF)
}

// short reports that need bytes are required: errNeedMore, or a truncation
// error at end of input.
func (p *parser) short(need int, context, expected string) error {
	if p.atEOF {
		return p.eof(context, expected)
	}
	p.need = need
	return errNeedMore
}

// expect reads one character that must be c (legacy expect_char).
func (p *parser) expect(c byte, context string) error {
	if i := p.i; i < len(p.b) && p.b[i] == c {
		p.i = i + 1
		return nil
	}
	return p.expectSlow(c, context)
}

func (p *parser) expectSlow(c byte, context string) error {
	if p.i >= len(p.b) {
		return p.short(p.i+1, context, quoteByte(c))
	}
	at := p.i
	p.i++
	p.legacy("Unexpected character %s in backup block (%s), expected %s", legacyChar(p.b[at]), p.where(at), legacyChar(c))
	return p.fail(at, context, quoteByte(c), quoteByte(p.b[at]))
}

// next reads one character (legacy read_char).
func (p *parser) next(context, expected string) (byte, error) {
	if p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		return c, nil
	}
	return 0, p.short(p.i+1, context, expected)
}

// peek looks at the next character (legacy peek_char).
func (p *parser) peek(context, expected string) (byte, error) {
	if p.i >= len(p.b) {
		return 0, p.short(p.i+1, context, expected)
	}
	return p.b[p.i], nil
}

// Byte classes that end a token scan: the delimiters, the escape
// character and NUL (the legacy reader looks its delimiters up with
// strchr(), which also finds the terminating NUL: an unescaped NUL ends
// every token).
var (
	stopLF      = stopTable("\n\\\x00")
	stopSpace   = stopTable(" \\\x00")
	stopSpaceLF = stopTable(" \n\\\x00")
)

func stopTable(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return
}

// overflow reports a token longer than limit at position at (the first
// byte beyond it), as the legacy reader does when its buffer is full.
func (p *parser) overflow(at, limit int, context string) error {
	p.i = at + 1
	p.legacy("Buffer overflow while reading token in backup block (%s)", p.where(at))
	return p.fail(at, context, fmt.Sprintf("at most %d bytes", limit), "a longer token")
}

// token reads bytes up to (not including) delimiter d1 or d2, unescaping
// backslashes unless the file is version 3.0 (legacy text_nul_read_token
// with a buffer of limit+1 bytes). The result aliases the input or the
// arena.
func (p *parser) token(d1, d2 byte, limit int, context string) ([]byte, error) {
	b := p.b
	start := p.i
	i := start
	if d1 == '\n' && d2 == '\n' {
		// Short tokens (numbers) are scanned inline; long ones with
		// IndexByte.
		end := min(len(b), start+limit+1)
		for i < end && i-start < 24 && !stopLF[b[i]] {
			i++
		}
		if i < end && i-start == 24 {
			if k := bytes.IndexByte(b[i:end], '\n'); k >= 0 {
				i += k
			} else {
				i = end
			}
			if z := bytes.IndexByte(b[start:i], 0); z >= 0 {
				i = start + z
			}
		}
	} else {
		stop := &stopSpaceLF
		if d1 == ' ' && d2 == ' ' {
			stop = &stopSpace
		}
		for i < len(b) && !stop[b[i]] && i-start <= limit {
			i++
		}
	}
	if p.unesc && bytes.IndexByte(b[start:i], '\\') >= 0 {
		return p.tokenEsc(start, d1, d2, limit, context)
	}
	if i-start > limit {
		if p.unesc && i < len(b) && b[i] == '\\' {
			return p.tokenEsc(start, d1, d2, limit, context)
		}
		return nil, p.overflow(start+limit, limit, context)
	}
	if i < len(b) {
		if c := b[i]; c == d1 || c == d2 || c == 0 {
			p.i = i
			return b[start:i:i], nil
		}
		if p.unesc {
			// an escape character
			return p.tokenEsc(start, d1, d2, limit, context)
		}
		// a backslash in a version 3.0 token is data
		for i < len(b) && b[i] != d1 && b[i] != d2 && b[i] != 0 {
			if i-start == limit {
				return nil, p.overflow(i, limit, context)
			}
			i++
		}
		if i < len(b) {
			p.i = i
			return b[start:i:i], nil
		}
	}
	return nil, p.short(len(b)+1, context, "token delimiter "+quoteByte(d1))
}

func (p *parser) tokenEsc(start int, d1, d2 byte, limit int, context string) ([]byte, error) {
	b := p.b
	esc := false
	n := 0
	i := start
	for ; i < len(b); i++ {
		c := b[i]
		if c == '\\' && !esc {
			esc = true
			continue
		}
		if !esc && (c == d1 || c == d2 || c == 0) {
			break
		}
		esc = false
		if n == limit {
			return nil, p.overflow(i, limit, context)
		}
		n++
	}
	if i == len(b) {
		return nil, p.short(len(b)+1, context, "token delimiter "+quoteByte(d1))
	}
	out := p.ar.alloc(n)
	k := 0
	esc = false
	for j := start; j < i; j++ {
		c := b[j]
		if c == '\\' && !esc {
			esc = true
			continue
		}
		esc = false
		out[k] = c
		k++
	}
	p.i = i
	return out, nil
}

// Kinds of number tokens (legacy text_nul_read_until's checks).
const (
	numSize  = iota // digits
	numInt          // digits, a leading minus
	numFloat        // a prefix of a floating-point value
	numText         // anything (booleans)
)

// numToken reads a number token up to delim the way the legacy reader
// does: character by character, unescaping (except in version 3.0 files),
// checking every character as it is read. The token is returned unescaped
// in the arena or aliasing the input.
func (p *parser) numToken(delim byte, kind int, context string) ([]byte, error) {
	b := p.b
	start := p.i
	// Plain tokens (no escape) are the common case.
	j := start
	for j < len(b) && b[j] != delim && b[j] != '\\' && b[j] != 0 && j-start < maxToken {
		j++
	}
	var tok []byte
	plain := j < len(b) && (b[j] == delim || b[j] == 0)
	if plain {
		tok = b[start:j:j]
	} else {
		tok = p.scratch[:0]
	}
	esc := false
	i := start
	n := 0
	for {
		if i >= len(b) {
			p.i = i
			return nil, p.short(i+1, context, "token delimiter "+quoteByte(delim))
		}
		c := b[i]
		if p.unesc && c == '\\' && !esc {
			esc = true
			i++
			continue
		}
		if !esc && (c == delim || c == 0) {
			break
		}
		esc = false
		if n == maxToken {
			return nil, p.overflow(i, maxToken, context)
		}
		bad := ""
		switch kind {
		case numSize:
			if c < '0' || c > '9' {
				bad = "digit"
			}
		case numInt:
			if (c < '0' || c > '9') && (n > 0 || c != '-') {
				bad = "digit"
			}
		}
		if bad != "" {
			p.i = i + 1
			p.legacy("Invalid character %s in backup block (%s), expected digit", legacyChar(c), p.where(i))
			return nil, p.fail(i, context, "digit", quoteByte(c))
		}
		if !plain {
			tok = append(tok, c)
		}
		n++
		if kind == numFloat && !fpPrefixOK(b[start:i+1], tok, plain) {
			p.i = i + 1
			p.legacy("Invalid character %s in backup block (%s), expected floating point notation", legacyChar(c), p.where(i))
			return nil, p.fail(i, context, "floating point notation", quoteByte(c))
		}
		i++
	}
	p.i = i
	if !plain {
		p.scratch = tok
		t := p.ar.alloc(len(tok))
		copy(t, tok)
		tok = t
	}
	return tok, nil
}

// fpPrefixOK is the legacy text_check_floating_point for the token read
// so far (C string semantics: a NUL ends the comparisons of strncasecmp).
func fpPrefixOK(raw, tok []byte, plain bool) bool {
	buf := tok
	if plain {
		buf = raw
	}
	i := 0
	if buf[0] == '+' || buf[0] == '-' {
		i++
	}
	if i == len(buf) {
		return true
	}
	for _, w := range []string{"nan", "inf", "infinity"} {
		if cStrNCaseEq(w, buf[i:]) {
			return true
		}
	}
	dot, ex := false, false
	var ch, prev byte
	for ; i < len(buf); i++ {
		prev = ch
		ch = buf[i]
		switch {
		case ch >= '0' && ch <= '9':
		case (ch == '+' || ch == '-') && prev == 'e':
		case ch == '.' && !dot && !ex:
			dot = true
		case ch == 'e' && !ex:
			ex = true
		default:
			return false
		}
	}
	return true
}

// cStrNCaseEq is strncasecmp(word, s, len(s)) == 0.
func cStrNCaseEq(word string, s []byte) bool {
	for k := 0; k < len(s); k++ {
		var a byte
		if k < len(word) {
			a = word[k]
		}
		c := s[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if a != c {
			return false
		}
		if a == 0 {
			return true
		}
	}
	return true
}

// size reads an unsigned decimal length terminated by delim (legacy
// text_read_size).
func (p *parser) size(delim byte, context string) (int, error) {
	start := p.i
	tok, err := p.numToken(delim, numSize, context)
	if err != nil {
		return 0, err
	}
	v := 0
	for _, c := range tok {
		v = v*10 + int(c-'0')
		if v > maxSize {
			p.peeked = true
			p.legacy("Size overflow with number %s in backup block (%s)", tok, p.where(p.i))
			return 0, p.fail(start, context, "a size of at most 1024^5", quoteToken(tok))
		}
	}
	return v, nil
}

// integer reads a signed 64-bit decimal terminated by a line feed (legacy
// text_read_integer). Like the legacy reader it takes an empty token (or a
// lone "-") as 0.
func (p *parser) integer(context string) (int64, error) {
	// Fast path: up to 18 plain digits and a line feed.
	b := p.b
	if i := p.i; i < len(b) && b[i] != '\n' {
		neg := b[i] == '-'
		if neg {
			i++
		}
		var v int64
		j := i
		for ; j < len(b) && j-i < 18; j++ {
			c := b[j]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		if j > i && j < len(b) && b[j] == '\n' {
			p.i = j
			if neg {
				return -v, nil
			}
			return v, nil
		}
	}
	start := p.i
	tok, err := p.numToken('\n', numInt, context)
	if err != nil {
		return 0, err
	}
	neg := len(tok) > 0 && tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var v uint64
	for _, c := range digits {
		d := uint64(c - '0')
		if v > limit/10 || (v == limit/10 && d > limit%10) {
			p.peeked = true
			p.legacy("Integer overflow with number %s in backup block (%s)", tok, p.where(p.i))
			return 0, p.fail(start, context, "a 64-bit integer", quoteToken(tok))
		}
		v = v*10 + d
	}
	if neg {
		return int64(-v), nil
	}
	return int64(v), nil
}

// float reads a double terminated by a line feed, accepting exactly what the
// legacy reader accepts (text_read_double).
func (p *parser) float(context string) (float64, error) {
	start := p.i
	tok, err := p.numToken('\n', numFloat, context)
	if err != nil {
		return 0, err
	}
	s := tok
	if z := bytes.IndexByte(s, 0); z >= 0 {
		s = s[:z]
	}
	f, ok := parseFloatToken(s)
	if !ok {
		p.peeked = true
		p.legacy("Invalid floating-point value %s in backup block (%s)", cString(tok), p.where(p.i))
		return 0, p.fail(start, context, "a floating-point value", quoteToken(tok))
	}
	return f, nil
}

// boolean reads "T" or "F" terminated by a line feed (legacy
// text_read_boolean: C string comparison).
func (p *parser) boolean(context string) (bool, error) {
	at := p.i
	tok, err := p.numToken('\n', numText, context)
	if err != nil {
		return false, err
	}
	s := cString(tok)
	switch s {
	case "T":
		return true, nil
	case "F":
		return false, nil
	}
	p.peeked = true
	p.legacy("Unknown boolean value encoding: \"%s\" (%s)", s, p.where(p.i))
	return false, p.fail(at, context, `"T" or "F"`, quoteToken(tok))
}

// block returns the next n raw bytes (legacy read_block).
func (p *parser) block(n int, context string) ([]byte, error) {
	if len(p.b)-p.i < n {
		return nil, p.short(p.i+n+1, context, fmt.Sprintf("%d bytes of data", n))
	}
	v := p.b[p.i : p.i+n : p.i+n]
	p.i += n
	return v, nil
}

// rawValue reads "<size> <bytes>": legacy text_parse_string (what =
// "string") and text_parse_data (what = "data"), which name the parts of
// the value differently in their messages.
func (p *parser) rawValue(what, context string) ([]byte, error) {
	n, err := p.size(' ', context)
	if err != nil {
		return nil, p.wrap(err, "Error while reading "+what+" size")
	}
	if err := p.expect(' ', context); err != nil {
		return nil, err
	}
	v, err := p.block(n, context)
	if what == "string" {
		return v, p.wrap(err, "Error while reading string data")
	}
	return v, p.wrap(err, "Error while reading data")
}

// b64Block reads n base64 characters (n a multiple of 4) and decodes them
// into dst the way the legacy read_block_dec does: four characters at a
// time, each group checked as it is read.
func (p *parser) b64Block(dst []byte, n int, context string) (int, error) {
	start := p.i
	avail := len(p.b) - start
	if avail < n {
		if !p.atEOF {
			p.need = start + n + 1
			return 0, errNeedMore
		}
		full := avail &^ 3
		if _, bad := decodeBase64(dst, p.b[start:start+full]); bad >= 0 {
			return 0, p.badBase64(start+bad, context)
		}
		// The group that meets the end: one message per missing
		// character, then the base-64 reader's own.
		p.i = len(p.b)
		for k := avail - full; k < 4; k++ {
			p.legacy("Unexpected end of file in backup block (%s)", p.where(p.i))
		}
		p.legacy("Unexpected end of file in base-64 data")
		return 0, p.fail(len(p.b), context, fmt.Sprintf("%d bytes of base64 data", n), foundEOF)
	}
	m, bad := decodeBase64(dst, p.b[start:start+n])
	if bad >= 0 {
		return 0, p.badBase64(start+bad, context)
	}
	p.i = start + n
	return m, nil
}

// badBase64 reports the group at g holding a byte outside the alphabet.
func (p *parser) badBase64(g int, context string) error {
	q := p.b[g : g+4]
	p.i = g + 4
	p.legacy("Invalid base-64 character (%s, %s, %s, or %s at or before %s)",
		legacyChar(q[0]), legacyChar(q[1]), legacyChar(q[2]), legacyChar(q[3]), p.where(g+3))
	return p.fail(g+3, context, "base64 data",
		fmt.Sprintf("%s %s %s %s", quoteByte(q[0]), quoteByte(q[1]), quoteByte(q[2]), quoteByte(q[3])))
}

// b64Value reads "<encoded size> <base64>" and decodes it into the arena
// (legacy text_parse_data_dec).
func (p *parser) b64Value(context string) ([]byte, error) {
	start := p.i
	n, err := p.size(' ', context)
	if err != nil {
		return nil, p.wrap(err, "Error while reading encoded data size")
	}
	if n&3 != 0 {
		p.peeked = true
		p.legacy("Invalid encoded data size %d (%s)", n, p.where(p.i))
		return nil, p.fail(start, context, "an encoded size that is a multiple of 4", fmt.Sprint(n))
	}
	if err := p.expect(' ', context); err != nil {
		return nil, err
	}
	dst := p.ar.alloc(n / 4 * 3)
	m, err := p.b64Block(dst, n, context)
	if err != nil {
		return nil, p.wrap(err, "Error while reading encoded data")
	}
	return dst[:m:m], nil
}

func (p *parser) record(rec *Record) error {
	bins := rec.Bins[:0]
	*rec = Record{Bins: bins}
	const expected = "kndsgtb"
	quoted := [...]string{`"k"`, `"n"`, `"d"`, `"s"`, `"g"`, `"t"`, `"b"`}
	for st := 0; st < 7; st++ {
		if err := p.expect(' ', "record"); err != nil {
			return err
		}
		c, err := p.next("record", quoted[st])
		if err != nil {
			return err
		}
		switch {
		case st == 0 && c == 'n':
			st = 1
		case st == 3 && c == 'g':
			st = 4
		case c != expected[st]:
			p.legacy("Unexpected character %s in backup block (%s), expected %s", legacyChar(c), p.where(p.i-1), legacyChar(expected[st]))
			return p.fail(p.i-1, "record line", quoted[st], quoteByte(c))
		}
		if err := p.expect(' ', "record line"); err != nil {
			return err
		}
		switch st {
		case 0:
			err = p.key(&rec.Key)
		case 1:
			err = p.namespace(rec)
		case 2:
			err = p.digest(&rec.Digest)
		case 3:
			err = p.set(rec)
		case 4:
			var g int64
			if g, err = p.rangedInt("generation", "generation count", 0, math.MaxUint16, false); err == nil {
				rec.Generation = uint16(g)
				err = p.expect('\n', "record line")
			}
		case 5:
			var t int64
			if t, err = p.rangedInt("expiration time", "expiration time", 0, math.MaxUint32, true); err == nil {
				rec.VoidTime = uint32(t)
				err = p.expect('\n', "record line")
			}
		case 6:
			rec.Bins, err = p.bins(bins)
		}
		if err != nil {
			if st == 6 {
				rec.Bins = bins[:0]
			}
			return p.wrap(err, "Error while parsing record")
		}
		if st < 6 {
			if err := p.expect('+', "record"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) namespace(rec *Record) error {
	ns, err := p.token('\n', '\n', maxNamespace, "namespace")
	if err != nil {
		return p.wrap(err, "Error while reading namespace token")
	}
	if p.ns != "" && string(ns) != p.ns {
		p.peeked = true
		p.legacy("Invalid namespace %s in backup record, expected: %s (%s)", ns, p.ns, p.where(p.i))
		return p.fail(p.i, "namespace", quoteToken([]byte(p.ns)), quoteToken(ns))
	}
	rec.Namespace = ns
	return p.expect('\n', "record line")
}

func (p *parser) set(rec *Record) error {
	set, err := p.token('\n', '\n', maxSet, "set")
	if err != nil {
		return p.wrap(err, "Error while reading set token")
	}
	rec.Set, rec.HasSet = set, true
	return p.expect('\n', "record line")
}

// rangedInt reads the integer of a "+ g", "+ t" or "+ b" line and checks
// its range; unsigned renders a negative value as the legacy %PRIu64 does.
func (p *parser) rangedInt(context, what string, lo, hi int64, unsigned bool) (int64, error) {
	start := p.i
	v, err := p.integer(context)
	if err != nil {
		return 0, p.wrap(err, "Error while reading "+what)
	}
	if v < lo || v > hi {
		shown := strconv.FormatInt(v, 10)
		if unsigned {
			shown = strconv.FormatUint(uint64(v), 10)
		}
		p.peeked = true
		p.legacy("Invalid %s %s (%s)", what, shown, p.where(p.i))
		return 0, p.fail(start, context, fmt.Sprintf("%d to %d", lo, hi), fmt.Sprint(v))
	}
	return v, nil
}

func (p *parser) bins(bins []Bin) ([]Bin, error) {
	n, err := p.rangedInt("bin count", "bin count", 0, math.MaxUint16, true)
	if err != nil {
		return bins, err
	}
	if err := p.expect('\n', "bin count"); err != nil {
		return bins, err
	}
	for j := 0; j < int(n); j++ {
		bins = append(bins, Bin{})
		if err := p.bin(&bins[len(bins)-1]); err != nil {
			return bins, err
		}
	}
	return bins, nil
}

func (p *parser) key(k *Key) error {
	c, err := p.next("key", "key type")
	if err != nil {
		return err
	}
	switch c {
	case 'I':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyInt
		k.Int, err = p.integer("integer key")
		err = p.wrap(err, "Error while reading integer key value")
	case 'D':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyFloat
		k.Float, err = p.float("floating-point key")
		err = p.wrap(err, "Error while reading floating-point key value")
	case 'S':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyString
		k.Bytes, err = p.rawValue("string", "string key")
		err = p.wrap(err, "Error while reading string key value")
	case 'X':
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		k.Type = KeyString64
		k.Bytes, err = p.b64Value("encoded string key")
		err = p.wrap(err, "Error while reading encoded string key value")
	case 'B':
		var d byte
		if d, err = p.peek("key", `"!" or " "`); err != nil {
			return err
		}
		k.Type = KeyBytes
		if d == '!' {
			k.Compact = true
			p.i++
		}
		if err = p.expect(' ', "key"); err != nil {
			return err
		}
		start := p.i
		if k.Compact {
			k.Bytes, err = p.rawValue("data", "bytes key")
			err = p.wrap(err, "Error while reading key bytes")
		} else {
			k.Bytes, err = p.b64Value("encoded bytes key")
			err = p.wrap(err, "Error while reading encoded key bytes")
		}
		if err == nil && len(k.Bytes) > math.MaxUint32 {
			p.legacy("Key value too large (%d bytes)", len(k.Bytes))
			err = p.fail(start, "bytes key", "at most 4294967295 bytes", fmt.Sprint(len(k.Bytes)))
		}
	default:
		p.legacy("Invalid key type character %s in block (%s)", legacyChar(c), p.where(p.i-1))
		return p.fail(p.i-1, "key type", `one of "I", "D", "S", "X", "B"`, quoteByte(c))
	}
	if err != nil {
		return err
	}
	return p.expect('\n', "key")
}

func (p *parser) digest(d *[20]byte) error {
	var tmp [21]byte
	if _, err := p.b64Block(tmp[:], 28, "digest"); err != nil {
		return p.wrap(err, "Error while reading encoded digest string")
	}
	copy(d[:], tmp[:20])
	return p.expect('\n', "digest")
}

func (p *parser) bin(b *Bin) error {
	if err := p.expect('-', "bin"); err != nil {
		return err
	}
	if err := p.expect(' ', "bin"); err != nil {
		return err
	}
	c, err := p.next("bin type", "bin type")
	if err != nil {
		return err
	}
	labelAt := p.i - 1
	// strchr() finds the terminating NUL too: a NUL label gets as far
	// as the value.
	if !isBinLetter(c) && c != 0 {
		p.legacy("Invalid bytes label %s (%s)", legacyChar(c), p.where(labelAt))
		return p.fail(labelAt, "bin type", `one of "N I D S X G B J C P R H E Y M L Z"`, quoteByte(c))
	}
	b.Type = BinType(c)
	d, err := p.peek("bin", `"!" or " "`)
	if err != nil {
		return err
	}
	if d == '!' {
		b.Compact = true
		p.i++
	}
	if err := p.expect(' ', "bin"); err != nil {
		return err
	}
	nameAt := p.i
	b.Name, err = p.token(' ', '\n', maxToken, "bin name")
	if err != nil {
		return p.wrap(err, "Error while reading bin name token")
	}
	if b.Type == BinNil {
		if err := p.expect('\n', "nil bin"); err != nil {
			return err
		}
		return p.checkBinName(b.Name, nameAt, "NIL bin %s")
	}
	if err := p.expect(' ', "bin"); err != nil {
		return err
	}
	var set string // the legacy "Error while setting ..." message
	switch b.Type {
	case BinBool:
		b.Bool, err = p.boolean("boolean bin value")
		err = p.wrap(err, "Error while reading boolean bin value")
		set = "boolean bin %s to " + strconv.FormatBool(b.Bool)
	case BinInt:
		b.Int, err = p.integer("integer bin value")
		err = p.wrap(err, "Error while reading integer bin value")
		set = "integer bin %s to " + strconv.FormatInt(b.Int, 10)
	case BinFloat:
		b.Float, err = p.float("floating-point bin value")
		err = p.wrap(err, "Error while reading floating-point bin value")
		set = "floating-point bin %s to " + string(AppendFloat(nil, b.Float))
	case BinString, BinGeoJSON:
		what := "string"
		if b.Type == BinGeoJSON {
			what = "geojson"
		}
		b.Bytes, err = p.rawValue("string", "string bin value")
		err = p.wrap(err, "Error while reading "+what+" bin value")
		set = what + " bin %s to " + cString(b.Bytes)
	case BinString64:
		b.Bytes, err = p.b64Value("encoded string bin value")
		err = p.wrap(err, "Error while reading encoded string bin value")
		set = "string bin %s to " + cString(b.Bytes)
	case BinLDT:
		p.legacy("The backup contains LDTs - please use an older version of this tool to restore the backup (%s)", p.where(p.i-1))
		return p.fail(labelAt, "bin type", "no LDT bins (use an older tool to restore LDTs)", `"U"`)
	case 0:
		p.legacy("Invalid bytes label %s (%s) - should not happen", legacyChar(0), p.where(p.i-1))
		return p.fail(labelAt, "bin type", `one of "N I D S X G B J C P R H E Y M L Z"`, quoteByte(0))
	default:
		at := p.i
		if b.Compact {
			b.Bytes, err = p.rawValue("data", "bytes bin value")
			err = p.wrap(err, "Error while reading data bin value")
		} else {
			b.Bytes, err = p.b64Value("encoded bytes bin value")
			err = p.wrap(err, "Error while reading encoded data bin value")
		}
		if err == nil && len(b.Bytes) > math.MaxUint32 {
			p.legacy("Data bin value too large (%d bytes)", len(b.Bytes))
			err = p.fail(at, "bytes bin value", "at most 4294967295 bytes", fmt.Sprint(len(b.Bytes)))
		}
		set = "encoded data bin %s"
	}
	if err != nil {
		return err
	}
	if err := p.expect('\n', "bin"); err != nil {
		return err
	}
	return p.checkBinName(b.Name, nameAt, set)
}

var binLetters = stopTable(binTypeLetters)

func isBinLetter(c byte) bool { return binLetters[c] }

// checkBinName applies the legacy record's limit (names are C strings of
// at most 15 bytes); set is the legacy "Error while setting ..." message
// with %s for the name.
func (p *parser) checkBinName(name []byte, at int, set string) error {
	n := len(name)
	if z := bytes.IndexByte(name, 0); z >= 0 {
		n = z
	}
	if n > maxBinName {
		p.legacy("Error while setting "+set+" (%s)", cString(name), p.where(p.i-1))
		return p.fail(at, "bin name", "at most 15 bytes", quoteToken(name))
	}
	return nil
}

func (r *Reader) parseGlobal() (EntryKind, error) {
	p := &r.p
	p.unesc = true
	if err := p.expect(' ', "global line"); err != nil {
		return 0, err
	}
	c, err := p.next("global line", "global line type")
	if err != nil {
		return 0, err
	}
	switch {
	case c == 'i':
		return EntryIndex, p.index(&r.idx, false)
	case c == 'e' && r.version >= Version32:
		return EntryIndex, p.index(&r.idx, true)
	case c == 'u':
		return EntryUDF, p.udf(&r.udf)
	}
	exp := `"i" or "u"`
	if r.version >= Version32 {
		exp = `"i", "e" or "u"`
	}
	p.legacy("Invalid global type character %s in block (%s)", legacyChar(c), p.where(p.i-1))
	return 0, p.fail(p.i-1, "global line type", exp, quoteByte(c))
}

func (p *parser) stringToken(d byte, context string) (string, error) {
	t, err := p.token(d, d, maxToken, context)
	return string(t), err
}

func (p *parser) index(ix *Index, isExpr bool) error {
	paths := ix.Paths[:0]
	*ix = Index{Paths: paths}
	var err error
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	if ix.Namespace, err = p.stringToken(' ', "index namespace"); err != nil {
		return err
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	if ix.Set, err = p.stringToken(' ', "index set"); err != nil {
		return err
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	if ix.Name, err = p.stringToken(' ', "index name"); err != nil {
		return err
	}
	if p.indexNS && ix.Namespace != p.ns {
		p.peeked = true
		p.legacy("Invalid namespace %s in index %s, expected: %s (%s)", ix.Namespace, ix.Name, p.ns, p.where(p.i))
		return p.fail(p.i, "index namespace", quoteToken([]byte(p.ns)), quoteToken([]byte(ix.Namespace)))
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	c, err := p.next("index type", "index type")
	if err != nil {
		return err
	}
	switch IndexType(c) {
	case IndexDefault, IndexList, IndexMapKeys, IndexMapValues:
		ix.Type = IndexType(c)
	default:
		p.legacy("Invalid index type character %s in block (%s)", legacyChar(c), p.where(p.i-1))
		return p.fail(p.i-1, "index type", `one of "N", "L", "K", "V"`, quoteByte(c))
	}
	if err = p.expect(' ', "index"); err != nil {
		return err
	}
	at := p.i
	n, err := p.size(' ', "index path count")
	if err != nil {
		return err
	}
	if n == 0 {
		p.peeked = true
		p.legacy("Missing path(s) in index block (%s)", p.where(p.i))
		return p.fail(at, "index path count", "at least 1", "0")
	}
	for k := 0; k < n; k++ {
		if err = p.expect(' ', "index path"); err != nil {
			return err
		}
		var path IndexPath
		if path.Bin, err = p.stringToken(' ', "index path"); err != nil {
			return err
		}
		if err = p.expect(' ', "index path"); err != nil {
			return err
		}
		c, err := p.next("index data type", "index data type")
		if err != nil {
			return err
		}
		switch IndexDataType(c) {
		case IndexNumeric, IndexString, IndexGeo, IndexBlob:
			path.Type = IndexDataType(c)
		default:
			p.legacy("Invalid path type character %s in block (%s)", legacyChar(c), p.where(p.i-1))
			return p.fail(p.i-1, "index data type", `one of "N", "S", "G", "B"`, quoteByte(c))
		}
		if k != n-1 {
			if err = p.expect(' ', "index path"); err != nil {
				return err
			}
		}
		paths = append(paths, path)
		ix.Paths = paths
	}
	// The legacy reader peeks (at the end of the input that logs once)
	// and then expects a space (which logs again).
	d, err := p.peek("index", "a line feed")
	if err == errNeedMore {
		return err
	}
	if err != nil || d != '\n' {
		if err = p.expect(' ', "index"); err != nil {
			return err
		}
		ix.HasContext = true
	}
	at = p.i
	rest, err := p.stringToken('\n', "index context")
	if err != nil {
		return err
	}
	if isExpr {
		ix.HasContext = false
		if sp := lastIndexByteString(rest, ' '); sp >= 0 {
			ix.Context, ix.HasContext, ix.Expression = rest[:sp], true, rest[sp+1:]
		} else {
			ix.Expression = rest
		}
		if ix.Expression == "" {
			p.legacy("Missing expression in index block (%s)", p.where(at))
			return p.fail(at, "index expression", "a base64 expression", "nothing")
		}
	} else {
		ix.Context = rest
	}
	return p.expect('\n', "index")
}

func lastIndexByteString(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func (p *parser) udf(u *UDF) error {
	*u = UDF{}
	if err := p.expect(' ', "UDF"); err != nil {
		return err
	}
	c, err := p.next("UDF type", `"L"`)
	if err != nil {
		return err
	}
	if c != 'L' {
		p.legacy("Invalid UDF type character %s in block (%s)", legacyChar(c), p.where(p.i-1))
		return p.fail(p.i-1, "UDF type", `"L"`, quoteByte(c))
	}
	u.Type = c
	if err = p.expect(' ', "UDF"); err != nil {
		return err
	}
	if u.Name, err = p.stringToken(' ', "UDF name"); err != nil {
		return err
	}
	if err = p.expect(' ', "UDF"); err != nil {
		return err
	}
	at := p.i
	n, err := p.size(' ', "UDF size")
	if err != nil {
		return err
	}
	if n > math.MaxUint32 {
		p.peeked = true
		p.legacy("UDF file %s is too large (%d bytes)", cString([]byte(u.Name)), n)
		return p.fail(at, "UDF size", "at most 4294967295", fmt.Sprint(n))
	}
	if err = p.expect(' ', "UDF"); err != nil {
		return err
	}
	if u.Content, err = p.block(n, "UDF content"); err != nil {
		return err
	}
	return p.expect('\n', "UDF")
}
