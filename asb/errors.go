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
