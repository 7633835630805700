// Package compat implements the command-line surface of the legacy asbackup
// and asrestore tools (aerospike-tools-backup 4.5.8): a getopt_long emulation
// with glibc's exact semantics and diagnostics, the four legacy parsing
// passes (help/version, configuration files, Secret Agent options, main
// pass), the option tables of both tools, the application of configuration
// file settings, secret resolution, validation with the legacy messages and
// order, the help and version texts, and parsers for the legacy value
// syntaxes (host lists, node lists, partition lists, dates, set lists, ...).
//
// The parsers do not print anything. ParseBackup and ParseRestore return a
// typed configuration plus the ordered list of messages the legacy tool
// prints while parsing (Messages), or a *msg.Error holding the lines to
// print and the exit code. msg.Print writes such lines through a
// logging.Logger.
//
// Values whose errors the legacy tools report only later (after the "Starting
// backup" line or while initialising the restore) are kept as raw strings in
// the configuration and parsed by the engines with the exported Parse*
// functions (ParseHostList, ParseNodeList, ParsePartitionList, ...), which
// return *msg.Error values with the exact legacy lines.
package compat
