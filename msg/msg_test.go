package msg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"asbtools/logging"
)

func TestErrorWrapsItsCause(t *testing.T) {
	e := Errorf("Error while listing UDFs - code -1: %w at backup:0", fs.ErrNotExist)
	if !errors.Is(e, fs.ErrNotExist) {
		t.Error("cause lost")
	}
	if got := e.Error(); got != "Error while listing UDFs - code -1: file does not exist at backup:0" {
		t.Errorf("text %q", got)
	}
	w := fmt.Errorf("context: %w", Wrap(e, Err("Error while processing UDFs")))
	var me *Error
	if !errors.As(w, &me) || len(me.Lines) != 2 || me.Lines[1].Text != "Error while processing UDFs" {
		t.Fatalf("wrapped lines %+v", me)
	}
	if !errors.Is(w, fs.ErrNotExist) || ExitCode(w) != 1 {
		t.Error("cause or exit code lost through two wraps")
	}
	if ExitCode(nil) != 0 || ExitCode(errors.New("x")) != 1 || ExitCode(&Error{Code: 2}) != 2 {
		t.Error("exit codes")
	}
	if Lines(nil) != nil || Lines(errors.New("plain"))[0].Text != "plain" {
		t.Error("lines of nil and plain errors")
	}
}

func TestPrint(t *testing.T) {
	var logBuf, out bytes.Buffer
	log := logging.New(&logBuf)
	Print([]Line{Err("bad %d", 1), Stdout("raw\n"), Verbose("hidden"), Info("fine")}, log, &out)
	if out.String() != "raw\n" {
		t.Errorf("stdout %q", out.String())
	}
	got := logBuf.String()
	if !strings.Contains(got, "[ERR]") || !strings.Contains(got, "bad 1") || !strings.Contains(got, "[INF]") ||
		strings.Contains(got, "hidden") || strings.Count(got, "\n") != 2 {
		t.Errorf("log:\n%s", got)
	}
}

func TestWithCause(t *testing.T) {
	cause := fs.ErrNotExist
	err := WithCause(cause, "Failed to open %s, reason: %s", "f", "No such file or directory")
	if err.Error() != "Failed to open f, reason: No such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%q, cause seen: %v", err, errors.Is(err, fs.ErrNotExist))
	}
	// As a run's failure it is one ERR line with its own text.
	if l := Lines(err); len(l) != 1 || l[0] != Err("%s", err.Error()) {
		t.Fatalf("lines %+v", l)
	}
}
