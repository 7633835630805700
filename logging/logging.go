// Package logging writes log lines in the format of the legacy backup tools:
//
//	2026-11-22 01:46:31 GMT [INF] [  776] message
//
// The timestamp is UTC, followed by the literal zone name GMT, the level tag
// (INF, ERR or VER), the thread id modulo 100000 right-aligned in five
// columns, and the message. A message ending in a newline produces an extra
// empty line, exactly like the legacy tools. VER lines are only written when
// verbose output is enabled. A Logger is safe for concurrent use; every line
// is written with a single Write call.
package logging

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Level is the severity tag of a log line.
type Level int

const (
	// Raw is not a log level: the text is written verbatim, without the
	// timestamp/level/thread prefix and without an added newline.
	Raw Level = iota
	// Info lines carry the tag INF.
	Info
	// Error lines carry the tag ERR.
	Error
	// Verbose lines carry the tag VER and are only written in verbose mode.
	Verbose
)

// Tag returns the three-letter tag of the level ("INF", "ERR", "VER"), or ""
// for Raw.
func (l Level) Tag() string {
	switch l {
	case Info:
		return "INF"
	case Error:
		return "ERR"
	case Verbose:
		return "VER"
	}
	return ""
}

// String implements fmt.Stringer.
func (l Level) String() string {
	if l == Raw {
		return "RAW"
	}
	return l.Tag()
}

// Logger writes legacy-format log lines to a writer (normally os.Stderr).
type Logger struct {
	core *core
	tid  int // fixed thread id column, or -1 to use the calling OS thread id
}

type core struct {
	mu      sync.Mutex
	w       io.Writer
	verbose atomic.Bool
	now     func() time.Time
	buf     []byte
}

// New returns a Logger writing to w. Verbose output is off.
func New(w io.Writer) *Logger {
	return &Logger{core: &core{w: w, now: time.Now}, tid: -1}
}

// SetVerbose enables or disables VER lines. It affects every Logger derived
// from the same New call.
func (l *Logger) SetVerbose(on bool) { l.core.verbose.Store(on) }

// IsVerbose reports whether VER lines are written.
func (l *Logger) IsVerbose() bool { return l.core.verbose.Load() }

// SetClock replaces the time source (for tests). It must be called before the
// Logger is shared between goroutines.
func (l *Logger) SetClock(now func() time.Time) { l.core.now = now }

// WithTID returns a Logger sharing l's output and settings whose thread-id
// column always shows tid (modulo 100000), for example a worker number. A
// Logger from New shows the id of the OS thread that writes the line, like the
// legacy tools.
func (l *Logger) WithTID(tid int) *Logger {
	if tid < 0 {
		tid = -tid
	}
	return &Logger{core: l.core, tid: tid}
}

// Infof writes an INF line.
func (l *Logger) Infof(format string, args ...any) { l.Log(Info, fmt.Sprintf(format, args...)) }

// Errorf writes an ERR line.
func (l *Logger) Errorf(format string, args ...any) { l.Log(Error, fmt.Sprintf(format, args...)) }

// Verbosef writes a VER line if verbose output is enabled. The arguments are
// not formatted otherwise.
func (l *Logger) Verbosef(format string, args ...any) {
	if !l.IsVerbose() {
		return
	}
	l.Log(Verbose, fmt.Sprintf(format, args...))
}

// Raw writes text verbatim (no prefix, no added newline).
func (l *Logger) Raw(text string) { l.Log(Raw, text) }

// Log writes one message at the given level. VER messages are dropped unless
// verbose output is enabled.
func (l *Logger) Log(level Level, msg string) {
	c := l.core
	if level == Verbose && !c.verbose.Load() {
		return
	}
	tid := l.tid
	if tid < 0 && level != Raw {
		tid = threadID()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if level == Raw {
		c.buf = append(c.buf[:0], msg...)
	} else {
		c.buf = AppendLine(c.buf[:0], c.now(), level, tid, msg)
	}
	_, _ = c.w.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil
	}
}

// AppendLine appends one complete log line (with its trailing newline) to dst.
func AppendLine(dst []byte, t time.Time, level Level, tid int, msg string) []byte {
	t = t.UTC()
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05")
	dst = append(dst, " GMT ["...)
	dst = append(dst, level.Tag()...)
	dst = append(dst, "] ["...)
	if tid < 0 {
		tid = -tid
	}
	id := strconv.Itoa(tid % 100000)
	for i := len(id); i < 5; i++ {
		dst = append(dst, ' ')
	}
	dst = append(dst, id...)
	dst = append(dst, "] "...)
	dst = append(dst, msg...)
	return append(dst, '\n')
}

// FormatLine returns one complete log line (with its trailing newline).
func FormatLine(t time.Time, level Level, tid int, msg string) string {
	return string(AppendLine(nil, t, level, tid, msg))
}
