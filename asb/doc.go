// Package asb reads and writes Aerospike backup files (".asb"), the text
// format of the legacy asbackup/asrestore tools, byte for byte.
//
// # Format
//
// A file is a header followed by a body of entries, each starting at the
// beginning of a line:
//
//	Version 3.1                       version line: exactly 12 bytes
//	# namespace test                  meta lines ("# namespace <ns>", "# first-file")
//	# first-file
//	* i test set idx N 1 bin S [ctx]  secondary index: ns set name type npaths path datatype [base64 CDT context]
//	* u L name.lua 12 <12 raw bytes>  UDF module: type name size content
//	+ k S 3 abc                       optional key: I int, D double, S/X string (raw/base64), B/B! bytes (base64/raw)
//	+ n test                          namespace
//	+ d <28 chars base64>             digest
//	+ s set                           optional set
//	+ g 1                             generation
//	+ t 0                             void time (0 = never expires)
//	+ b 2                             bin count, then that many bin lines:
//	- I i 42                          N nil, Z bool (T/F), I int, D double (%.17g)
//	- S s 5 hello                     S/G/X strings, GeoJSON, base64 strings: size then data
//	- B b 4 AAEC                      bytes types B J C P R H E Y M L: base64, or raw with "!"
//
// Names (namespace, set, bin, index and UDF names) escape '\\', ' ' and
// '\n' with a backslash (and NUL, which ends any name or number for the
// legacy reader); version 3.0 files have no escaping and no global ("*")
// lines. Length-prefixed values may contain any byte. Index lines
// written without a context may end in a space (HasContext with an empty
// Context). The reader accepts exactly what the legacy 4.5.8 reader
// accepts (its quirks included, such as an empty integer meaning 0), and
// rejects what it rejects (CRLF after the version line, unknown bin labels,
// LDT bins, length overruns, bin names over 15 bytes, out-of-range
// generations, ...), with a *SyntaxError naming file, line and column and
// carrying the chain of messages the legacy tool logs for the same defect
// (SyntaxError.Legacy).
//
// Version 3.2 adds expression-based secondary indexes, following the
// syntax of aerospike/backup-go:
//
//   - e ns set name type npaths path datatype [ctx] expression
//
// where expression is the base64 filter expression and the optional
// context precedes it (both are base64, so the last space separates
// them). Readers accept 3.2 by default; ReaderOptions.MaxVersion =
// Version31 restores the legacy tools' refusal. Writers write whatever
// version the Header asks for (3.1 by default); RequiredVersion tells
// which one a set of indexes needs, and WriteIndex refuses an expression
// index in a file older than 3.2.
//
// # Reading
//
// NewReader decodes a stream with memory bounded by the largest entry.
// Reader.Header returns the version and meta lines; Reader.Next returns one
// Entry at a time (record, index or UDF) with its byte offset and line. The
// returned *Record is reused by the next call, so steady-state decoding
// allocates nothing; Record.Clone keeps a copy. Offsets can be stored and
// one record read back later with ReadRecordAt, or decoding resumed at an
// entry boundary with NewBodyReader.
//
// # Writing
//
// NewWriter encodes with WriteHeader, WriteIndex, WriteUDF and WriteRecord;
// Flush at the end. Records carry the form choices of the text (compact or
// base64 per value and key, "+ s" presence, S or X strings), so decoding
// and re-encoding a file written by the legacy tools reproduces it exactly.
// Floats are printed as C's "%.17g" (AppendFloat).
//
// # Values
//
// BinType tokens map to Aerospike particle types (BinType.Particle,
// BinTypeOf). Bin.SetWire builds a bin straight from the particle type and
// bytes a server returns, and Bin.AppendWire produces the bytes a write
// command carries. Map and list bins hold the server's msgpack unchanged;
// DecodeMsgpack (and Bin.Value) decodes it for display into List, Map,
// GeoJSON, TypedBytes and plain Go values, honouring the particle-type
// prefix of strings and bytes, the order-flag header and the wildcard and
// infinity extensions.
package asb
