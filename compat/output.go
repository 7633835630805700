package compat

import (
	"io"
	"strings"

	"asbtools/logging"
)

// Message is one piece of output of the legacy tools: a log line (Level
// Info, Error or Verbose; Text without the trailing newline) or raw text
// (Level logging.Raw; Text written verbatim, including its newline if any).
// Stdout is set for the few messages that go to standard output (help,
// version, asrestore's invalid-password line); everything else goes to
// standard error.
type Message struct {
	Level  logging.Level
	Text   string
	Stdout bool
}

// Error is a failure of the legacy command-line surface: the messages to
// print (in order; they include any non-fatal messages printed before the
// failure) and the process exit code (always 1 for the legacy tools).
type Error struct {
	Messages []Message
	Code     int
	// Verbose reports whether verbose output was enabled when the failure
	// happened (the legacy tools then log "Exiting with status code 1").
	Verbose bool
}

// Error returns the messages as text, one per line, without log prefixes.
func (e *Error) Error() string {
	var b strings.Builder
	for i, m := range e.Messages {
		t := strings.TrimSuffix(m.Text, "\n")
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t)
	}
	return b.String()
}

func errLines(lines ...string) *Error {
	e := &Error{Code: 1}
	for _, l := range lines {
		e.Messages = append(e.Messages, Message{Level: logging.Error, Text: l})
	}
	return e
}

// Print writes messages: log lines through log (VER lines only if log is
// verbose), raw text to the logger's writer, and Stdout messages to stdout.
func Print(msgs []Message, log *logging.Logger, stdout io.Writer) {
	for _, m := range msgs {
		if m.Stdout {
			_, _ = io.WriteString(stdout, m.Text)
			continue
		}
		log.Log(m.Level, m.Text)
	}
}

// outbuf collects the messages of one parse.
type outbuf struct {
	msgs    []Message
	verbose bool
}

func (o *outbuf) add(level logging.Level, text string) {
	if level == logging.Verbose && !o.verbose {
		return
	}
	o.msgs = append(o.msgs, Message{Level: level, Text: text})
}

func (o *outbuf) info(text string) { o.add(logging.Info, text) }
func (o *outbuf) err(text string)  { o.add(logging.Error, text) }
func (o *outbuf) ver(text string)  { o.add(logging.Verbose, text) }
func (o *outbuf) raw(text string)  { o.add(logging.Raw, text) }

// fail returns an *Error holding everything collected so far plus e's lines.
func (o *outbuf) fail(e *Error) *Error {
	msgs := append([]Message(nil), o.msgs...)
	if e != nil {
		for _, m := range e.Messages {
			if m.Level == logging.Verbose && !o.verbose {
				continue
			}
			msgs = append(msgs, m)
		}
	}
	return &Error{Messages: msgs, Code: 1, Verbose: o.verbose}
}

// failLines is fail with ERR lines.
func (o *outbuf) failLines(lines ...string) *Error { return o.fail(errLines(lines...)) }
