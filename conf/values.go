package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// rtoi converts a raw TOML integer (or fetched secret text) the way the
// legacy parser does: optional sign, a lone "0" or digits without a leading
// zero, '_' separators removed, then strtoll(base 0) over the whole rest.
func rtoi(src string) (int64, bool) {
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

// ParseSetList splits an asbackup set list (-s / "set") like legacy: names
// separated by ',', a name may be quoted with ' or " to contain commas, no
// trimming, names at most 63 bytes. Error texts are the legacy ERR messages.
func ParseSetList(s string) ([]string, error) {
	var out []string
	i := 0
	for {
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return nil, fmt.Errorf("Missing terminating %c in set name", q)
			}
			if end >= 64 {
				return nil, errors.New("Set name must be no longer than 63 characters")
			}
			out = append(out, s[i+1:i+1+end])
			i += end + 2
		} else {
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			if end >= 64 {
				return nil, errors.New("Set name must be no longer than 63 characters")
			}
			out = append(out, s[i:i+end])
			i += end
		}
		if i >= len(s) {
			return out, nil
		}
		if s[i] != ',' {
			return nil, errors.New("Require ',' to delineate set names")
		}
		i++
	}
}

// checkDateTime validates a --modified-after/--modified-before value like
// legacy parse_date_time: the form is chosen by length (19, 10 or 8) and the
// fields are read with sscanf widths; an empty error text means "rejected
// without a message" (other lengths).
func checkDateTime(s string) error {
	switch len(s) {
	case 10:
		if !scanf(s, "%4d-%2d-%2d", 3) || leadingYear(s) < 1900 {
			return fmt.Errorf("Date format error in %s", s)
		}
	case 8:
		if !scanf(s, "%2d:%2d:%2d", 3) {
			return fmt.Errorf("Time format error in %s", s)
		}
	case 19:
		if !scanf(s, "%4d-%2d-%2d_%2d:%2d:%2d", 6) || leadingYear(s) < 1900 {
			return fmt.Errorf("Date/time format error in %s", s)
		}
	default:
		return errors.New("")
	}
	return nil
}

func leadingYear(s string) int {
	v, _, _ := scanInt(s, 4)
	return v
}

// scanInt reads an sscanf %<w>d: optional whitespace, sign, up to w chars.
func scanInt(s string, w int) (int, int, bool) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	start := i
	j := i
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	for j < len(s) && j-start < w && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	v, err := strconv.Atoi(s[start:j])
	if err != nil {
		return 0, i, false
	}
	return v, j, true
}

// scanf matches s against a format made of %Nd conversions and literal
// characters, returning whether all want conversions succeeded.
func scanf(s, format string, want int) bool {
	n, i := 0, 0
	for f := 0; f < len(format); f++ {
		if format[f] == '%' {
			w := int(format[f+1] - '0')
			f += 2
			v, j, ok := scanInt(s[i:], w)
			_ = v
			if !ok {
				return n == want
			}
			i += j
			n++
			continue
		}
		if i >= len(s) || s[i] != format[f] {
			return n == want
		}
		i++
	}
	return n == want
}
