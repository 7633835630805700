package compat

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// PromptFunc asks the user for a secret (no echo) with the given prompt.
type PromptFunc func(prompt string) (string, error)

// Credentials returns the user name and password for the cluster, prompting
// with "Enter Password: " when a user is set and the password is
// PromptSentinel (the default, or -P without a value). With no user it
// returns empty strings and does not prompt.
func (c *ClusterConfig) Credentials(prompt PromptFunc) (user, password string, err error) {
	if c.User == "" {
		return "", "", nil
	}
	if c.Password == PromptSentinel {
		pw, err := prompt("Enter Password: ")
		if err != nil {
			return "", "", err
		}
		return c.User, pw, nil
	}
	return c.User, c.Password, nil
}

// ReadTLSKeyPassword resolves the TLS key-file password when --tls-keyfile
// and --tls-keyfile-password are set (ok is false otherwise): prompting with
// "Enter TLS-Keyfile Password: " for PromptSentinel, then interpreting
// "env:VAR" and "file:PATH" with the legacy error messages.
func (t *TLSConfig) ReadTLSKeyPassword(prompt PromptFunc, env Env) (pw string, ok bool, err error) {
	if !t.KeyFile.Set && t.KeyFileContent == nil || !t.KeyFilePassword.Set {
		return "", false, nil
	}
	env.fill()
	v := t.KeyFilePassword.Value
	if v == PromptSentinel {
		if v, err = prompt("Enter TLS-Keyfile Password: "); err != nil {
			return "", false, err
		}
	}
	if name, found := strings.CutPrefix(v, "env:"); found {
		val, present := env.LookupEnv(name)
		if !present {
			return "", false, errLines("missing TLS key password environment variable " + name + "\n")
		}
		if val == "" {
			return "", false, errLines("empty TLS key password environment variable " + name + "\n")
		}
		return cut(val), true, nil
	}
	if path, found := strings.CutPrefix(v, "file:"); found {
		data, rerr := env.ReadFile(path)
		if rerr != nil {
			if os.IsNotExist(rerr) || os.IsPermission(rerr) {
				return "", false, errLines("missing TLS key password file " + path + "\n")
			}
			return "", false, errLines("error while reading TLS key password file " + path + "\n")
		}
		if len(data) == 0 {
			return "", false, errLines("error while reading TLS key password file " + path + "\n")
		}
		line := cut(string(data))
		if i := strings.IndexAny(line, "\r\n"); i >= 0 {
			line = line[:i]
		} else if len(line) >= 4999 {
			return "", false, errLines("TLS key password in file " + path + " too long\n")
		}
		if len(line) >= 4999 {
			return "", false, errLines("TLS key password in file " + path + " too long\n")
		}
		if line == "" {
			return "", false, errLines("empty TLS key password file " + path + "\n")
		}
		return line, true, nil
	}
	return v, true, nil
}

// ReadPasswordLine implements the legacy getpass fallback when there is no
// terminal: the prompt is written to w and one line is read from r (the
// line end removed; end of input gives an empty password).
func ReadPasswordLine(prompt string, r io.Reader, w io.Writer) (string, error) {
	if w != nil {
		if _, err := io.WriteString(w, prompt); err != nil {
			return "", err
		}
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimSuffix(line, "\n"), nil
}
