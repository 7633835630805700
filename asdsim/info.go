package asdsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

const featuresAll = "batch-any;batch-index;blob-bits;cdt-index;cdt-list;cdt-map;cluster-stable;float;geo;sindex-exists;peers;pipelining;pquery;pscans;query-show;relaxed-sc;replicas;replicas-all;replicas-master;replicas-max;truncate-namespace;udf"

// handleInfo answers a type-1 request.
func (cs *conn) handleInfo(body []byte) error {
	out := appendProtoHeader(cs.out[:0], protoInfo)
	if !cs.authed {
		out = append(out, "ERROR:80:not authenticated\n"...)
		finishProto(out, 0)
		cs.out = out
		return cs.send(out)
	}
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			break // trailing fragment without a newline is ignored
		}
		line := string(body[:i])
		body = body[i+1:]
		val, known := cs.n.info(cs, line)
		if !known && !cs.n.srv.ver.atLeast(7, 1) {
			continue // servers before 7.1 omit unknown commands
		}
		out = append(out, line...)
		out = append(out, '\t')
		out = append(out, val...)
		out = append(out, '\n')
	}
	finishProto(out, 0)
	cs.out = out
	return cs.send(out)
}

// splitCmd splits an info command into its name and the text after the
// first '/', ':' or ';' (like the real server's parser).
func splitCmd(line string) (name, rest string) {
	i := strings.IndexAny(line, "/:;")
	if i < 0 {
		return line, ""
	}
	return line[:i], line[i+1:]
}

// param returns the value of key in a "k=v;k=v" parameter string. The
// boolean reports presence.
func param(params string, keys ...string) (string, bool) {
	for _, tok := range strings.Split(params, ";") {
		eq := strings.IndexByte(tok, '=')
		if eq < 0 {
			continue
		}
		for _, k := range keys {
			if tok[:eq] == k {
				return tok[eq+1:], true
			}
		}
	}
	return "", false
}

// infoErr formats an info error like the configured server version.
func (s *Server) infoErr(code int, msg string) string {
	if code == 1 {
		return "ERROR::" + msg
	}
	return "ERROR:" + strconv.Itoa(code) + ":" + msg
}

// sindexErr formats a sindex command error (FAIL: before 7.1).
func (s *Server) sindexErr(code int, msg string) string {
	if !s.ver.atLeast(7, 1) {
		return "FAIL:" + strconv.Itoa(code) + ":" + msg
	}
	return s.infoErr(code, msg)
}

// sindexOK is the success token of sindex-create/sindex-delete.
func (s *Server) sindexOK() string {
	if !s.ver.atLeast(7, 1) {
		return "OK"
	}
	return "ok"
}

// features returns the feature list for the reported version.
func (s *Server) features() string {
	f := strings.Split(featuresAll, ";")
	out := f[:0]
	for _, x := range f {
		switch x {
		case "batch-any", "pquery", "query-show":
			if !s.ver.atLeast(6, 0) {
				continue
			}
		case "cdt-index":
			if !s.ver.atLeast(7, 0) {
				continue
			}
		}
		out = append(out, x)
	}
	return strings.Join(out, ";")
}

// info answers one info command; known is false for unknown commands.
func (n *Node) info(cs *conn, line string) (val string, known bool) {
	s := n.srv
	name, rest := splitCmd(line)
	switch name {
	case "node":
		return n.name, true
	case "build":
		return s.cfg.Build, true
	case "version":
		return s.editionName() + " build " + s.cfg.Build, true
	case "edition":
		return s.editionName(), true
	case "features":
		return s.features(), true
	case "cluster-name":
		return s.cfg.ClusterName, true
	case "partition-generation":
		return strconv.FormatInt(s.partGen.Load(), 10), true
	case "rebalance-generation":
		return strconv.FormatInt(s.partGen.Load(), 10), true
	case "peers-generation":
		return strconv.FormatInt(s.peersGen.Load(), 10), true
	case "peers-clear-std", "peers-clear-alt":
		if s.cfg.TLS != nil {
			return fmt.Sprintf("%d,%d,[]", s.peersGen.Load(), n.addr.Port), true
		}
		return n.peers(false), true
	case "peers-tls-std", "peers-tls-alt":
		if s.cfg.TLS == nil {
			if s.cfg.Enterprise {
				return fmt.Sprintf("%d,,[]", s.peersGen.Load()), true
			}
			return s.infoErr(25, "enterprise only"), true
		}
		return n.peers(true), true
	case "service-clear-std", "service-clear-alt", "service-tls-std", "service-tls-alt", "service":
		tls := strings.HasPrefix(name, "service-tls")
		if tls != (s.cfg.TLS != nil) {
			return "", true
		}
		if a, ok := cs.c.LocalAddr().(*net.TCPAddr); ok {
			return a.String(), true
		}
		return n.Addr(), true
	case "services", "services-alternate", "services-alumni":
		var peers []string
		for _, o := range s.nodes {
			if o != n {
				peers = append(peers, o.Addr())
			}
		}
		return strings.Join(peers, ";"), true
	case "replicas":
		return n.replicas(true, 0), true
	case "replicas-all":
		return n.replicas(false, 0), true
	case "replicas-master":
		return n.replicasMaster(), true
	case "rack-ids":
		if !s.cfg.Enterprise {
			return s.infoErr(25, "enterprise only"), true
		}
		var parts []string
		for _, ns := range s.nsList {
			parts = append(parts, ns.cfg.Name+":0")
		}
		return strings.Join(parts, ";"), true
	case "namespaces":
		var names []string
		for _, ns := range s.nsList {
			names = append(names, ns.cfg.Name)
		}
		return strings.Join(names, ";"), true
	case "namespace":
		ns := s.nsByKey[rest]
		if ns == nil {
			return "type=unknown", true
		}
		return s.namespaceInfo(ns), true
	case "sets":
		return s.setsInfo(rest), true
	case "sindex-list":
		return s.sindexList(rest), true
	case "sindex":
		return s.sindexStat(rest), true
	case "sindex-stat":
		nsName, _ := param(rest, "namespace", "ns")
		iname, _ := param(rest, "indexname")
		return s.sindexStat(nsName + "/" + iname), true
	case "sindex-exists":
		return s.sindexExists(rest), true
	case "sindex-create":
		return s.sindexCreate(rest), true
	case "sindex-delete":
		return s.sindexDelete(rest), true
	case "udf-put":
		return s.udfPut(rest), true
	case "udf-get":
		return s.udfGet(rest), true
	case "udf-list":
		return s.udfList(), true
	case "udf-remove":
		return s.udfRemove(rest), true
	case "truncate":
		return s.truncateInfo(rest, false), true
	case "truncate-namespace":
		return s.truncateInfo(rest, true), true
	case "truncate-undo", "truncate-namespace-undo":
		return "ok", true
	case "cluster-stable":
		return s.clusterStable(rest), true
	case "cluster-generation":
		return strconv.FormatInt(s.partGen.Load(), 10), true
	case "statistics":
		return s.statistics(), true
	case "get-config":
		return s.getConfig(rest), true
	case "user-agent-set":
		if v, ok := param(rest, "value"); !ok || v == "" {
			return s.infoErr(4, "missing 'value'"), true
		}
		return "ok", true
	case "best-practices":
		return "failed_best_practices=none", true
	case "status":
		return "ok", true
	case "partition-info":
		return s.partitionInfo(), true
	case "query-show", "scan-show", "jobs":
		return s.infoErr(2, "job not found"), true
	case "xdr-set-filter":
		return "ok", true
	case "racks":
		var parts []string
		for _, ns := range s.nsList {
			parts = append(parts, "ns="+ns.cfg.Name+":rack_0="+n.name)
		}
		return strings.Join(parts, ";"), true
	}
	return s.infoErr(4, "unrecognized command"), false
}

func (s *Server) editionName() string {
	if s.cfg.Enterprise {
		return "Aerospike Enterprise Edition"
	}
	return "Aerospike Community Edition"
}

// peers formats the peers-* reply: generation, default port, and every
// other node.
func (n *Node) peers(tls bool) string {
	s := n.srv
	var b strings.Builder
	fmt.Fprintf(&b, "%d,%d,[", s.peersGen.Load(), n.addr.Port)
	first := true
	for _, o := range s.nodes {
		if o == n {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		host := o.addr.IP.String()
		if o.addr.IP.To4() == nil {
			host = "[" + host + "]"
		}
		addr := host
		if o.addr.Port != n.addr.Port {
			addr = host + ":" + strconv.Itoa(o.addr.Port)
		}
		tlsName := ""
		if tls {
			tlsName = s.cfg.TLSName
		}
		fmt.Fprintf(&b, "[%s,%s,[%s]]", o.name, tlsName, addr)
	}
	b.WriteByte(']')
	return b.String()
}

// effectiveRF returns the effective replication factor of a namespace.
func (s *Server) effectiveRF(ns *namespace) int {
	rf := ns.cfg.ReplicationFactor
	if rf > len(s.nodes) {
		rf = len(s.nodes)
	}
	return rf
}

// replicaBitmap returns the 512-byte bitmap of partitions where this node
// holds replica number r (0 = master).
func (n *Node) replicaBitmap(r int) []byte {
	s := n.srv
	bm := make([]byte, Partitions/8)
	nn := len(s.nodes)
	s.ownMu.RLock()
	for p := 0; p < Partitions; p++ {
		if (int(s.owners[p])+r)%nn == n.index {
			bm[p>>3] |= 0x80 >> (p & 7)
		}
	}
	s.ownMu.RUnlock()
	return bm
}

// replicas formats the replicas / replicas-all reply.
func (n *Node) replicas(withRegime bool, _ int) string {
	var b strings.Builder
	for i, ns := range n.srv.nsList {
		if i > 0 {
			b.WriteByte(';')
		}
		rf := n.srv.effectiveRF(ns)
		b.WriteString(ns.cfg.Name)
		b.WriteByte(':')
		if withRegime {
			b.WriteString("0,")
		}
		b.WriteString(strconv.Itoa(rf))
		for r := 0; r < rf; r++ {
			b.WriteByte(',')
			b.WriteString(base64.StdEncoding.EncodeToString(n.replicaBitmap(r)))
		}
	}
	return b.String()
}

func (n *Node) replicasMaster() string {
	var b strings.Builder
	for i, ns := range n.srv.nsList {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(ns.cfg.Name)
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(n.replicaBitmap(0)))
	}
	return b.String()
}

// nsupPeriod is the reported nsup-period of a namespace.
func nsupPeriod(ns *namespace) int {
	if ns.cfg.RejectTTL {
		return 0
	}
	return 10
}

// namespaceConfig formats the namespace configuration like
// get-config:context=namespace.
func (s *Server) namespaceConfig(ns *namespace) string {
	c := ns.cfg
	return "active-rack=0;allow-ttl-without-nsup=false;apply-ttl-reductions=true;auto-revive=false;" +
		"background-query-max-rps=10000;conflict-resolution-policy=generation;conflict-resolve-writes=false;" +
		"default-read-touch-ttl-pct=0;default-ttl=" + strconv.FormatUint(uint64(c.DefaultTTL), 10) +
		";disable-cold-start-eviction=false;disable-mrt-writes=false;disable-write-dup-res=false;" +
		"disallow-expunge=false;disallow-null-setname=false;enable-benchmarks-batch-sub=false;" +
		"enable-benchmarks-ops-sub=false;enable-benchmarks-read=false;enable-benchmarks-udf=false;" +
		"enable-benchmarks-udf-sub=false;enable-benchmarks-write=false;enable-hist-proxy=false;" +
		"evict-hist-buckets=10000;evict-indexes-memory-pct=0;evict-tenths-pct=5;force-long-queries=false;" +
		"ignore-migrate-fill-delay=false;index-stage-size=1073741824;indexes-memory-budget=0;" +
		"inline-short-queries=false;max-record-size=" + strconv.Itoa(c.MaxRecordSize) +
		";migrate-order=5;migrate-retransmit-ms=5000;migrate-skip-unreadable=false;migrate-sleep=1;" +
		"mrt-duration=0;nsup-hist-period=3600;nsup-period=" + strconv.Itoa(nsupPeriod(ns)) +
		";nsup-threads=1;partition-tree-sprigs=256;prefer-uniform-balance=false;rack-id=0;" +
		"read-consistency-level-override=off;reject-non-xdr-writes=false;reject-xdr-writes=false;" +
		"replication-factor=" + strconv.Itoa(c.ReplicationFactor) +
		";sindex-stage-size=1073741824;single-query-threads=4;stop-writes-sys-memory-pct=90;" +
		"strong-consistency=false;strong-consistency-allow-expunge=false;tomb-raider-eligible-age=86400;" +
		"tomb-raider-period=86400;tomb-raider-unmark-threads=0;transaction-pending-limit=20;" +
		"truncate-threads=4;write-commit-level-override=off;xdr-bin-tombstone-ttl=86400;" +
		"xdr-tomb-raider-period=120;xdr-tomb-raider-threads=1;index-type=mem;sindex-type=mem;" +
		"storage-engine=memory;storage-engine.data-size=1073741824;storage-engine.stop-writes-avail-pct=5;" +
		"storage-engine.stop-writes-used-pct=70"
}

// namespaceInfo formats namespace/<ns>: statistics then configuration.
func (s *Server) namespaceInfo(ns *namespace) string {
	objects, used, _ := ns.stats(s.nowVoid())
	ns.mu.RLock()
	tlut := ns.truncateLUT
	ns.mu.RUnlock()
	master := objects
	if len(s.nodes) > 1 {
		// Every node reports the whole namespace as its own; per-node numbers
		// are not tracked.
		master = objects
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ns_cluster_size=%d;effective_replication_factor=%d;objects=%d;tombstones=0;"+
		"xdr_tombstones=0;xdr_bin_cemeteries=0;mrt_provisionals=0;master_objects=%d;master_tombstones=0;"+
		"prole_objects=0;prole_tombstones=0;non_replica_objects=0;non_replica_tombstones=0;"+
		"unreplicated_records=0;dead_partitions=0;unavailable_partitions=0;auto_revived_partitions=0;"+
		"clock_skew_stop_writes=false;stop_writes=false;hwm_breached=false;current_time=%d;"+
		"non_expirable_objects=0;expired_objects=0;evicted_objects=0;evict_ttl=0;evict_void_time=0;"+
		"smd_evict_void_time=0;nsup_cycle_duration=0;nsup_cycle_deleted_pct=0.00;nsup_xdr_key_busy=0;"+
		"truncate_lut=%d;truncating=false;sindex_gc_cleaned=0;mrt_monitors=0;mrt_monitors_active=0;"+
		"xmem_id=0;index_used_bytes=%d;set_index_used_bytes=0;sindex_used_bytes=0;"+
		"data_total_bytes=1073741824;data_used_bytes=%d;data_used_pct=%d;data_avail_pct=%d;"+
		"data_compression_ratio=1.000;pending_quiesce=false;effective_is_quiesced=false;nodes_quiesced=0;"+
		"effective_prefer_uniform_balance=false;effective_active_rack=0;migrate_tx_partitions_imbalance=0;"+
		"migrate_tx_instances=0;migrate_rx_instances=0;migrate_tx_partitions_active=0;"+
		"migrate_rx_partitions_active=0;migrate_tx_partitions_initial=0;migrate_tx_partitions_remaining=0;"+
		"migrate_tx_partitions_lead_remaining=0;migrate_rx_partitions_initial=0;"+
		"migrate_rx_partitions_remaining=0;migrate_records_skipped=0;migrate_records_transmitted=0;"+
		"migrate_record_retransmits=0;migrate_record_receives=0;migrate_signals_active=0;"+
		"migrate_signals_remaining=0;migrate_fresh_partitions=%d;",
		len(s.nodes), s.effectiveRF(ns), objects, master, s.nowVoid(), tlut, objects*64, used,
		used*100/(1<<30), 100-used*100/(1<<30), Partitions)
	b.WriteString(s.namespaceConfig(ns))
	return b.String()
}

// setProps formats the properties of one set for the configured version.
func (s *Server) setProps(ns *namespace, st setStats) string {
	ns.mu.RLock()
	tlut := ns.setTruncate[st.name]
	ns.mu.RUnlock()
	nSI := 0
	s.meta.mu.Lock()
	for _, si := range s.meta.sindexes {
		if si.Namespace == ns.cfg.Name && si.Set == st.name {
			nSI++
		}
	}
	s.meta.mu.Unlock()
	v := s.ver
	var b strings.Builder
	fmt.Fprintf(&b, "objects=%d:tombstones=0:", st.objects)
	if v.atLeast(7, 0) {
		fmt.Fprintf(&b, "data_used_bytes=%d:", st.bytes)
	} else {
		fmt.Fprintf(&b, "memory_data_bytes=%d:device_data_bytes=0:", st.bytes)
	}
	fmt.Fprintf(&b, "truncate_lut=%d:sindexes=%d:index_populating=false:", tlut, nSI)
	if v.atLeast(6, 4) {
		b.WriteString("truncating=false:")
	}
	if v.atLeast(7, 1) {
		b.WriteString("default-read-touch-ttl-pct=0:")
	}
	if v.atLeast(7, 0) {
		b.WriteString("default-ttl=0:")
	}
	b.WriteString("disable-eviction=false:enable-index=false:stop-writes-count=0")
	if v.atLeast(6, 4) {
		b.WriteString(":stop-writes-size=0")
	}
	return b.String()
}

// setsInfo answers sets, sets/<ns> and sets/<ns>/<set>.
func (s *Server) setsInfo(rest string) string {
	parts := strings.Split(rest, "/")
	if rest == "" {
		parts = nil
	}
	var b strings.Builder
	switch len(parts) {
	case 0:
		for _, ns := range s.nsList {
			s.appendSets(&b, ns)
		}
	case 1:
		ns := s.nsByKey[parts[0]]
		if ns == nil {
			return "ns_type=unknown"
		}
		s.appendSets(&b, ns)
	default:
		ns := s.nsByKey[parts[0]]
		if ns == nil {
			return "ns_type=unknown"
		}
		_, _, sets := ns.stats(s.nowVoid())
		for _, st := range sets {
			if st.name == parts[1] {
				return s.setProps(ns, st) + ";"
			}
		}
		return ""
	}
	return b.String()
}

func (s *Server) appendSets(b *strings.Builder, ns *namespace) {
	_, _, sets := ns.stats(s.nowVoid())
	for _, st := range sets {
		fmt.Fprintf(b, "ns=%s:set=%s:%s;", ns.cfg.Name, st.name, s.setProps(ns, st))
	}
}

// sindexList answers sindex-list[:ns=<ns>][;b64=true].
func (s *Server) sindexList(rest string) string {
	keys := []string{"ns"}
	if s.ver.atLeast(7, 1) {
		keys = []string{"namespace", "ns"}
	}
	nsName, hasNS := param(rest, keys...)
	if hasNS {
		if nsName == "" {
			return s.infoErr(20, "missing 'namespace' value")
		}
		if s.nsByKey[nsName] == nil {
			return s.infoErr(20, "namespace not found on node")
		}
	}
	if v, ok := param(rest, "b64"); ok && v != "true" && v != "false" {
		return s.infoErr(4, "bad b64")
	}
	var entries []string
	for _, si := range s.SIndexes() {
		if hasNS && si.Namespace != nsName {
			continue
		}
		entries = append(entries, s.formatSIndex(&si))
	}
	return strings.Join(entries, ";")
}

// formatSIndex formats one sindex-list entry for the configured version.
func (s *Server) formatSIndex(si *SIndex) string {
	set := si.Set
	if !s.ver.atLeast(6, 1) {
		if set == "" {
			set = "NULL"
		}
		itype := strings.ToUpper(si.IndexType)
		if itype == "DEFAULT" {
			itype = "NONE"
		}
		return fmt.Sprintf("ns=%s:set=%s:indexname=%s:bin=%s:type=%s:indextype=%s:path=%s:state=RW",
			si.Namespace, set, si.Name, si.Bin, strings.ToUpper(si.Type), itype, si.Bin)
	}
	if set == "" {
		set = "null"
	}
	ctx := si.Context
	if ctx == "" {
		ctx = "null"
	}
	bin := si.Bin
	if bin == "" {
		bin = "null"
	}
	e := fmt.Sprintf("ns=%s:indexname=%s:set=%s:bin=%s:type=%s:indextype=%s:context=%s",
		si.Namespace, si.Name, set, bin, si.Type, si.IndexType, ctx)
	if s.ver.atLeast(8, 1) {
		exp := si.Exp
		if exp == "" {
			exp = "null"
		}
		e += ":exp=" + exp
	}
	return e + ":state=RW"
}

// sindexStat answers sindex/<ns>/<name>.
func (s *Server) sindexStat(rest string) string {
	parts := strings.SplitN(rest, "/", 2)
	if len(parts) < 2 || parts[1] == "" {
		if len(parts) == 1 && parts[0] != "" && s.nsByKey[parts[0]] == nil {
			return s.infoErr(20, "namespace not found")
		}
		return s.infoErr(4, "missing index name")
	}
	if s.nsByKey[parts[0]] == nil {
		return s.infoErr(20, "namespace not found")
	}
	s.meta.mu.Lock()
	_, si := s.meta.findSIndex(parts[0], parts[1])
	s.meta.mu.Unlock()
	if si == nil {
		return s.infoErr(201, "no index")
	}
	return "entries=0;used_bytes=0;entries_per_bval=0;entries_per_rec=0;load_pct=100;load_time=0;stat_gc_recs=0"
}

func (s *Server) sindexExists(rest string) string {
	iname, ok := param(rest, "indexname")
	if !ok || iname == "" {
		return s.infoErr(4, "missing 'indexname'")
	}
	nsName, ok := param(rest, "namespace", "ns")
	if !ok || nsName == "" {
		return s.infoErr(20, "missing 'namespace'")
	}
	if s.nsByKey[nsName] == nil {
		return s.infoErr(20, "namespace not found on node")
	}
	s.meta.mu.Lock()
	_, si := s.meta.findSIndex(nsName, iname)
	s.meta.mu.Unlock()
	if si == nil {
		return "false"
	}
	return "true"
}

var sindexKTypes = map[string]string{"numeric": "numeric", "string": "string", "blob": "blob", "geo2dsphere": "geo2dsphere"}
var sindexITypes = map[string]string{"default": "default", "list": "list", "mapkeys": "mapkeys", "mapvalues": "mapvalues"}

// sindexCreate answers sindex-create in the syntax of the configured version.
func (s *Server) sindexCreate(rest string) string {
	v := s.ver
	legacy := !v.atLeast(7, 1)
	// checked returns the value and an error reply for a parameter that,
	// when present, must not be empty.
	checked := func(keys ...string) (string, bool, string) {
		val, ok := param(rest, keys...)
		if !ok {
			return "", false, ""
		}
		if val == "" {
			code := 4
			if keys[0] == "namespace" {
				code = 20
			}
			if legacy {
				return "", true, s.sindexErr(4, "zero-length '"+keys[0]+"'")
			}
			return "", true, s.sindexErr(code, "missing '"+keys[0]+"' value")
		}
		return val, true, ""
	}
	iname, ok, e := checked("indexname")
	if e != "" {
		if legacy {
			return s.sindexErr(4, "missing 'indexname'")
		}
		return e
	}
	if !ok {
		return s.sindexErr(4, "missing 'indexname'")
	}
	nsKeys := []string{"namespace", "ns"}
	if legacy {
		nsKeys = []string{"ns"}
	}
	nsName, ok, e := checked(nsKeys...)
	if e != "" {
		if legacy {
			return s.sindexErr(4, "missing 'ns'")
		}
		return e
	}
	if !ok {
		if legacy {
			return s.sindexErr(4, "missing 'ns'")
		}
		return s.sindexErr(20, "missing 'namespace'")
	}
	set, _, e := checked("set")
	if e != "" {
		return e
	}
	ctx, hasCtx, e := checked("context")
	if e != "" {
		return e
	}
	if hasCtx {
		if _, err := base64.StdEncoding.DecodeString(ctx); err != nil || len(ctx)%4 != 0 {
			return s.sindexErr(4, "'context' invalid base64")
		}
	}
	itype := "default"
	if it, ok, e := checked("indextype"); e != "" {
		return e
	} else if ok {
		it = strings.ToLower(it)
		if it == "none" {
			it = "default"
		}
		if _, good := sindexITypes[it]; !good {
			return s.sindexErr(4, "bad 'indextype' - must be one of 'default', 'list', 'mapkeys', 'mapvalues'")
		}
		itype = it
	}
	def := SIndex{Namespace: nsName, Name: iname, Set: set, IndexType: itype}
	if hasCtx {
		def.Context = ctx
	}
	indexdata, hasID, e := checked("indexdata")
	if e != "" {
		return e
	}
	newSyntax := v.atLeast(8, 1)
	var ktype string
	var hasType bool
	if newSyntax {
		ktype, hasType, e = checked("type")
		if e != "" {
			return e
		}
		if !hasID && !hasType {
			return s.sindexErr(4, "both 'indexdata' and 'type' are missing")
		}
		if hasID && hasType {
			return s.sindexErr(4, "both 'indexdata' and 'type' are specified")
		}
	} else if !hasID {
		return s.sindexErr(4, "missing 'indexdata'")
	}
	typeList := "'numeric', 'string', 'blob', 'geo2dsphere'"
	if !v.atLeast(7, 0) {
		typeList = "'numeric', 'string', 'geo2dsphere'"
	}
	validType := func(t string) (string, bool) {
		t = strings.ToLower(t)
		k, ok := sindexKTypes[t]
		if !ok || (k == "blob" && !v.atLeast(7, 0)) {
			return "", false
		}
		return k, true
	}
	if hasType {
		k, ok := validType(ktype)
		if !ok {
			return s.sindexErr(4, "bad 'type' - must be one of "+typeList)
		}
		def.Type = k
		bin, hasBin, e := checked("bin")
		if e != "" {
			return e
		}
		exp, hasExp, e := checked("exp")
		if e != "" {
			return e
		}
		if hasBin && hasExp {
			return s.sindexErr(4, "both 'bin' and 'exp' are specified")
		}
		if !hasBin && !hasExp {
			return s.sindexErr(4, "both 'bin' and 'exp' are missing")
		}
		if hasExp {
			if hasCtx {
				return s.sindexErr(4, "both 'context' and 'exp' are specified")
			}
			if _, err := base64.StdEncoding.DecodeString(exp); err != nil {
				return s.sindexErr(4, "invalid base64 exp")
			}
			def.Exp = exp
		}
		def.Bin = bin
	} else {
		comma := strings.IndexByte(indexdata, ',')
		if comma < 0 {
			return s.sindexErr(4, "'indexdata' missing bin type")
		}
		bin, kt := indexdata[:comma], indexdata[comma+1:]
		if bin == "" {
			return s.sindexErr(4, "'indexdata' missing bin name")
		}
		if len(bin) > maxBinNameSz {
			return s.sindexErr(4, "'indexdata' bin name too long")
		}
		k, ok := validType(kt)
		if !ok {
			return s.sindexErr(4, "bad 'indexdata' bin type - must be one of "+typeList)
		}
		def.Bin, def.Type = bin, k
	}
	if itype == "mapkeys" && def.Type != "numeric" && def.Type != "string" && def.Type != "blob" {
		return s.sindexErr(4, "bad 'indexdata' bin type for 'indextype' 'mapkeys' - must be one of 'numeric', 'string', 'blob'")
	}
	if s.nsByKey[nsName] == nil {
		return s.sindexErr(20, "namespace not found")
	}
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	if _, old := s.meta.findSIndex(nsName, iname); old != nil {
		if old.sameDefinition(&def) && v.atLeast(6, 1) {
			return s.sindexOK()
		}
		if !v.atLeast(6, 1) {
			return s.sindexErr(200, "Index with the same name already exists or this bin has already been indexed.")
		}
		return s.sindexErr(200, "'indexname' already exists with different definition")
	}
	if len(s.meta.sindexes) >= 256 {
		return s.sindexErr(206, "already at sindex definition limit")
	}
	s.meta.sindexes = append(s.meta.sindexes, &def)
	return s.sindexOK()
}

// sindexDelete answers sindex-delete.
func (s *Server) sindexDelete(rest string) string {
	legacy := !s.ver.atLeast(7, 1)
	iname, ok := param(rest, "indexname")
	if !ok || iname == "" {
		return s.sindexErr(4, "missing 'indexname'")
	}
	nsKeys := []string{"namespace", "ns"}
	if legacy {
		nsKeys = []string{"ns"}
	}
	nsName, ok := param(rest, nsKeys...)
	if !ok || nsName == "" {
		if legacy {
			return s.sindexErr(4, "missing 'ns'")
		}
		return s.sindexErr(20, "missing 'namespace'")
	}
	if !s.DropSIndex(nsName, iname) && !s.ver.atLeast(6, 1) {
		return s.sindexErr(201, "Index does not exist.")
	}
	return s.sindexOK()
}

// udfPut answers udf-put.
func (s *Server) udfPut(rest string) string {
	name, ok := param(rest, "filename")
	if !ok || name == "" || !strings.Contains(name, ".") {
		return "error=invalid_filename"
	}
	clen, ok := param(rest, "content-len")
	n, err := strconv.Atoi(clen)
	if !ok || err != nil || n%4 != 0 || n < 0 {
		return "error=invalid_content_len"
	}
	if t, ok := param(rest, "udf-type"); ok && t != "LUA" {
		return "error=invalid_udf_type"
	}
	content, _ := param(rest, "content")
	if len(content) != n {
		return "error=invalid_content"
	}
	data, err := base64.StdEncoding.DecodeString(content)
	if len(data) > 1<<20 {
		return "error=invalid_udf_content_len,>1M"
	}
	if err != nil {
		return "error=invalid_base64_content"
	}
	s.PutUDF(name, data)
	return "ok"
}

func (s *Server) udfGet(rest string) string {
	name, ok := param(rest, "filename")
	if !ok || name == "" {
		return "error=invalid_filename"
	}
	u := s.udf(name)
	if u == nil {
		return "error=not_found"
	}
	return "type=" + u.Type + ";content=" + base64.StdEncoding.EncodeToString(u.Content) + ";"
}

func (s *Server) udfList() string {
	var b strings.Builder
	for _, u := range s.UDFs() {
		fmt.Fprintf(&b, "filename=%s,hash=%s,type=%s;", u.Name, u.Hash(), u.Type)
	}
	return b.String()
}

func (s *Server) udfRemove(rest string) string {
	name, ok := param(rest, "filename")
	if !ok || name == "" {
		return "error=invalid_filename"
	}
	s.RemoveUDF(name)
	return "ok"
}

// truncateInfo answers truncate and truncate-namespace.
func (s *Server) truncateInfo(rest string, wholeNS bool) string {
	nsName, ok := param(rest, "namespace")
	if !ok || nsName == "" {
		return s.infoErr(20, "missing 'namespace'")
	}
	set, hasSet := param(rest, "set")
	if wholeNS && hasSet {
		return s.infoErr(4, "unexpected set name")
	}
	if !wholeNS && (!hasSet || set == "") {
		return s.infoErr(4, "missing 'set'")
	}
	ns := s.nsByKey[nsName]
	if ns == nil {
		return s.infoErr(20, "namespace not found")
	}
	now := s.now().UnixNano()
	cutoff := now
	if l, ok := param(rest, "lut"); ok {
		v, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return s.infoErr(4, "bad 'lut'")
		}
		if v/1e6-CitrusleafEpoch*1000 <= 0 {
			return s.infoErr(4, "would truncate to 0")
		}
		if v > now {
			return s.infoErr(4, "would truncate in the future")
		}
		cutoff = v
	}
	s.truncate(ns, set, wholeNS, cutoff)
	return "ok"
}

// truncate deletes records last updated before cutoff (Unix ns) and
// remembers the cut-off.
func (s *Server) truncate(ns *namespace, set string, wholeNS bool, cutoff int64) {
	ns.truncate(set, wholeNS, cutoff)
	ms := cutoff/1e6 - CitrusleafEpoch*1000
	ns.mu.Lock()
	if wholeNS {
		ns.truncateLUT = ms
	} else {
		ns.setTruncate[set] = ms
	}
	ns.mu.Unlock()
	if !wholeNS {
		ns.registerSet(set)
	}
}

func (s *Server) clusterStable(rest string) string {
	if v, ok := param(rest, "size"); ok {
		if v == "" {
			return s.infoErr(4, "missing 'size' value")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return s.infoErr(4, "bad size")
		}
		if int(n) != len(s.nodes) {
			return s.infoErr(7, "cluster not specified size")
		}
	}
	if v, ok := param(rest, "ignore-migrations"); ok {
		if v == "" {
			return s.infoErr(4, "missing 'ignore-migrations' value")
		}
		if v != "true" && v != "false" {
			return s.infoErr(4, "bad ignore migrations")
		}
	}
	if v, ok := param(rest, "namespace"); ok {
		if v == "" {
			return s.infoErr(20, "missing 'namespace' value")
		}
		if s.nsByKey[v] == nil {
			return s.infoErr(20, "namespace not found on node")
		}
	}
	return strings.ToUpper(strconv.FormatUint(s.clusterID.Load(), 16))
}

func (s *Server) statistics() string {
	objects := 0
	for _, ns := range s.nsList {
		o, _, _ := ns.stats(s.nowVoid())
		objects += o
	}
	conns := int64(0)
	for _, n := range s.nodes {
		conns += n.stats.connsOpened.Load() - n.stats.connsClosed.Load()
	}
	return fmt.Sprintf("failed_best_practices=false;cluster_size=%d;cluster_key=%s;cluster_generation=%d;"+
		"cluster_principal=%s;cluster_min_compatibility_id=15;cluster_max_compatibility_id=15;"+
		"cluster_integrity=true;cluster_is_member=true;cluster_duplicate_nodes=null;"+
		"cluster_clock_skew_stop_writes_sec=0;cluster_clock_skew_ms=0;cluster_clock_skew_outliers=null;"+
		"uptime=%d;objects=%d;tombstones=0;info_queue=0;rw_in_progress=0;proxy_in_progress=0;"+
		"tree_gc_queue=0;client_connections=%d;batch_index_initiate=0;batch_index_complete=0;"+
		"batch_index_error=0;batch_index_timeout=0;paxos_principal=%s;time_since_rebalance=%d;"+
		"migrate_allowed=true;migrate_partitions_remaining=0",
		len(s.nodes), strings.ToUpper(strconv.FormatUint(s.clusterID.Load(), 16)), s.partGen.Load(),
		s.nodes[0].name, int(time.Since(s.started).Seconds()), objects, conns, s.nodes[0].name,
		int(time.Since(s.started).Seconds()))
}

func (s *Server) getConfig(rest string) string {
	ctx, _ := param(rest, "context")
	switch ctx {
	case "", "service":
		return fmt.Sprintf("advertise-ipv6=false;auto-pin=none;batch-index-threads=%d;"+
			"batch-max-buffers-per-queue=255;batch-max-unused-buffers=256;cluster-name=%s;"+
			"debug-allocations=false;disable-udf-execution=false;enable-benchmarks-fabric=false;"+
			"enable-health-check=false;enable-hist-info=false;enforce-best-practices=false;"+
			"info-max-ms=10000;info-threads=16;keep-caps-ssd-health=false;log-local-time=false;"+
			"log-millis=false;microsecond-histograms=false;migrate-max-num-incoming=4;"+
			"migrate-threads=1;min-cluster-size=1;node-id=%s;node-id-interface=null;os-group-perms=false;"+
			"pidfile=null;poison-allocations=false;proto-fd-idle-ms=0;proto-fd-max=15000;"+
			"query-max-done=100;query-threads-limit=128;run-as-daemon=true;salt-allocations=false;"+
			"secrets-address-port=null;secrets-tls-context=null;secrets-uds-path=null;"+
			"service-threads=2;sindex-builder-threads=4;sindex-gc-period=10;stay-quiesced=false;"+
			"ticker-interval=10;transaction-max-ms=1000;transaction-retry-ms=1002;vault-ca=null;"+
			"vault-namespace=null;vault-path=null;vault-token-file=null;vault-url=null;work-directory=/opt/aerospike",
			s.cfg.BatchIndexThreads, s.cfg.ClusterName, s.nodes[0].name)
	case "namespace":
		nsName, _ := param(rest, "id", "namespace")
		ns := s.nsByKey[nsName]
		if ns == nil {
			return s.infoErr(20, "namespace not found")
		}
		return s.namespaceConfig(ns)
	case "network":
		return fmt.Sprintf("service.access-port=0;service.address=any;service.port=%d;heartbeat.mode=mesh;fabric.port=3001", s.nodes[0].addr.Port)
	}
	return s.infoErr(4, "bad context")
}

// partitionInfo answers partition-info (one row per namespace and partition).
func (s *Server) partitionInfo() string {
	var b strings.Builder
	b.WriteString("namespace:partition:state:n_replicas:replica:succession:n_dupl:working_master:proxy_dst:emigrates:lead_emigrates:immigrates:records:tombstones:regime:tree_id:version:final_version")
	key := strings.ToLower(strconv.FormatUint(s.clusterID.Load(), 16))
	s.ownMu.RLock()
	owners := s.owners
	s.ownMu.RUnlock()
	now := s.nowVoid()
	for _, ns := range s.nsList {
		for p := 0; p < Partitions; p++ {
			part := &ns.parts[p]
			part.mu.RLock()
			n := 0
			for _, r := range part.recs {
				if live(r, now) {
					n++
				}
			}
			part.mu.RUnlock()
			m := s.nodes[owners[p]].name
			fmt.Fprintf(&b, ";%s:%d:S:%d:0:0:0:%s:%s:0:0:0:%d:0:0:1:%s.0.mp-:%s.0.mp-",
				ns.cfg.Name, p, s.effectiveRF(ns), m, m, n, key, key)
		}
	}
	return b.String()
}
