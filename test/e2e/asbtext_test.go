package e2e

// An independent reading of backup text (no package asb): the header lines,
// the exact text of every global line (index definitions and UDFs), and per
// record its set, key type, bin types and digest. It follows the legacy text
// format on its own (enc_text.c: escaped names end at an unescaped space or
// line feed, string-like values carry their byte length), so the tests that
// judge headers, global lines and summaries with it do not rely on the
// reader or writer under test.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// asbText is what scanASB finds in one backup file's text.
type asbText struct {
	Header  []string // "Version 3.1", "# namespace test", "# first-file", in file order
	Globals []string // every "* " entry, exactly as written (UDF content included)
	Records []asbTextRecord
	Size    int // bytes of text
}

// asbTextRecord is one record block.
type asbTextRecord struct {
	Digest   string   // base64, as written
	Set      string   // unescaped; "" = no set
	KeyType  string   // "I", "D", "S", "B", "B!"; "" = no key
	VoidTime uint32   // "+ t"
	BinTypes []string // type labels of the bin lines ("S", "B!", ...)
	Text     string   // the whole block
}

// asbScanner walks backup text.
type asbScanner struct {
	d    []byte
	p    int
	line int
}

func (s *asbScanner) errf(format string, args ...any) error {
	return fmt.Errorf("line %d (offset %d): %s", s.line, s.p, fmt.Sprintf(format, args...))
}

// lit consumes the literal x.
func (s *asbScanner) lit(x string) error {
	if !bytes.HasPrefix(s.d[s.p:], []byte(x)) {
		end := min(len(s.d), s.p+len(x)+10)
		return s.errf("expected %q, found %q", x, s.d[s.p:end])
	}
	s.p += len(x)
	for _, c := range []byte(x) {
		if c == '\n' {
			s.line++
		}
	}
	return nil
}

// token reads an escaped token up to (not including) an unescaped space or
// line feed, and returns it unescaped.
func (s *asbScanner) token() (string, error) {
	var out []byte
	for s.p < len(s.d) {
		c := s.d[s.p]
		if c == ' ' || c == '\n' {
			return string(out), nil
		}
		if c == '\\' {
			if s.p+1 >= len(s.d) {
				return "", s.errf("backslash at end of text")
			}
			s.p++
			c = s.d[s.p]
			if c == '\n' {
				s.line++
			}
		}
		out = append(out, c)
		s.p++
	}
	return "", s.errf("unexpected end of text in a token")
}

// rest reads the remainder of the line (an escaped token may hold an
// escaped line feed) and the line feed.
func (s *asbScanner) rest() (string, error) {
	start := s.p
	for s.p < len(s.d) {
		c := s.d[s.p]
		if c == '\\' {
			s.p += 2
			continue
		}
		if c == '\n' {
			txt := string(s.d[start:s.p])
			s.p++
			s.line++
			return txt, nil
		}
		s.p++
	}
	return "", s.errf("unexpected end of text in a line")
}

// sized reads "<len> <len bytes>\n".
func (s *asbScanner) sized() error {
	start := s.p
	for s.p < len(s.d) && s.d[s.p] >= '0' && s.d[s.p] <= '9' {
		s.p++
	}
	n, err := strconv.Atoi(string(s.d[start:s.p]))
	if err != nil {
		return s.errf("bad length %q", s.d[start:s.p])
	}
	if err := s.lit(" "); err != nil {
		return err
	}
	if s.p+n+1 > len(s.d) {
		return s.errf("value of %d bytes runs past the end", n)
	}
	s.line += bytes.Count(s.d[s.p:s.p+n], []byte("\n"))
	s.p += n
	return s.lit("\n")
}

// sizedTypes are the key and bin types whose value is "<len> <bytes>".
func sizedType(t string) bool {
	switch strings.TrimSuffix(t, "!") {
	case "S", "B", "J", "C", "P", "R", "H", "E", "Y", "M", "L", "G", "X":
		return true
	}
	return false
}

// scanASB reads one file's text.
func scanASB(data []byte) (*asbText, error) {
	s := &asbScanner{d: data, line: 1}
	out := &asbText{Size: len(data)}
	// Header: the version line, then meta lines.
	v, err := s.rest()
	if err != nil {
		return nil, err
	}
	out.Header = append(out.Header, v)
	for s.p < len(s.d) && s.d[s.p] == '#' {
		l, err := s.rest()
		if err != nil {
			return nil, err
		}
		out.Header = append(out.Header, l)
	}
	for s.p < len(s.d) {
		start := s.p
		switch {
		case bytes.HasPrefix(s.d[s.p:], []byte("* u ")):
			if err := s.lit("* u "); err != nil {
				return nil, err
			}
			if _, err := s.token(); err != nil { // type (L)
				return nil, err
			}
			if err := s.lit(" "); err != nil {
				return nil, err
			}
			if _, err := s.token(); err != nil { // name
				return nil, err
			}
			if err := s.lit(" "); err != nil {
				return nil, err
			}
			if err := s.sized(); err != nil {
				return nil, err
			}
			out.Globals = append(out.Globals, string(s.d[start:s.p]))
		case bytes.HasPrefix(s.d[s.p:], []byte("* ")):
			if _, err := s.rest(); err != nil {
				return nil, err
			}
			out.Globals = append(out.Globals, string(s.d[start:s.p]))
		case bytes.HasPrefix(s.d[s.p:], []byte("+ ")):
			r, err := s.record()
			if err != nil {
				return nil, err
			}
			r.Text = string(s.d[start:s.p])
			out.Records = append(out.Records, r)
		default:
			return nil, s.errf("unexpected %q", s.d[s.p:min(len(s.d), s.p+20)])
		}
	}
	return out, nil
}

// record reads one record block: "+ k" (optional), "+ n", "+ d", "+ s"
// (optional), "+ g", "+ t", "+ b N" and N bin lines.
func (s *asbScanner) record() (asbTextRecord, error) {
	var r asbTextRecord
	if bytes.HasPrefix(s.d[s.p:], []byte("+ k ")) {
		s.lit("+ k ")
		t, err := s.token()
		if err != nil {
			return r, err
		}
		r.KeyType = t
		if err := s.lit(" "); err != nil {
			return r, err
		}
		if sizedType(t) {
			err = s.sized()
		} else {
			_, err = s.rest()
		}
		if err != nil {
			return r, err
		}
	}
	for _, f := range []string{"n", "d", "s", "g", "t", "b"} {
		if f == "s" && !bytes.HasPrefix(s.d[s.p:], []byte("+ s ")) {
			continue
		}
		if err := s.lit("+ " + f + " "); err != nil {
			return r, err
		}
		var val string
		var err error
		if f == "s" {
			val, err = s.token()
			if err == nil {
				err = s.lit("\n")
			}
		} else {
			val, err = s.rest()
		}
		if err != nil {
			return r, err
		}
		switch f {
		case "d":
			if b, err := base64.StdEncoding.DecodeString(val); err != nil || len(b) != 20 {
				return r, s.errf("bad digest %q", val)
			}
			r.Digest = val
		case "s":
			r.Set = val
		case "t":
			vt, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return r, s.errf("bad void time %q", val)
			}
			r.VoidTime = uint32(vt)
		case "b":
			n, err := strconv.Atoi(val)
			if err != nil {
				return r, s.errf("bad bin count %q", val)
			}
			for i := 0; i < n; i++ {
				t, err := s.bin()
				if err != nil {
					return r, err
				}
				r.BinTypes = append(r.BinTypes, t)
			}
		}
	}
	return r, nil
}

// bin reads one bin line and returns its type label.
func (s *asbScanner) bin() (string, error) {
	if err := s.lit("- "); err != nil {
		return "", err
	}
	t, err := s.token()
	if err != nil {
		return "", err
	}
	if err := s.lit(" "); err != nil {
		return "", err
	}
	if _, err := s.token(); err != nil { // name
		return "", err
	}
	if t == "N" {
		return t, s.lit("\n")
	}
	if err := s.lit(" "); err != nil {
		return "", err
	}
	if sizedType(t) {
		return t, s.sized()
	}
	_, err = s.rest()
	return t, err
}

// asbSummary renders the summary of a backup's files in the form of the
// golden corpus's summary.txt.
func asbSummary(files []*asbText) string {
	versions, namespaces := map[string]bool{}, map[string]bool{}
	firsts, indexes, udfs, records := 0, 0, 0, 0
	sets, keys, bins := map[string]int{}, map[string]int{}, map[string]int{}
	for _, f := range files {
		for _, h := range f.Header {
			switch {
			case strings.HasPrefix(h, "Version "):
				versions[strings.TrimPrefix(h, "Version ")] = true
			case strings.HasPrefix(h, "# namespace "):
				namespaces[strings.TrimPrefix(h, "# namespace ")] = true
			case h == "# first-file":
				firsts++
			}
		}
		for _, g := range f.Globals {
			if strings.HasPrefix(g, "* u ") {
				udfs++
			} else {
				indexes++
			}
		}
		for _, r := range f.Records {
			records++
			sets[r.Set]++
			k := r.KeyType
			if k == "" {
				k = "none"
			}
			keys[k]++
			for _, b := range r.BinTypes {
				bins[b]++
			}
		}
	}
	list := func(m map[string]bool) string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	counts := func(m map[string]int) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		var out []string
		for _, k := range ks {
			out = append(out, fmt.Sprintf("%q=%d", k, m[k]))
		}
		return strings.Join(out, " ")
	}
	return fmt.Sprintf("asbcanon files=%d versions=%s namespaces=%s first-files=%d\n"+
		"indexes=%d udfs=%d records=%d\nsets: %s\nkey types: %s\nbin types: %s\n",
		len(files), list(versions), list(namespaces), firsts, indexes, udfs, records,
		counts(sets), counts(keys), counts(bins))
}

// unescapeToken removes the backslash escapes of a token.
func unescapeToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// textIndex is what an index line ("* i") asks a server to create.
type textIndex struct {
	Namespace, Set, Name, IndexType, Bin, Type, Context string
}

// parseIndexLine reads "* i <ns> <set> <name> <N|L|K|V> 1 <path> <N|S|G|B> [<context>]".
func parseIndexLine(line string) (textIndex, error) {
	f := splitEscaped(strings.TrimSuffix(line, "\n"))
	if len(f) < 9 || len(f) > 10 || f[0] != "*" || f[1] != "i" || f[6] != "1" {
		return textIndex{}, fmt.Errorf("unexpected index line %q", line)
	}
	itype := map[string]string{"N": "default", "L": "list", "K": "mapkeys", "V": "mapvalues"}[f[5]]
	ptype := map[string]string{"N": "numeric", "S": "string", "G": "geo2dsphere", "B": "blob"}[f[8]]
	if itype == "" || ptype == "" {
		return textIndex{}, fmt.Errorf("unexpected index or path type in %q", line)
	}
	ix := textIndex{Namespace: unescapeToken(f[2]), Set: unescapeToken(f[3]), Name: unescapeToken(f[4]),
		IndexType: itype, Bin: unescapeToken(f[7]), Type: ptype}
	if len(f) == 10 {
		ix.Context = f[9]
	}
	return ix, nil
}

// parseUDFLine reads "* u L <name> <len> <content>\n".
func parseUDFLine(entry string) (name string, content []byte, err error) {
	f := splitEscaped(entry)
	if len(f) < 5 || f[0] != "*" || f[1] != "u" || f[2] != "L" {
		return "", nil, fmt.Errorf("unexpected UDF line %q", entry)
	}
	n, err := strconv.Atoi(f[4])
	if err != nil {
		return "", nil, fmt.Errorf("UDF length in %q", entry)
	}
	head := len(strings.Join(f[:5], " ")) + 1
	if head+n+1 != len(entry) {
		return "", nil, fmt.Errorf("UDF %q: %d bytes of content, entry of %d", f[3], n, len(entry))
	}
	return unescapeToken(f[3]), []byte(entry[head : head+n]), nil
}
