package conf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// entryKind is what a table entry holds, in the order legacy enumerates
// entries of a table: scalar values first, then arrays, then sub-tables.
type entryKind int

const (
	entScalar entryKind = iota
	entArray
	entTable
)

// entry is one key of a TOML table.
type entry struct {
	key   string // decoded key
	raw   string // key as written (for "key X exists")
	line  int
	kind  entryKind
	vkind unstable.Kind // scalar kind
	vraw  string        // scalar raw text
	vstr  string        // decoded string when vkind == String
	sub   *table        // for entTable
	elems []*table      // for arrays of tables
	aKind byte          // array element class: 'v' value, 'a' array, 't' table
}

// table is a TOML table as the legacy parser models it.
type table struct {
	entries  []*entry
	implicit bool
}

func (t *table) find(key string) *entry {
	for _, e := range t.entries {
		if e.key == key {
			return e
		}
	}
	return nil
}

// ordered returns the entries in legacy enumeration order.
func (t *table) ordered() []*entry {
	var out []*entry
	for _, k := range []entryKind{entScalar, entArray, entTable} {
		for _, e := range t.entries {
			if e.kind == k {
				out = append(out, e)
			}
		}
	}
	return out
}

// section returns the top-level table called name (exact match), or nil.
func (t *table) section(name string) *table {
	e := t.find(name)
	if e == nil || e.kind != entTable {
		return nil
	}
	return e.sub
}

// parseTOML parses a document with go-toml's parser and builds the legacy
// table model, applying the legacy parser's extra rules (no dotted keys in
// key/value pairs, duplicate detection, homogeneous arrays). Errors read
// "line N: <message>" like the legacy parser's.
func parseTOML(data []byte) (*table, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i] // legacy reads the file as a C string
	}
	lineOf := func(off int) int {
		if off > len(data) {
			off = len(data)
		}
		return bytes.Count(data[:off], []byte("\n")) + 1
	}
	root := &table{}
	cur := root
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts := keyParts(&p, n.Key(), lineOf)
			t, err := walkHeader(root, parts, n.Kind == unstable.ArrayTable)
			if err != nil {
				return nil, err
			}
			cur = t
		case unstable.KeyValue:
			parts := keyParts(&p, n.Key(), lineOf)
			if len(parts) != 1 {
				return nil, fmt.Errorf("line %d: bad key", parts[0].line)
			}
			e, err := buildEntry(&p, parts[0], n.Value(), lineOf)
			if err != nil {
				return nil, err
			}
			if cur.find(e.key) != nil {
				return nil, fmt.Errorf("line %d: key %s exists", e.line, clip(e.raw))
			}
			cur.entries = append(cur.entries, e)
		}
	}
	if err := p.Error(); err != nil {
		return nil, translateError(data, err, lineOf)
	}
	return root, nil
}

type keyPart struct {
	key, raw string
	line     int
}

func keyParts(p *unstable.Parser, it unstable.Iterator, lineOf func(int) int) []keyPart {
	var out []keyPart
	for it.Next() {
		k := it.Node()
		out = append(out, keyPart{key: string(k.Data), raw: string(p.Raw(k.Raw)), line: lineOf(int(k.Raw.Offset))})
	}
	return out
}

func clip(s string) string {
	if len(s) > 99 {
		return s[:99]
	}
	return s
}

func walkHeader(root *table, parts []keyPart, array bool) (*table, error) {
	cur := root
	for _, kp := range parts[:len(parts)-1] {
		e := cur.find(kp.key)
		switch {
		case e == nil:
			t := &table{implicit: true}
			cur.entries = append(cur.entries, &entry{key: kp.key, raw: kp.raw, line: kp.line, kind: entTable, sub: t})
			cur = t
		case e.kind == entTable:
			cur = e.sub
		case e.kind == entArray && e.aKind == 't' && len(e.elems) > 0:
			cur = e.elems[len(e.elems)-1]
		default:
			return nil, fmt.Errorf("line %d: key %s exists", kp.line, clip(kp.raw))
		}
	}
	last := parts[len(parts)-1]
	e := cur.find(last.key)
	if array {
		if e == nil {
			e = &entry{key: last.key, raw: last.raw, line: last.line, kind: entArray, aKind: 't'}
			cur.entries = append(cur.entries, e)
		} else if e.kind != entArray {
			return nil, fmt.Errorf("line %d: key exists", last.line)
		} else if e.aKind != 't' {
			return nil, fmt.Errorf("line %d: array mismatch", last.line)
		}
		t := &table{}
		e.elems = append(e.elems, t)
		return t, nil
	}
	if e != nil {
		if e.kind == entTable && e.sub.implicit {
			e.sub.implicit = false
			return e.sub, nil
		}
		return nil, fmt.Errorf("line %d: key %s exists", last.line, clip(last.raw))
	}
	t := &table{}
	cur.entries = append(cur.entries, &entry{key: last.key, raw: last.raw, line: last.line, kind: entTable, sub: t})
	return t, nil
}

func buildEntry(p *unstable.Parser, kp keyPart, v *unstable.Node, lineOf func(int) int) (*entry, error) {
	e := &entry{key: kp.key, raw: kp.raw, line: kp.line}
	switch v.Kind {
	case unstable.Array:
		e.kind = entArray
		cls, err := arrayClass(p, v, lineOf)
		if err != nil {
			return nil, err
		}
		e.aKind = cls
	case unstable.InlineTable:
		e.kind = entTable
		e.sub = &table{}
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			parts := keyParts(p, kv.Key(), lineOf)
			if len(parts) != 1 {
				return nil, fmt.Errorf("line %d: bad key", parts[0].line)
			}
			sub, err := buildEntry(p, parts[0], kv.Value(), lineOf)
			if err != nil {
				return nil, err
			}
			if e.sub.find(sub.key) != nil {
				return nil, fmt.Errorf("line %d: key %s exists", sub.line, clip(sub.raw))
			}
			e.sub.entries = append(e.sub.entries, sub)
		}
	default:
		e.kind = entScalar
		e.vkind = v.Kind
		e.vraw = string(p.Raw(v.Raw))
		if v.Kind == unstable.String {
			e.vstr = string(v.Data)
		}
	}
	return e, nil
}

// arrayClass checks the legacy homogeneity rules and returns the element class.
func arrayClass(p *unstable.Parser, v *unstable.Node, lineOf func(int) int) (byte, error) {
	var cls byte
	var first unstable.Kind
	n := 0
	it := v.Children()
	for it.Next() {
		c := it.Node()
		line := lineOf(int(c.Raw.Offset))
		var k byte
		switch c.Kind {
		case unstable.Array:
			k = 'a'
			if _, err := arrayClass(p, c, lineOf); err != nil {
				return 0, err
			}
		case unstable.InlineTable:
			k = 't'
		default:
			k = 'v'
		}
		if cls == 0 {
			cls = k
		} else if cls != k {
			if k == 'v' {
				return 0, fmt.Errorf("line %d: a string array can only contain strings", line)
			}
			return 0, fmt.Errorf("line %d: array type mismatch", line)
		}
		if k == 'v' {
			if n == 0 {
				first = c.Kind
			} else if c.Kind != first {
				return 0, fmt.Errorf("line %d: array type mismatch", line)
			}
			n++
		}
	}
	return cls, nil
}

// translateError renders a go-toml syntax error in the legacy parser's
// "line N: message" form, choosing the legacy message for the construct
// being parsed on that line.
func translateError(data []byte, err error, lineOf func(int) int) error {
	var pe *unstable.ParserError
	off := len(data)
	if errors.As(err, &pe) && pe.Highlight != nil {
		if o := highlightOffset(data, pe.Highlight); o >= 0 {
			off = o
		}
	}
	line := lineOf(off)
	// Find the start of the statement: the beginning of the line holding
	// the error offset.
	start := bytes.LastIndexByte(data[:min(off, len(data))], '\n') + 1
	text := string(data[start:])
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	trimmed := strings.TrimSpace(text)
	msg := "syntax error"
	switch {
	case strings.HasPrefix(trimmed, "["):
		body := strings.TrimLeft(trimmed, "[")
		if i := strings.IndexByte(body, ']'); i < 0 {
			msg = "invalid key"
		} else if strings.TrimSpace(body[:i]) == "" {
			msg = "invalid or missing key"
		} else {
			after := strings.TrimLeft(strings.TrimSpace(body[i:]), "]")
			after = strings.TrimSpace(after)
			if after != "" && !strings.HasPrefix(after, "#") {
				msg = "extra chars after ] or ]]"
			} else {
				msg = "bad key"
			}
		}
	case trimmed != "" && !strings.Contains(trimmed, "=") && start == lineStart(data, off):
		msg = "missing ="
	case strings.Contains(trimmed, "="):
		eq := strings.IndexByte(trimmed, '=')
		key := strings.TrimSpace(trimmed[:eq])
		if key == "" || (!strings.HasPrefix(key, "\"") && !strings.HasPrefix(key, "'") && strings.IndexFunc(key, func(r rune) bool {
			return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0) {
			msg = "bad key"
		} else if strings.TrimSpace(trimmed[eq+1:]) == "" {
			msg = "syntax error"
		}
	}
	return fmt.Errorf("line %d: %s", line, msg)
}

func lineStart(data []byte, off int) int {
	return bytes.LastIndexByte(data[:min(off, len(data))], '\n') + 1
}

func highlightOffset(data, hl []byte) int {
	// The highlight is a sub-slice of data.
	d := cap(data) - cap(hl)
	if d < 0 || d > len(data) {
		return -1
	}
	return d
}
