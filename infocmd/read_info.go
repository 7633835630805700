// Package infocmd builds the info commands the backup and restore tools send
// to an Aerospike node and parses their responses: server version, namespace
// object counts and replication factor, set object counts, secondary index
// lists (every server version's format) and UDF listings and contents.
package infocmd

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Info command names and builders used by the backup tool.
const (
	// Build asks for the server version ("8.1.2.0").
	Build = "build"
	// UDFList lists the registered UDF modules.
	UDFList = "udf-list"
)

// NamespaceCmd returns the `namespace/<ns>` statistics command.
func NamespaceCmd(ns string) string { return "namespace/" + ns }

// SetCmd returns the `sets/<ns>/<set>` command, whose answer carries only
// that set's properties (no `ns=`/`set=` prefix), so set names holding `:`
// or `;` cannot confuse the parser.
func SetCmd(ns, set string) string { return "sets/" + ns + "/" + set }

// SIndexListCmd returns the `sindex-list` command for ns; b64 asks for
// base64 contexts and expressions (servers 6.1 and later).
func SIndexListCmd(ns string, b64 bool) string {
	c := "sindex-list:ns=" + ns
	if b64 {
		c += ";b64=true"
	}
	return c
}

// UDFGetCmd returns the `udf-get` command for one module.
func UDFGetCmd(name string) string { return "udf-get:filename=" + name + ";" }

// Version is a server version as reported by the `build` command.
type Version struct {
	Major, Minor, Patch, Build int
}

// String formats the version as "major.minor.patch.build".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.Patch, v.Build)
}

// AtLeast reports whether v is major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

// ParseBuild parses a `build` response ("8.1.2.0", "7.2.0.1-start-1", "6.0").
// At least major and minor are required; missing parts are 0 and anything
// after the leading digits of a part is ignored.
func ParseBuild(s string) (Version, error) {
	s = strings.TrimSpace(s)
	parts := strings.SplitN(s, ".", 4)
	var nums [4]int
	for i, p := range parts {
		j := 0
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		if j == 0 {
			if i < 2 {
				return Version{}, fmt.Errorf("invalid server build string %q", s)
			}
			break
		}
		n, err := strconv.Atoi(p[:j])
		if err != nil {
			return Version{}, fmt.Errorf("invalid server build string %q", s)
		}
		nums[i] = n
		if j != len(p) {
			break
		}
	}
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("invalid server build string %q", s)
	}
	return Version{nums[0], nums[1], nums[2], nums[3]}, nil
}

// Lookup finds key in a `k=v<sep>k=v...` response and returns its value.
func Lookup(resp, key string, sep byte) (string, bool) {
	for len(resp) > 0 {
		var item string
		if i := strings.IndexByte(resp, sep); i >= 0 {
			item, resp = resp[:i], resp[i+1:]
		} else {
			item, resp = resp, ""
		}
		if k, v, ok := strings.Cut(item, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// ErrorResponse reports whether an info response is an error
// (`ERROR:<code>:<text>`, `FAIL:<code>:<text>` or `error=<text>`) and
// returns its text.
func ErrorResponse(resp string) (string, bool) {
	switch {
	case strings.HasPrefix(resp, "ERROR"), strings.HasPrefix(resp, "FAIL"), strings.HasPrefix(resp, "error="):
		return resp, true
	}
	return "", false
}

// NamespaceCounts is what the backup tool reads from `namespace/<ns>`.
type NamespaceCounts struct {
	// Objects is the number of objects on the node (master and replicas).
	Objects uint64
	// ReplicationFactor is the effective replication factor.
	ReplicationFactor uint32
}

// ParseNamespaceCounts reads `objects` and `effective_replication_factor`
// from a `namespace/<ns>` response, with the legacy error texts
// (`Failed to find objects field in namespace info result`, `Invalid object
// count %s`, ...). An unknown namespace (`type=unknown`) has no objects field.
func ParseNamespaceCounts(resp string) (NamespaceCounts, error) {
	var c NamespaceCounts
	haveObjects, haveRF := false, false
	for _, item := range strings.Split(resp, ";") {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		switch k {
		case "objects":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return c, fmt.Errorf("Invalid object count %s", v)
			}
			c.Objects, haveObjects = uint64(n), true
		case "effective_replication_factor":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > 256 {
				return c, fmt.Errorf("Invalid effective replication factor %s", v)
			}
			c.ReplicationFactor, haveRF = uint32(n), true
		}
	}
	if !haveObjects {
		return c, fmt.Errorf("Failed to find objects field in namespace info result")
	}
	if !haveRF {
		return c, fmt.Errorf("Failed to find effective_replication_factor field in namespace info result")
	}
	return c, nil
}

// ParseSetObjects reads the object count from a `sets/<ns>/<set>` response
// (`objects=N:tombstones=...;`). An empty response (unknown set) counts 0.
// Older servers call the field `n_objects`.
func ParseSetObjects(resp string) (uint64, error) {
	resp = strings.TrimSuffix(strings.TrimSpace(resp), ";")
	if resp == "" {
		return 0, nil
	}
	if e, ok := ErrorResponse(resp); ok {
		return 0, fmt.Errorf("%s", e)
	}
	for _, item := range strings.Split(resp, ":") {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		if k == "objects" || k == "n_objects" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("Invalid object count %s", v)
			}
			return uint64(n), nil
		}
	}
	return 0, nil
}

// UDFInfo is one entry of a `udf-list` response.
type UDFInfo struct {
	Name string
	Hash string
	Type string
}

// ParseUDFList parses a `udf-list` response
// (`filename=<f>,hash=<h>,type=LUA;...`).
func ParseUDFList(resp string) ([]UDFInfo, error) {
	resp = strings.TrimSpace(resp)
	if e, ok := ErrorResponse(resp); ok {
		return nil, fmt.Errorf("%s", e)
	}
	var out []UDFInfo
	for _, item := range strings.Split(resp, ";") {
		if item == "" {
			continue
		}
		var u UDFInfo
		for _, kv := range strings.Split(item, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "filename":
				u.Name = v
			case "hash":
				u.Hash = v
			case "type":
				u.Type = v
			}
		}
		if u.Name == "" {
			return nil, fmt.Errorf("invalid UDF list entry %q (no filename)", item)
		}
		out = append(out, u)
	}
	return out, nil
}

// ParseUDFGet parses a `udf-get` response (`type=LUA;content=<base64>;`,
// older servers add `gen=`) and returns the module's content.
func ParseUDFGet(resp string) ([]byte, error) {
	if e, ok := ErrorResponse(resp); ok {
		return nil, fmt.Errorf("%s", e)
	}
	v, ok := Lookup(strings.TrimSpace(resp), "content", ';')
	if !ok {
		return nil, fmt.Errorf("UDF response has no content field")
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("invalid base64 UDF content: %w", err)
	}
	return b, nil
}
