package compat

import (
	"strings"

	"asbtools/logging"
	"asbtools/msg"
)

// joinSetNames joins set names like the legacy str_vector_tostring: comma
// separated, cut with "..." when the text would exceed 1024 bytes.
func joinSetNames(sets []string) string {
	var b strings.Builder
	for _, s := range sets {
		if b.Len()+len(s)+1+3 > 1024 {
			b.WriteString("...")
			return b.String()
		}
		b.WriteString(s)
		b.WriteByte(',')
	}
	out := b.String()
	return strings.TrimSuffix(out, ",")
}

// StartMessage returns asbackup's first INF line ("Starting backup of ...").
func (c *BackupConfig) StartMessage() string {
	target := c.Cluster.Host
	if c.NodeList.Set {
		target = c.NodeList.Value
	}
	sets := "all"
	if len(c.Sets) > 0 {
		sets = joinSetNames(c.Sets)
	}
	bins := "[all]"
	if c.BinList.Set {
		bins = c.BinList.Value
	}
	ttl := "false"
	if c.NoTTLOnly {
		ttl = "true"
	}
	dest := "[none]"
	switch {
	case c.OutputFile.Set && c.OutputFile.Value == "-":
		dest = "[stdout]"
	case c.OutputFile.Set:
		dest = c.OutputFile.Value
	case c.Directory.Set:
		dest = c.Directory.Value
	}
	return "Starting backup of " + target + " (namespace: " + c.Namespace + ", set: [" + sets +
		"], bins: " + bins + ", after: " + FormatDateTime(c.ModifiedAfter, c.Location) +
		", before: " + FormatDateTime(c.ModifiedBefore, c.Location) + ", no ttl only: " + ttl +
		", limit: " + itoa(c.MaxRecords) + ") to " + dest
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	var b [24]byte
	i := len(b)
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// BackupTargets are asbackup's scan selection and connection settings,
// parsed from the raw options when the backup starts.
type BackupTargets struct {
	// Partitions from --partition-list or --after-digest (nil: whole
	// namespace or node list).
	Partitions []PartitionFilter
	// Nodes from --node-list (nil if not given).
	Nodes []NodeSpec
	// FilterExp is the decoded --filter-exp (nil if not given).
	FilterExp []byte
	// Seeds are the seed hosts (the first node-list entry replaces --host /
	// --port, its TLS name replaces --tls-name), with the default TLS name
	// applied.
	Seeds []Host
	// SeedText is the host string as the legacy messages print it.
	SeedText string
	SeedPort int
	Auth     AuthMode
	// RackIDs from --prefer-racks (nil if not given).
	RackIDs []int
}

// PrepareTargets parses the raw selection and connection options in the
// order of the legacy backup initialisation (partition list / after-digest /
// node list, filter expression, host list, auth mode, rack ids). Call it
// after logging StartMessage; on failure print the error and exit 1 without
// the final summary.
func (c *BackupConfig) PrepareTargets() (*BackupTargets, *msg.Error) {
	t := &BackupTargets{SeedText: c.Cluster.Host, SeedPort: c.Cluster.Port}
	tlsName := ""
	if c.Cluster.TLS.Name.Set {
		tlsName = c.Cluster.TLS.Name.Value
	}
	var e *msg.Error
	switch {
	case c.PartitionList.Set:
		if t.Partitions, e = ParsePartitionList(c.PartitionList.Value); e != nil {
			return nil, e
		}
	case c.AfterDigest.Set:
		if t.Partitions, e = ParseAfterDigest(c.AfterDigest.Value); e != nil {
			return nil, e
		}
	case c.NodeList.Set:
		if t.Nodes, e = ParseNodeList(c.NodeList.Value); e != nil {
			return nil, e
		}
		first := t.Nodes[0]
		t.SeedText, t.SeedPort = first.String(), first.Port
		if first.TLSName != "" {
			tlsName = first.TLSName
		}
	}
	if c.FilterExp.Set {
		if t.FilterExp, e = DecodeFilterExp(c.FilterExp.Value); e != nil {
			return nil, e
		}
	}
	seeds, ok := ParseHostList(t.SeedText, t.SeedPort, tlsName)
	if !ok {
		return nil, HostListError("asbackup", t.SeedText)
	}
	t.Seeds = seeds
	if c.Cluster.AuthMode.Set {
		m, ok := ParseAuthMode(c.Cluster.AuthMode.Value)
		if !ok {
			return nil, AuthModeError("asbackup", c.Cluster.AuthMode.Value)
		}
		t.Auth = m
	}
	if c.PreferRacks.Set {
		if t.RackIDs, e = ParseRackList(c.PreferRacks.Value); e != nil {
			return nil, e
		}
	}
	return t, nil
}

// RestoreLists are asrestore's namespace, bin and set lists.
type RestoreLists struct {
	// SourceNamespace must match the backup; TargetNamespace ("" = same) is
	// where records are written.
	SourceNamespace string
	TargetNamespace string
	Bins            []string // nil = all
	Sets            []string // nil = all
}

// ParseLists parses the namespace, bin and set lists in the order of the
// legacy restore initialisation; errors end with "Failed to initialize
// restore status".
func (c *RestoreConfig) ParseLists() (*RestoreLists, *msg.Error) {
	l := &RestoreLists{}
	var e *msg.Error
	fail := func(e *msg.Error) (*RestoreLists, *msg.Error) {
		e.Lines = append(e.Lines, errLines("Failed to initialize restore status").Lines...)
		return nil, e
	}
	if c.Namespace.Set {
		if l.SourceNamespace, l.TargetNamespace, e = ParseNamespaceList(c.Namespace.Value); e != nil {
			return fail(e)
		}
	}
	if c.BinList.Set {
		if l.Bins, e = ParseRestoreBinList(c.BinList.Value); e != nil {
			return fail(e)
		}
	}
	if c.SetList.Set {
		if l.Sets, e = ParseRestoreSetList(c.SetList.Value); e != nil {
			return fail(e)
		}
	}
	return l, nil
}

// Seeds parses asrestore's host list (error "Invalid host(s) string %s").
func (c *RestoreConfig) Seeds() ([]Host, *msg.Error) {
	name := ""
	if c.Cluster.TLS.Name.Set {
		name = c.Cluster.TLS.Name.Value
	}
	h, ok := ParseHostList(c.Cluster.Host, c.Cluster.Port, name)
	if !ok {
		return nil, HostListError("asrestore", c.Cluster.Host)
	}
	return h, nil
}

// StartMessage returns asrestore's "Starting restore to ..." or, with
// --validate, "Starting validation of ..." line (a --directory-list run
// prints "(null)" as the source, like the legacy tool).
func (c *RestoreConfig) StartMessage() string {
	src := "(null)"
	switch {
	case c.InputFile.Set && c.InputFile.Value == "-":
		src = "[stdin]"
	case c.InputFile.Set:
		src = c.InputFile.Value
	case c.Directory.Set:
		src = c.Directory.Value
	}
	if c.Validate {
		return "Starting validation of " + src
	}
	bins, sets := "[all]", "[all]"
	if c.BinList.Set {
		bins = c.BinList.Value
	}
	if c.SetList.Set {
		sets = c.SetList.Value
	}
	return "Starting restore to " + c.Cluster.Host + " (bins: " + bins + ", sets: " + sets + ") from " + src
}

// ExitMessage is the VER line both tools log last ("Exiting with status
// code N"); it is only shown in verbose mode.
func ExitMessage(code int) msg.Line {
	return msg.Line{Level: logging.Verbose, Text: "Exiting with status code " + itoa(int64(code))}
}
