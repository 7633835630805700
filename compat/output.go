package compat

import (
	"asbtools/logging"
	"asbtools/msg"
)

// errLines returns an error of ERR lines.
func errLines(lines ...string) *msg.Error {
	e := &msg.Error{Code: 1}
	for _, l := range lines {
		e.Lines = append(e.Lines, msg.Err("%s", l))
	}
	return e
}

// outbuf collects the messages of one parse.
type outbuf struct {
	msgs    []msg.Line
	verbose bool
}

func (o *outbuf) add(level logging.Level, text string) {
	if level == logging.Verbose && !o.verbose {
		return
	}
	o.msgs = append(o.msgs, msg.Line{Level: level, Text: text})
}

func (o *outbuf) info(text string) { o.add(logging.Info, text) }
func (o *outbuf) err(text string)  { o.add(logging.Error, text) }
func (o *outbuf) ver(text string)  { o.add(logging.Verbose, text) }
func (o *outbuf) raw(text string)  { o.add(logging.Raw, text) }

// fail returns an error holding everything collected so far plus e's lines.
func (o *outbuf) fail(e *msg.Error) *msg.Error {
	msgs := append([]msg.Line(nil), o.msgs...)
	if e != nil {
		for _, m := range e.Lines {
			if m.Level == logging.Verbose && !o.verbose {
				continue
			}
			msgs = append(msgs, m)
		}
	}
	out := &msg.Error{Lines: msgs, Code: 1, Verbose: o.verbose}
	if e != nil {
		out.Err = e
	}
	return out
}

// failLines is fail with ERR lines.
func (o *outbuf) failLines(lines ...string) *msg.Error { return o.fail(errLines(lines...)) }
