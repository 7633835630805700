package compat

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"asbtools/msg"
)

// Host is one seed host of a host list.
type Host struct {
	Name    string // host name or IP address (IPv6 without brackets)
	TLSName string // "" = none
	Port    int
}

// ParseHostList parses a seed host list "name[:tls][:port][,...]" exactly
// like the Aerospike C client used by the legacy tools (IPv6 in brackets; a
// lone ":X" is a port if X starts with a digit, else a TLS name; ports are
// truncated to 16 bits; an empty string gives no host). defaultPort applies
// to hosts without a port and defaultTLSName (if non-empty) to hosts without
// a TLS name. ok is false where the legacy tools print "Invalid
// conf->host(s) string %s" (asbackup) / "Invalid host(s) string %s"
// (asrestore); see HostListError.
func ParseHostList(s string, defaultPort int, defaultTLSName string) (hosts []Host, ok bool) {
	p := 0
	for p < len(s) {
		h := Host{Port: int(uint16(defaultPort))}
		more := false
		var name string
		if s[p] == '[' {
			p++
			begin := p
			for p < len(s) {
				if s[p] == ']' {
					name = s[begin:p]
					p++
					if p < len(s) && s[p] == ':' {
						p++
						more = true
					} else if p < len(s) && s[p] == ',' {
						p++
					}
					goto named
				}
				p++
			}
			name = s[begin:p]
		} else {
			begin := p
			for p < len(s) {
				if s[p] == ',' {
					name = s[begin:p]
					p++
					goto named
				}
				if s[p] == ':' {
					name = s[begin:p]
					p++
					more = true
					goto named
				}
				p++
			}
			name = s[begin:p]
		}
	named:
		h.Name = name
		if more {
			begin := p
			tlsThenPort := false
			field := ""
			for p < len(s) {
				if s[p] == ',' {
					field = s[begin:p]
					p++
					goto fielded
				}
				if s[p] == ':' {
					h.TLSName = s[begin:p]
					p++
					tlsThenPort = true
					goto fielded
				}
				p++
			}
			field = s[begin:p]
		fielded:
			if tlsThenPort {
				if p >= len(s) || !isDigit(s[p]) {
					return nil, false
				}
				v, n := strtolPrefix(s[p:])
				h.Port = int(uint16(v))
				p += n
				if p < len(s) {
					if s[p] != ',' {
						return nil, false
					}
					p++
				}
			} else if field != "" && isDigit(field[0]) {
				v, n := strtolPrefix(field)
				if n != len(field) {
					return nil, false
				}
				h.Port = int(uint16(v))
			} else {
				h.TLSName = field
			}
		}
		if h.TLSName == "" && defaultTLSName != "" {
			h.TLSName = defaultTLSName
		}
		hosts = append(hosts, h)
	}
	return hosts, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// strtolPrefix parses the leading decimal digits of s (s starts with a
// digit) with strtol saturation; it returns the value and the bytes used.
func strtolPrefix(s string) (int64, int) {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	v, err := strconv.ParseInt(s[:n], 10, 64)
	if err != nil {
		v = 1<<63 - 1
	}
	return v, n
}

// HostListError returns the legacy error for an unparsable host list of tool.
func HostListError(tool, host string) *msg.Error {
	if tool == "asrestore" {
		return errLines("Invalid host(s) string " + host)
	}
	return errLines("Invalid conf->host(s) string " + host)
}

// AuthMode is the cluster authentication mode.
type AuthMode int

// Authentication modes.
const (
	AuthInternal AuthMode = iota
	AuthExternal
	AuthExternalInsecure
	AuthPKI
)

// ParseAuthMode parses an --auth value (case-insensitive).
func ParseAuthMode(s string) (AuthMode, bool) {
	switch strings.ToUpper(s) {
	case "INTERNAL":
		return AuthInternal, true
	case "EXTERNAL":
		return AuthExternal, true
	case "EXTERNAL_INSECURE":
		return AuthExternalInsecure, true
	case "PKI":
		return AuthPKI, true
	}
	return AuthInternal, false
}

// AuthModeError returns the legacy error for a bad --auth value of tool.
func AuthModeError(tool, mode string) *msg.Error {
	msg := "Invalid authentication mode " + mode + ". Allowed values are INTERNAL / EXTERNAL / EXTERNAL_INSECURE / PKI"
	if tool == "asrestore" {
		msg += "\n"
	}
	return errLines(msg)
}

// NodeSpec is one entry of an asbackup --node-list.
type NodeSpec struct {
	Addr    netip.Addr
	TLSName string // "" = none
	Port    int
}

// String returns the seed form of the node address ("[v6]" for IPv6).
func (n NodeSpec) String() string {
	if n.Addr.Is6() {
		return "[" + n.Addr.String() + "]"
	}
	return n.Addr.String()
}

const ipAddrSize = 64 // legacy IP_ADDR_SIZE

// ParseNodeList parses asbackup's --node-list ("addr:port" or
// "addr:tlsname:port", ',' or ';' separated, items trimmed; numeric IPv4 or
// bracketed IPv6 only). The error lines are the legacy ones ending with
// "Error while parsing node list".
func ParseNodeList(list string) ([]NodeSpec, *msg.Error) {
	fail := func(lines ...string) ([]NodeSpec, *msg.Error) {
		return nil, errLines(append(lines, "Error while parsing node list")...)
	}
	clone := strings.ReplaceAll(list, ";", ",")
	if clone == "" {
		return fail("Empty node list")
	}
	var specs []NodeSpec
	for _, node := range splitList(clone, ',', true) {
		var colon int // index of the ':' before the port (or tls name)
		v6 := strings.HasPrefix(node, "[")
		if v6 {
			closing := strings.IndexByte(node, ']')
			if closing < 0 {
				return fail("Invalid node list " + list + ` (missing "]"`)
			}
			if closing+1 >= len(node) || node[closing+1] != ':' {
				return fail("Invalid node list " + list + ` (missing ":")`)
			}
			colon = closing + 1
		} else {
			colon = strings.IndexByte(node, ':')
			if colon < 0 {
				return fail("Invalid node list " + list + ` (missing ":")`)
			}
		}
		start, length := 0, colon
		if v6 {
			start, length = 1, colon-2
		}
		if length <= 0 || length > ipAddrSize-1 {
			return fail("Invalid node list " + list + " (invalid IP address)")
		}
		ipText := node[start : start+length]
		addr, err := netip.ParseAddr(ipText)
		if err != nil || addr.Is6() != v6 || addr.Zone() != "" {
			return fail("Invalid node list " + list + " (invalid IP address " + ipText + ")")
		}
		spec := NodeSpec{Addr: addr}
		rest := node[colon+1:]
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			spec.TLSName = rest[:i]
			rest = rest[i+1:]
		}
		port, ok := ParseCInt(rest)
		if !ok || port < 1 || port > 65535 {
			return fail("Invalid node list " + list + " (invalid port value " + rest + ")")
		}
		spec.Port = int(port)
		specs = append(specs, spec)
	}
	return specs, nil
}

// PartitionFilter is one --partition-list / --after-digest filter: a range
// of Count partitions from Begin, or (Digest != nil) the records after
// Digest within partition Begin (Count 1).
type PartitionFilter struct {
	Begin, Count int
	Digest       []byte
}

// MaxPartitions is the number of partitions of a namespace.
const MaxPartitions = 4096

// DigestPartition returns the partition id of a 20-byte record digest.
func DigestPartition(d []byte) int { return int(uint16(d[0])|uint16(d[1])<<8) & (MaxPartitions - 1) }

func parsePartitionRange(s string) (PartitionFilter, bool) {
	beginText, countText, hasCount := strings.Cut(s, "-")
	begin, ok := ParseCInt(beginText)
	if !ok || begin < 0 || begin >= MaxPartitions {
		return PartitionFilter{}, false
	}
	count := int64(1)
	if hasCount {
		count, ok = ParseCInt(countText)
		if !ok || count < 0 || begin+count > MaxPartitions {
			return PartitionFilter{}, false
		}
	}
	return PartitionFilter{Begin: int(begin), Count: int(count)}, true
}

func parseDigestFilter(s string) (PartitionFilter, bool) {
	d, ok := DecodeBase64(s)
	if !ok || len(d) != 20 {
		return PartitionFilter{}, false
	}
	return PartitionFilter{Begin: DigestPartition(d), Count: 1, Digest: d}, true
}

// ParsePartitionList parses asbackup's --partition-list
// ("<begin>[-<count>]|<digest>,..."), sorted by begin partition, with the
// legacy error lines ending in "Error while parsing partition-list '%s'".
// (Unlike the legacy tool, digest filters take part in the overlap check
// with their real partition.)
func ParsePartitionList(list string) ([]PartitionFilter, *msg.Error) {
	final := "Error while parsing partition-list '" + list + "'"
	if list == "" {
		return nil, errLines("Empty partition list", final)
	}
	var out []PartitionFilter
	for _, item := range splitList(list, ',', true) {
		f, ok := parsePartitionRange(item)
		if !ok {
			f, ok = parseDigestFilter(item)
		}
		if !ok {
			return nil, errLines("Invalid partition filter '"+item+"'",
				"format: <filter1>[,<filter2>][,...]",
				"filter: <begin partition>[-<partition count>]|<digest>",
				"begin partition: 0-4095",
				"partition count: 1-4096 Default: 1",
				"digest: base64 encoded string",
				final)
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Begin < out[j].Begin })
	for i := 1; i < len(out); i++ {
		if out[i-1].Begin+out[i-1].Count > out[i].Begin {
			return nil, errLines("Range overlap in partition list '"+list+"'", final)
		}
	}
	return out, nil
}

// ParseAfterDigest parses asbackup's --after-digest: the digest filter plus
// the range of all later partitions (omitted for partition 4095). Error:
// "Error while parsing after-digest '%s'".
func ParseAfterDigest(s string) ([]PartitionFilter, *msg.Error) {
	f, ok := parseDigestFilter(s)
	if !ok {
		return nil, errLines("Error while parsing after-digest '" + s + "'")
	}
	out := []PartitionFilter{f}
	if next := f.Begin + 1; next < MaxPartitions {
		out = append(out, PartitionFilter{Begin: next, Count: MaxPartitions - next})
	}
	return out, nil
}

// DecodeFilterExp decodes asbackup's --filter-exp (base64 packed
// expression). Error: "Invalid base64 encoded string: %s".
func DecodeFilterExp(s string) ([]byte, *msg.Error) {
	b, ok := DecodeBase64(s)
	if !ok {
		return nil, errLines("Invalid base64 encoded string: " + s)
	}
	return b, nil
}

// MaxRackID is the largest rack id accepted by --prefer-racks.
const MaxRackID = 1000000

// ParseRackList parses --prefer-racks (comma-separated, trimmed, 0..1000000).
// Error: "Invalid rack id %s".
func ParseRackList(s string) ([]int, *msg.Error) {
	var ids []int
	for _, item := range splitList(s, ',', true) {
		v, ok := ParseCInt(item)
		if !ok || v < 0 || v > MaxRackID {
			return nil, errLines("Invalid rack id " + item)
		}
		ids = append(ids, int(v))
	}
	return ids, nil
}

// ParseBinList parses asbackup's --bin-list (comma-separated, trimmed).
// Error: "Empty bin list" (an empty value).
func ParseBinList(s string) ([]string, *msg.Error) {
	if s == "" {
		return nil, errLines("Empty bin list")
	}
	return splitList(s, ',', true), nil
}
