package compat

import (
	"math"
	"strconv"
	"strings"
	"time"

	"asbtools/msg"
)

// ParseCInt parses s like the legacy tools' better_atoi: C strtol(s, &end, 10)
// that must consume the whole string. Leading white space and a sign are
// accepted, trailing characters are not, and out-of-range values saturate at
// math.MinInt64 / math.MaxInt64.
func ParseCInt(s string) (int64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	overflow := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := uint64(s[i] - '0')
		if v > (math.MaxUint64-d)/10 {
			overflow = true
		} else {
			v = v*10 + d
		}
		i++
	}
	if i == start || i != len(s) {
		return 0, false
	}
	switch {
	case neg && (overflow || v > 1<<63):
		return math.MinInt64, true
	case neg:
		return -int64(v), true
	case overflow || v > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(v), true
}

// storeInt stores conv(v) in *dst when ok is true and check (nil: any
// value) accepts v; it reports whether it did.
func storeInt[T any](v int64, ok bool, check func(int64) bool, dst *T, conv func(int64) T) bool {
	if !ok || (check != nil && !check(v)) {
		return false
	}
	*dst = conv(v)
	return true
}

// inRange accepts values in [lo, hi]; atLeast accepts values >= lo.
func inRange(lo, hi int64) func(int64) bool {
	return func(v int64) bool { return v >= lo && v <= hi }
}

func atLeast(lo int64) func(int64) bool { return inRange(lo, math.MaxInt64) }

// Conversions of a parsed integer for storeInt.
func identity(v int64) int64   { return v }
func toInt(v int64) int        { return int(v) }
func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
func mulMiB(v int64) int64     { return int64(uint64(v) * mib) }

// ParseTOMLInt converts the text of a TOML integer (or a fetched secret
// standing for one) the way the legacy configuration parser does: an
// optional sign, then a lone "0" or digits without a leading zero; '_'
// separators are removed and the rest must be a whole C strtoll(base 0)
// number within int64 range.
func ParseTOMLInt(src string) (int64, bool) {
	s := src
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	if s != "" && s[0] == '0' {
		return 0, len(s) == 1
	}
	s = strings.ReplaceAll(s, "_", "")
	if len(sign)+len(s) >= 100 {
		return 0, false
	}
	return strtoll0(sign + s)
}

// strtoll0 is strtoll(s, &end, 0) requiring *end == 0 and no overflow.
func strtoll0(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// trimC removes C isspace characters at both ends (legacy trim_string).
func trimC(s string) string {
	for len(s) > 0 && isCSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isCSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// splitList splits s at sep like the legacy split_string (an empty string
// gives one empty item), optionally trimming each item.
func splitList(s string, sep byte, trim bool) []string {
	parts := strings.Split(s, string(sep))
	if trim {
		for i := range parts {
			parts[i] = trimC(parts[i])
		}
	}
	return parts
}

// cut returns s up to its first NUL byte (values travel as C strings).
func cut(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// b64valid is the legacy base64 alphabet (standard, no padding character).
func b64val(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}

// DecodeBase64 decodes s with the legacy validation rules
// (cf_b64_validate_and_decode): non-empty, length a multiple of 4, only the
// standard alphabet, '=' padding only in the last two positions (a '=' in the
// second-to-last position requires one in the last). Non-zero trailing bits
// are tolerated.
func DecodeBase64(s string) ([]byte, bool) {
	n := len(s)
	if n == 0 || n%4 != 0 {
		return nil, false
	}
	for i := 0; i < n-2; i++ {
		if _, ok := b64val(s[i]); !ok {
			return nil, false
		}
	}
	pad := 0
	if s[n-2] == '=' {
		if s[n-1] != '=' {
			return nil, false
		}
		pad = 2
	} else {
		if _, ok := b64val(s[n-2]); !ok {
			return nil, false
		}
		if s[n-1] == '=' {
			pad = 1
		} else if _, ok := b64val(s[n-1]); !ok {
			return nil, false
		}
	}
	out := make([]byte, 0, n/4*3)
	for i := 0; i < n; i += 4 {
		var v [4]byte
		for j := 0; j < 4; j++ {
			v[j], _ = b64val(s[i+j])
		}
		out = append(out, v[0]<<2|v[1]>>4, v[1]<<4|v[2]>>2, v[2]<<6|v[3])
	}
	return out[:len(out)-pad], true
}

// scanInt emulates sscanf's "%<width>d" at s[pos:]: white space is skipped,
// then at most width characters (sign included) are read.
func scanInt(s string, pos, width int) (int, int, bool) {
	for pos < len(s) && isCSpace(s[pos]) {
		pos++
	}
	end := pos + width
	if end > len(s) {
		end = len(s)
	}
	i := pos
	neg := false
	if i < end && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	v := 0
	for i < end && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + int(s[i]-'0')
		i++
	}
	if i == start {
		return 0, pos, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// scanFields emulates sscanf(s, format) for formats made of %Nd conversions
// and literal characters; it returns the converted values and whether all of
// them were converted.
func scanFields(s string, format string) ([]int, bool) {
	var vals []int
	pos := 0
	for i := 0; i < len(format); i++ {
		if format[i] == '%' {
			width := int(format[i+1] - '0')
			i += 2 // skip width and 'd'
			v, np, ok := scanInt(s, pos, width)
			if !ok {
				return vals, false
			}
			vals = append(vals, v)
			pos = np
			continue
		}
		if pos >= len(s) || s[pos] != format[i] {
			return vals, false
		}
		pos++
	}
	return vals, true
}

// ParseDateTime parses a --modified-after/--modified-before value like the
// legacy tools: by length, "YYYY-MM-DD_HH:MM:SS" (19), "YYYY-MM-DD" (10) or
// "HH:MM:SS" (8, today's date), in the time zone loc, fields normalised like
// mktime (2020-13-45 is 2021-02-14), with the daylight-saving flag in effect
// at now (the legacy quirk). Errors carry the legacy lines, including the
// final "Invalid date and time string %s".
func ParseDateTime(s string, now time.Time, loc *time.Location) (time.Time, *msg.Error) {
	if loc == nil {
		loc = time.Local
	}
	now = now.In(loc)
	year, month, day := now.Date()
	var hour, min, sec int
	mon := int(month)
	generic := "Invalid date and time string " + s
	switch len(s) {
	case 10:
		v, ok := scanFields(s, "%4d-%2d-%2d")
		if !ok || v[0] < 1900 {
			return time.Time{}, errLines("Date format error in "+s, generic)
		}
		year, mon, day = v[0], v[1], v[2]
	case 8:
		v, ok := scanFields(s, "%2d:%2d:%2d")
		if !ok {
			return time.Time{}, errLines("Time format error in "+s, generic)
		}
		hour, min, sec = v[0], v[1], v[2]
	case 19:
		v, ok := scanFields(s, "%4d-%2d-%2d_%2d:%2d:%2d")
		if !ok || v[0] < 1900 {
			return time.Time{}, errLines("Date/time format error in "+s, generic)
		}
		year, mon, day, hour, min, sec = v[0], v[1], v[2], v[3], v[4], v[5]
	default:
		return time.Time{}, errLines(generic)
	}
	t := time.Date(year, time.Month(mon), day, hour, min, sec, 0, loc)
	if t.IsDST() != now.IsDST() {
		// mktime with the current DST flag: the wall time is taken at the
		// offset of the other DST state.
		_, off := now.Zone()
		t = time.Date(year, time.Month(mon), day, hour, min, sec, 0, time.UTC).Add(-time.Duration(off) * time.Second).In(loc)
	}
	if t.Unix() == -1 {
		return time.Time{}, errLines("Error while calculating epoch time", generic)
	}
	return t, nil
}

// FormatDateTime formats t like the legacy start line
// ("2020-01-01 00:00:00 UTC") in the time zone loc; the zero time prints as
// the Unix epoch.
func FormatDateTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// DateActive reports whether a parsed date filter is in effect: the legacy
// tools ignore values at or before the Unix epoch.
func DateActive(t time.Time) bool {
	return !t.IsZero() && t.UnixNano() > 0
}

// maxSetName is the longest set name (AS_SET_MAX_SIZE - 1).
const maxSetName = 63

// ParseSetList parses an asbackup set list ("s1,'a,b',\"c\"") and appends the
// names to dst, with the legacy error lines.
func ParseSetList(dst []string, s string) ([]string, *msg.Error) {
	i := 0
	for {
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return dst, errLines("Missing terminating " + string(q) + " in set name")
			}
			if end > maxSetName {
				return dst, errLines("Set name must be no longer than 63 characters")
			}
			dst = append(dst, s[i+1:i+1+end])
			i += end + 2
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			if end > maxSetName {
				return dst, errLines("Set name must be no longer than 63 characters")
			}
			dst = append(dst, s[i:i+end])
			i += end
		}
		if i >= len(s) {
			return dst, nil
		}
		if s[i] != ',' {
			return dst, errLines("Require ',' to delineate set names")
		}
		i++
	}
}
