package infocmd

import (
	"fmt"
	"strings"

	"asbtools/asb"
)

// sindexKeys are the field names of every known `sindex-list` format. The
// entry is split only at a ':' that starts one of them, so names containing
// ':' (set and bin names allow it) survive.
var sindexKeys = []string{
	"ns", "namespace", "indexname", "set", "bin", "bins", "num_bins", "type", "indextype",
	"context", "exp", "state", "path", "sync_state", "ns_name",
}

func splitSIndexEntry(entry string) map[string]string {
	out := make(map[string]string, 10)
	start := 0
	cut := func(end int) {
		k, v, ok := strings.Cut(entry[start:end], "=")
		if ok {
			if _, dup := out[k]; !dup {
				out[k] = v
			}
		}
	}
	for i := 0; i < len(entry); i++ {
		if entry[i] != ':' {
			continue
		}
		rest := entry[i+1:]
		for _, k := range sindexKeys {
			if strings.HasPrefix(rest, k+"=") {
				cut(i)
				start = i + 1
				break
			}
		}
	}
	cut(len(entry))
	return out
}

// SIndex is one parsed secondary index with the extra facts the backup tool
// needs besides its asb definition.
type SIndex struct {
	asb.Index
	// SetIndex marks an 8.1.2+ set index (`indextype=set`), which is not a
	// secondary index and is never backed up.
	SetIndex bool
}

// ParseSIndexList parses a `sindex-list` response of any server version into
// asb index definitions for namespace ns:
//
//   - 8.1: `ns=..:indexname=..:set=<s|null>:bin=<b|null>:type=..:indextype=..:context=<b64|null>:exp=<b64|null>:state=RW`
//   - 6.1–8.0: the same without `exp=`;
//   - 5.x/6.0: `ns=..:set=<s|NULL>:indexname=..:bin=..:type=<NUMERIC|STRING|GEO2DSPHERE>:indextype=<NONE|LIST|..>:path=..:state=RW`.
//
// `null`/`NULL` sets and contexts mean "none" (the index set is written
// empty); an expression index (exp not null) keeps its base64 expression in
// Expression. Set indexes are returned with SetIndex set. Entries are
// separated by ';' (a trailing ';' is allowed).
func ParseSIndexList(resp string) ([]SIndex, error) {
	resp = strings.TrimSpace(resp)
	resp = strings.TrimSuffix(resp, ";")
	if resp == "" {
		return nil, nil
	}
	if e, ok := ErrorResponse(resp); ok {
		return nil, fmt.Errorf("%s", e)
	}
	var out []SIndex
	for _, entry := range strings.Split(resp, ";") {
		if entry == "" {
			continue
		}
		ix, err := parseSIndex(entry)
		if err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	return out, nil
}

func isNull(v string) bool { return strings.EqualFold(v, "null") }

func parseSIndex(entry string) (SIndex, error) {
	f := splitSIndexEntry(entry)
	var ix SIndex
	ix.Namespace = f["ns"]
	if ix.Namespace == "" {
		ix.Namespace = f["namespace"]
	}
	ix.Name = f["indexname"]
	if ix.Name == "" {
		return ix, fmt.Errorf("Missing index name in secondary index info string %s", entry)
	}
	if s, ok := f["set"]; ok && !isNull(s) {
		ix.Set = s
	}
	it := f["indextype"]
	switch strings.ToLower(it) {
	case "", "none", "default":
		ix.Type = asb.IndexDefault
	case "list":
		ix.Type = asb.IndexList
	case "mapkeys":
		ix.Type = asb.IndexMapKeys
	case "mapvalues":
		ix.Type = asb.IndexMapValues
	case "set":
		ix.SetIndex = true
		return ix, nil
	default:
		return ix, fmt.Errorf("Invalid index type %s", it)
	}
	if n, ok := f["num_bins"]; ok && n != "1" {
		return ix, fmt.Errorf("Multi-bin secondary indexes currently not supported, number of bins: %s", n)
	}
	var dt asb.IndexDataType
	switch t := f["type"]; strings.ToLower(t) {
	case "numeric", "int signed":
		dt = asb.IndexNumeric
	case "string", "text":
		dt = asb.IndexString
	case "blob":
		dt = asb.IndexBlob
	case "geo2dsphere", "geojson":
		dt = asb.IndexGeo
	default:
		return ix, fmt.Errorf("Invalid path type %s", t)
	}
	bin, ok := f["bin"]
	if !ok {
		bin, ok = f["path"]
	}
	exp := f["exp"]
	if exp != "" && !isNull(exp) {
		ix.Expression = exp
		if isNull(bin) {
			bin = ""
		}
	} else if !ok {
		return ix, fmt.Errorf("Invalid number of paths in index %s (0)", ix.Name)
	}
	ix.Paths = []asb.IndexPath{{Bin: bin, Type: dt}}
	if c, ok := f["context"]; ok && !isNull(c) {
		ix.Context, ix.HasContext = c, true
	}
	return ix, nil
}
