package asb

import (
	"errors"
	"fmt"
	"strconv"
)

// SyntaxError reports malformed input. Line and Column are 1-based and
// point at the offending byte (or where the missing byte should be);
// Offset is the same position as a byte offset from the start of the file.
type SyntaxError struct {
	File    string
	Line    int
	Column  int
	Offset  int64
	Context string // what was being read, e.g. `bin type`, `string bin value "s"`
	// Expected and Found describe the mismatch; Found is "end of file" for
	// truncated input.
	Expected string
	Found    string

	// Legacy holds the lines the legacy asrestore (4.5.8) logs for the same
	// defect, innermost first, as its reader unwinds: the message of the
	// function that met the defect (one "Unexpected end of file" line per
	// nested read that met the end of the input), then one line from every
	// caller that gives up because of it, e.g.
	//
	//	Unexpected end of file in backup block (line 9, col 12)
	//	Error while reading string data
	//	Error while reading string bin value
	//	Error while parsing record
	//
	// The legacy tool ends the chain with "Error while parsing backup file
	// <file> (line <LegacyLine>)". Legacy is empty for errors the legacy
	// tool reports elsewhere (the header is checked when a file is opened)
	// or not at all (limits of this reader).
	Legacy []string
	// LegacyLine is the line the legacy reader had reached when it stopped
	// (the line after the last byte it consumed).
	LegacyLine int
	// Consumed is the offset just past the last byte the legacy reader had
	// read when it stopped, Reached the same including a byte it had only
	// peeked at.
	Consumed, Reached int64
}

// Error formats the error as `file: line L, col C: context: expected X, found Y`.
func (e *SyntaxError) Error() string {
	file := e.File
	if file == "" {
		file = "<input>"
	}
	s := fmt.Sprintf("%s: line %d, col %d: %s", file, e.Line, e.Column, e.Context)
	if e.Expected != "" {
		s += ": expected " + e.Expected
		if e.Found != "" {
			s += ", found " + e.Found
		}
	} else if e.Found != "" {
		s += ": found " + e.Found
	}
	return s
}

// ErrUnexpectedEOF is matched (errors.Is) by a SyntaxError caused by
// truncated input.
var ErrUnexpectedEOF = errors.New("unexpected end of file")

const foundEOF = "end of file"

// Is makes errors.Is(err, ErrUnexpectedEOF) true for truncation errors.
func (e *SyntaxError) Is(target error) bool {
	return target == ErrUnexpectedEOF && e.Found == foundEOF
}

// quoteByte renders a byte for messages the way the legacy tools do:
// `"c"` for printable ASCII, `\xNN` otherwise.
func quoteByte(c byte) string {
	if c >= 32 && c <= 126 {
		return `"` + string(rune(c)) + `"`
	}
	return fmt.Sprintf(`\x%02x`, c)
}

// quoteToken renders a token for messages, truncated to a readable length.
func quoteToken(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}
