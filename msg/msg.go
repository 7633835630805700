// Package msg holds what the legacy tools print, independent of how it is
// printed: a message line (log level or raw stdout text) and Error, the
// failure that carries its legacy lines and the process exit code and wraps
// its cause. The engines return and report Errors; package legacy prints
// them.
package msg

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"asbtools/logging"
)

// Line is one message: a log line of the given level (logging.Raw: text
// written to the log's writer as it is, no prefix and no newline added), or,
// with Stdout set, raw text for standard output (printed as it is).
type Line struct {
	Level  logging.Level
	Text   string
	Stdout bool
}

// Err returns an ERR line.
func Err(format string, a ...any) Line {
	return Line{Level: logging.Error, Text: sprintf(format, a)}
}

// Info returns an INF line.
func Info(format string, a ...any) Line { return Line{Level: logging.Info, Text: sprintf(format, a)} }

// Verbose returns a VER line.
func Verbose(format string, a ...any) Line {
	return Line{Level: logging.Verbose, Text: sprintf(format, a)}
}

// Stdout returns a line printed on standard output (text ends with its own
// newline, if any).
func Stdout(text string) Line { return Line{Text: text, Stdout: true} }

func sprintf(format string, a []any) string {
	if len(a) == 0 {
		return format
	}
	return fmt.Sprintf(format, a...)
}

// Error is a failure the legacy tool reports with Lines and ends with the
// exit code Code (0 means 1, the legacy tools' only failure code). Err is
// the cause, if any. It is the one error type that carries legacy lines:
// command-line and configuration-file failures, Secret Agent failures,
// input listing failures and engine failures are all Errors.
type Error struct {
	Lines []Line
	Code  int
	Err   error
	// Verbose reports that verbose output was enabled when the failure
	// happened (set by the command-line parser: the legacy tools then end
	// with the VER line "Exiting with status code 1").
	Verbose bool
}

// Error returns the lines' texts, one per line.
func (e *Error) Error() string {
	if len(e.Lines) == 0 && e.Err != nil {
		return e.Err.Error()
	}
	var b strings.Builder
	for i, l := range e.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.TrimSuffix(l.Text, "\n"))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns the process exit code.
func (e *Error) ExitCode() int {
	if e.Code == 0 {
		return 1
	}
	return e.Code
}

// New returns an Error with the given lines.
func New(lines ...Line) *Error { return &Error{Lines: lines} }

// Errorf returns an Error with one ERR line formatted like fmt.Errorf; a %w
// verb makes its operand the cause.
func Errorf(format string, a ...any) *Error {
	err := fmt.Errorf(format, a...)
	return &Error{Lines: []Line{{Level: logging.Error, Text: err.Error()}}, Err: errors.Unwrap(err)}
}

// Wrap returns an Error whose lines are those of err (see Lines) followed
// by more; err is the cause.
func Wrap(err error, more ...Line) *Error {
	lines := append(Lines(err), more...)
	return &Error{Lines: lines, Err: err}
}

// Lines returns the lines of err: those of the outermost Error in its chain,
// or its text as one ERR line (no lines for nil).
func Lines(err error) []Line {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return append([]Line(nil), e.Lines...)
	}
	return []Line{{Level: logging.Error, Text: err.Error()}}
}

// ExitCode returns the exit code of a run that ended with err: 0 for nil,
// the Error's code, or 1.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return 1
}

// Raw returns the text of the logging.Raw lines (not Stdout), concatenated
// as they are printed.
func Raw(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		if !l.Stdout && l.Level == logging.Raw {
			b.WriteString(l.Text)
		}
	}
	return b.String()
}

// Print writes lines to log (log lines, VER lines only if log is verbose,
// logging.Raw text to the logger's writer) and stdout (Stdout lines).
func Print(lines []Line, log *logging.Logger, stdout io.Writer) {
	for _, l := range lines {
		if l.Stdout {
			_, _ = io.WriteString(stdout, l.Text)
			continue
		}
		log.Log(l.Level, l.Text)
	}
}

// WithCause returns an error whose text is format applied to a and whose
// cause is err (errors.Is and errors.As see through it): for legacy texts
// that render their cause in their own way (strerror, an errno suffix), so
// that %w, which prints the cause's own text, cannot be used.
func WithCause(err error, format string, a ...any) error {
	return &causeError{text: fmt.Sprintf(format, a...), err: err}
}

type causeError struct {
	text string
	err  error
}

func (e *causeError) Error() string { return e.text }
func (e *causeError) Unwrap() error { return e.err }
