package infocmd

import (
	"fmt"
	"strconv"
	"strings"

	"asbtools/asb"
)

// NewSIndexSyntax reports whether the server takes the 8.1 form of
// sindex-create ("namespace=", "bin=", "type=", "exp=") rather than the
// older "ns=" / "indexdata=<bin>,<type>" form.
func (v Version) NewSIndexSyntax() bool { return v.AtLeast(8, 1) }

// SIndexCollectionName returns the sindex-create "indextype" value of t.
func SIndexCollectionName(t asb.IndexType) (string, bool) {
	switch t {
	case asb.IndexDefault:
		return "default", true
	case asb.IndexList:
		return "list", true
	case asb.IndexMapKeys:
		return "mapkeys", true
	case asb.IndexMapValues:
		return "mapvalues", true
	}
	return "", false
}

// SIndexDataTypeName returns the sindex-create data type name of t.
func SIndexDataTypeName(t asb.IndexDataType) (string, bool) {
	switch t {
	case asb.IndexNumeric:
		return "numeric", true
	case asb.IndexString:
		return "string", true
	case asb.IndexGeo:
		return "geo2dsphere", true
	case asb.IndexBlob:
		return "blob", true
	}
	return "", false
}

// SIndexCreateCommand builds the sindex-create info command creating ix in
// namespace ns (the target namespace, which may differ from ix.Namespace
// when restoring under another name). Like the legacy tool only the first
// path is indexed. Servers before 8.1 get the "ns=...;indexdata=bin,type"
// form; 8.1 and later the "namespace=...;bin=...;type=..." form, which is
// also the only one able to express an expression index. An empty set
// means the index covers records of every set.
func SIndexCreateCommand(ix *asb.Index, ns string, v Version) (string, error) {
	if len(ix.Paths) == 0 && ix.Expression == "" {
		return "", fmt.Errorf("index %s has no path", ix.Name)
	}
	itype, ok := SIndexCollectionName(ix.Type)
	if !ok {
		return "", fmt.Errorf("index %s: invalid index type %q", ix.Name, byte(ix.Type))
	}
	var dtype, bin string
	if len(ix.Paths) > 0 {
		dtype, ok = SIndexDataTypeName(ix.Paths[0].Type)
		if !ok {
			return "", fmt.Errorf("index %s: invalid path type %q", ix.Name, byte(ix.Paths[0].Type))
		}
		bin = ix.Paths[0].Bin
	}
	var b strings.Builder
	b.WriteString("sindex-create:")
	if v.NewSIndexSyntax() {
		b.WriteString("namespace=")
	} else {
		b.WriteString("ns=")
	}
	b.WriteString(ns)
	if ix.Set != "" {
		b.WriteString(";set=")
		b.WriteString(ix.Set)
	}
	b.WriteString(";indexname=")
	b.WriteString(ix.Name)
	if ix.Context != "" {
		b.WriteString(";context=")
		b.WriteString(ix.Context)
	}
	b.WriteString(";indextype=")
	b.WriteString(itype)
	switch {
	case ix.Expression != "":
		if !v.NewSIndexSyntax() {
			return "", fmt.Errorf("index %s: expression indexes need server 8.1 or later (server is %d.%d)", ix.Name, v.Major, v.Minor)
		}
		b.WriteString(";exp=")
		b.WriteString(ix.Expression)
		b.WriteString(";type=")
		b.WriteString(dtype)
	case v.NewSIndexSyntax():
		b.WriteString(";bin=")
		b.WriteString(bin)
		b.WriteString(";type=")
		b.WriteString(dtype)
	default:
		b.WriteString(";indexdata=")
		b.WriteString(bin)
		b.WriteString(",")
		b.WriteString(dtype)
	}
	return b.String(), nil
}

// SIndexDeleteCommand builds the sindex-delete info command for index name
// of namespace ns.
func SIndexDeleteCommand(ns, name string, v Version) string {
	if v.NewSIndexSyntax() {
		return "sindex-delete:namespace=" + ns + ";indexname=" + name
	}
	return "sindex-delete:ns=" + ns + ";indexname=" + name
}

// SIndexStatCommand builds the info command whose reply tells how far the
// build of index name has progressed (load_pct).
func SIndexStatCommand(ns, name string, v Version) string {
	if v.NewSIndexSyntax() {
		return "sindex-stat:namespace=" + ns + ";indexname=" + name
	}
	return "sindex-stat:ns=" + ns + ";indexname=" + name
}

// InfoError is an error reply of an info command ("ERROR:<code>:<text>",
// "FAIL:<code>:<text>" or "ERROR::<text>").
type InfoError struct {
	Code    int
	Message string
}

func (e *InfoError) Error() string {
	return fmt.Sprintf("code %d: %s", e.Code, e.Message)
}

// CheckInfoReply returns nil when reply is "OK" (case-insensitive, trailing
// whitespace ignored) and an *InfoError otherwise.
func CheckInfoReply(reply string) error {
	r := strings.TrimRight(reply, "\n\t ")
	if strings.EqualFold(r, "ok") {
		return nil
	}
	return ParseInfoError(r)
}

// ParseInfoError decodes an error reply. Unknown shapes give code 1 (server
// error) with the whole reply as message.
func ParseInfoError(reply string) *InfoError {
	r := strings.TrimRight(reply, "\n\t ")
	for _, p := range []string{"ERROR:", "FAIL:", "error:", "fail:"} {
		if strings.HasPrefix(r, p) {
			rest := r[len(p):]
			code, msg := rest, ""
			if i := strings.IndexByte(rest, ':'); i >= 0 {
				code, msg = rest[:i], rest[i+1:]
			}
			n, err := strconv.Atoi(strings.TrimSpace(code))
			if err != nil {
				return &InfoError{Code: 1, Message: rest}
			}
			return &InfoError{Code: n, Message: msg}
		}
	}
	return &InfoError{Code: 1, Message: r}
}

// SIndexLoadPercent extracts load_pct from a sindex-stat reply; ok is false
// when the reply has no such field.
func SIndexLoadPercent(reply string) (pct int, ok bool) {
	for _, kv := range strings.FieldsFunc(reply, func(r rune) bool { return r == ';' || r == ':' }) {
		if v, found := strings.CutPrefix(kv, "load_pct="); found {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, false
			}
			return n, true
		}
	}
	return 0, false
}
