package backup

import (
	"strings"

	"asbtools/clusterconn"
)

// connectTimeout is the legacy connect and info timeout.
const connectTimeout = clusterconn.DefaultTimeout

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
