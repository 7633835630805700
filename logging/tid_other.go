//go:build !linux

package logging

import "os"

// threadID returns the process id where thread ids are not available.
func threadID() int { return os.Getpid() }
