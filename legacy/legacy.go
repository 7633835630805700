// Package legacy is the presentation of the tools: it turns the events the
// engines report and the errors they return into the exact lines, streams
// and exit codes of the legacy tools (log lines on stderr, raw text on
// stdout, the --machine file). Nothing else prints.
package legacy

import (
	"io"
	"os"

	"asbtools/logging"
	"asbtools/msg"
)

// Printer prints legacy lines: log lines to Log, raw lines to Stdout.
type Printer struct {
	Log    *logging.Logger
	Stdout io.Writer
}

// NewPrinter returns a Printer writing log lines to log and raw lines to
// os.Stdout.
func NewPrinter(log *logging.Logger) Printer { return Printer{Log: log, Stdout: os.Stdout} }

// Lines prints lines.
func (p Printer) Lines(lines ...msg.Line) { msg.Print(lines, p.Log, p.Stdout) }

// Error prints the lines of err (nothing for nil).
func (p Printer) Error(err error) { p.Lines(msg.Lines(err)...) }

// Exit returns the exit code of a run that ended with err, after printing
// the legacy exit line when verbose output is on.
func (p Printer) Exit(verbose bool, err error) int {
	code := msg.ExitCode(err)
	if verbose {
		p.Log.Verbosef("Exiting with status code %d", code)
	}
	return code
}
