package conf

import (
	"errors"

	"asbtools/compat"
)

// The value syntax of the settings (legacy integers, set lists, date and
// time strings, base64 keys, S3 log levels) is package compat's: the
// configuration files and the command line share one parser for each.

// rtoi converts a raw TOML integer (or fetched secret text) the way the
// legacy parser does (compat.ParseTOMLInt).
func rtoi(src string) (int64, bool) { return compat.ParseTOMLInt(src) }

// ParseSetList splits an asbackup set list (-s / "set") like legacy: names
// separated by ',', a name may be quoted with ' or " to contain commas, no
// trimming, names at most 63 bytes (compat.ParseSetList). Error texts are
// the legacy ERR messages.
func ParseSetList(s string) ([]string, error) {
	sets, e := compat.ParseSetList(nil, s)
	if e != nil {
		return nil, errors.New(e.Error())
	}
	return sets, nil
}
