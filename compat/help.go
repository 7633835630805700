package compat

import (
	"strings"

	"asbtools/msg"
)

// Version is the tool version string in `git describe` form ("4.5.8" or
// "4.5.8-3-gabcdef0"); it can be overridden at link time.
var Version = "4.5.8"

// BackupUsage returns asbackup's --help text; argv0 is the program name as
// invoked.
func BackupUsage(argv0 string) string { return "Usage: " + argv0 + " [OPTIONS]\n" + backupTool.usage() }

// RestoreUsage returns asrestore's --help text.
func RestoreUsage(argv0 string) string {
	return "Usage: " + argv0 + " [OPTIONS]\n" + restoreTool.usage()
}

// VersionText returns the --version output of tool ("asbackup" or
// "asrestore"): the product name, "Version X.Y.Z" and, when the build string
// has at least three '-'-separated parts, "Build <last part>".
func VersionText(tool string) string {
	name := "Aerospike Backup"
	if tool == "asrestore" {
		name = "Aerospike Restore"
	}
	var parts []string
	for _, p := range strings.Split(Version, "-") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	text := name + "\n"
	if len(parts) > 0 {
		text += "Version " + parts[0] + "\n"
	} else {
		text += "Version (null)\n"
	}
	if len(parts) >= 3 {
		text += "Build " + parts[len(parts)-1] + "\n"
	}
	return text
}

// HelpMessages returns the stdout message for ActionHelp / ActionVersion.
func HelpMessages(tool string, action Action, argv0 string) []msg.Line {
	var text string
	switch {
	case action == ActionVersion:
		text = VersionText(tool)
	case tool == "asrestore":
		text = RestoreUsage(argv0)
	default:
		text = BackupUsage(argv0)
	}
	return []msg.Line{{Text: text, Stdout: true}}
}
