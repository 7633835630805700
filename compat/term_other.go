//go:build !linux

package compat

import "os"

// TerminalPrompt asks for a password; on this platform the prompt goes to
// stderr and the line is read from stdin (echo is not disabled).
func TerminalPrompt(prompt string) (string, error) {
	return ReadPasswordLine(prompt, os.Stdin, os.Stderr)
}
