package conf

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2/unstable"

	"asbtools/compat"
	"asbtools/secretagent"
)

type loader struct {
	opts   LoadOptions
	out    []Setting
	sa     secretagent.Config
	hasKey bool // an encryption key source has been read
	level  int  // include level of the file being processed
}

func newLoader(opts LoadOptions) *loader {
	return &loader{opts: opts, sa: secretagent.DefaultConfig()}
}

// sectionName returns the table to read for base and the name used in
// messages. fallback selects whether the plain section is used when the
// instance section is absent.
func (l *loader) pick(root *table, base string, fallback bool) (*table, string) {
	if l.opts.Instance == "" {
		return root.section(base), base
	}
	name := base + "_" + l.opts.Instance
	if t := root.section(name); t != nil || !fallback {
		return t, name
	}
	return root.section(base), name
}

// sections processes one parsed file. It returns printed lines, the text of
// the parse-error line and whether processing succeeded.
func (l *loader) sections(root *table, path string, level int) ([]Line, string, bool) {
	l.level = level
	if lines, eb, ok := l.secretAgent(root, path); !ok {
		return lines, eb, false
	}
	t, name := l.pick(root, "cluster", false)
	if lines, eb, ok := l.keyed(t, name, "cluster", clusterKeys, path); !ok {
		return lines, eb, false
	}
	keys := backupKeys
	if l.opts.Tool == "asrestore" {
		keys = restoreKeys
	}
	t, name = l.pick(root, l.opts.Tool, true)
	if lines, eb, ok := l.keyed(t, name, l.opts.Tool, keys, path); !ok {
		return lines, eb, false
	}
	if lines, ok := l.include(root, level); !ok {
		return lines, "", false
	}
	return nil, "", true
}

func (l *loader) secretAgent(root *table, path string) ([]Line, string, bool) {
	t, name := l.pick(root, "secret-agent", true)
	if t == nil {
		return nil, "", true
	}
	invalid := func(e *entry, period string) ([]Line, string, bool) {
		return nil, fmt.Sprintf("Invalid parameter value for `%s` in `%s` section%s\n", e.key, name, period), false
	}
	explicitPort := false
	var addrEntry *entry
	var lines []Line
	for _, e := range t.ordered() {
		if e.kind != entScalar {
			return invalid(e, ".")
		}
		set := func(key string, v any) {
			l.out = append(l.out, Setting{Section: "secret-agent", Key: key, Value: v, File: path, Line: e.line, Level: l.level})
		}
		switch strings.ToLower(e.key) {
		case "sa-address":
			if e.vkind != unstable.String {
				return invalid(e, "")
			}
			l.sa.Address = e.vstr
			addrEntry = e
		case "sa-port":
			explicitPort = true
			if e.vkind != unstable.String {
				return invalid(e, "")
			}
			l.sa.Port = e.vstr
			set("sa-port", e.vstr)
		case "sa-timeout":
			v, ok := rtoi(e.vraw)
			if !ok {
				return invalid(e, "")
			}
			l.sa.Timeout = time.Duration(v) * time.Millisecond
			set("sa-timeout", v)
		case "sa-cafile":
			if e.vkind != unstable.String {
				return invalid(e, "")
			}
			if _, err := os.ReadFile(e.vstr); err != nil {
				lines = append(lines, Line{Text: "failed to open " + e.vstr, Log: true})
				return lines, fmt.Sprintf("Invalid parameter value for `%s` in `%s` section\n", e.key, name), false
			}
			l.sa.CAFile = e.vstr
			set("sa-cafile", e.vstr)
		default:
			return []Line{{Text: fmt.Sprintf("Unknown parameter `%s` in `%s` section\n", e.key, name)}}, "", false
		}
	}
	// Split host[:port] of the accumulated address, as legacy does after
	// every [secret-agent] section.
	host, port, hasPort := secretagent.SplitAddress(l.sa.Address)
	line := 0
	if addrEntry != nil {
		line = addrEntry.line
	}
	if addrEntry != nil || hasPort {
		l.sa.Address = host
		l.out = append(l.out, Setting{Section: "secret-agent", Key: "sa-address", Value: host, File: path, Line: line, Level: l.level})
	}
	if hasPort && !explicitPort {
		l.sa.Port = port
		l.out = append(l.out, Setting{Section: "secret-agent", Key: "sa-port", Value: port, File: path, Line: line, Level: l.level})
	}
	return nil, "", true
}

// keyed processes a [cluster*] or tool section.
func (l *loader) keyed(t *table, name, base string, keys map[string]keySpec, path string) ([]Line, string, bool) {
	if t == nil {
		return nil, "", true
	}
	period := ""
	if base == "cluster" {
		period = "."
	}
	var lines []Line
	for _, e := range t.ordered() {
		if e.kind != entScalar {
			return lines, fmt.Sprintf("Invalid parameter value for `%s` in `%s` section.\n", e.key, name), false
		}
		// Legacy resolves a secret before looking at the key name.
		val := value{kind: e.vkind, raw: e.vraw, str: e.vstr}
		if e.vkind == unstable.String && secretagent.IsRef(e.vstr) {
			s, errLines := l.resolve(e.vstr)
			if errLines != nil {
				return append(lines, errLines...), "", false
			}
			val.secret, val.str = true, s
		}
		key := strings.ToLower(e.key)
		spec, ok := keys[key]
		if !ok {
			if base == "cluster" {
				return lines, fmt.Sprintf("Unknown parameter `%s` in `%s` section.\n", e.key, name), false
			}
			return append(lines, Line{Text: fmt.Sprintf("Unknown parameter `%s` in `%s` section\n", e.key, name)}), "", false
		}
		res := spec.apply(l, val)
		lines = append(lines, res.lines...)
		if res.fatal {
			return lines, "", false
		}
		if !res.ok {
			return lines, fmt.Sprintf("Invalid parameter value for `%s` in `%s` section%s\n", e.key, name, period), false
		}
		if res.ignore {
			continue
		}
		canon := spec.canon
		if canon == "" {
			canon = key
		}
		l.out = append(l.out, Setting{Section: base, Key: canon, Value: res.v, File: path, Line: e.line, Level: l.level, Secret: val.secret})
	}
	if len(lines) > 0 {
		l.emit(lines)
	}
	return nil, "", true
}

// resolve fetches a config-file secret with the agent settings read so far.
func (l *loader) resolve(ref string) (string, []Line) {
	var lines []Line
	c, err := secretagent.NewClient(l.sa)
	var s string
	if err == nil {
		s, err = c.ResolveString(ref)
	}
	if err != nil {
		if se, ok := err.(*secretagent.Error); ok {
			for _, m := range se.LogLines() {
				lines = append(lines, Line{Text: m, Log: true})
			}
		} else {
			lines = append(lines, Line{Text: "secret-agent: " + err.Error(), Log: true})
		}
		lines = append(lines, Line{Text: "failed requesting secret: " + ref, Log: true})
		return "", lines
	}
	return s, nil
}

// value is a raw TOML scalar, possibly replaced by a fetched secret.
type value struct {
	kind   unstable.Kind
	raw    string
	str    string
	secret bool
}

func (v value) asString() (string, bool) {
	if v.secret || v.kind == unstable.String {
		return v.str, true
	}
	return "", false
}

func (v value) asInt() (int64, bool) {
	if v.secret {
		return rtoi(v.str)
	}
	return rtoi(v.raw)
}

func (v value) asBool() (bool, bool) {
	s := v.raw
	if v.secret {
		s = v.str
	}
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

type result struct {
	v      any
	ok     bool
	fatal  bool // stop with the empty parse-error line
	ignore bool // accepted but produces no setting
	lines  []Line
}

type keySpec struct {
	canon string
	apply func(l *loader, v value) result
}

func str(check func(string) (bool, []Line)) keySpec {
	return keySpec{apply: func(_ *loader, v value) result {
		s, ok := v.asString()
		if !ok {
			return result{}
		}
		if check != nil {
			good, lines := check(s)
			return result{v: s, ok: good, lines: lines}
		}
		return result{v: s, ok: true}
	}}
}

func boolean() keySpec {
	return keySpec{apply: func(_ *loader, v value) result {
		b, ok := v.asBool()
		return result{v: b, ok: ok}
	}}
}

// integer parses a TOML integer; bits32 truncates like a cast to int32_t;
// check validates the (possibly truncated) value.
func integer(bits32 bool, check func(int64) bool) keySpec {
	return keySpec{apply: func(_ *loader, v value) result {
		n, ok := v.asInt()
		if !ok {
			return result{}
		}
		if bits32 {
			n = int64(int32(n))
		}
		if check != nil && !check(n) {
			return result{}
		}
		return result{v: n, ok: true}
	}}
}

func positive(n int64) bool    { return n > 0 }
func nonNegative(n int64) bool { return n >= 0 }
func between(lo, hi int64) func(int64) bool {
	return func(n int64) bool { return n >= lo && n <= hi }
}

func oneOf(vals ...string) func(string) (bool, []Line) {
	return func(s string) (bool, []Line) {
		for _, v := range vals {
			if s == v {
				return true, nil
			}
		}
		return false, nil
	}
}

func s3LogLevel(s string) (bool, []Line) {
	if _, ok := compat.ParseS3LogLevel(s); ok {
		return true, nil
	}
	return false, []Line{{Text: fmt.Sprintf("Invalid S3 log level \"%s\"", s), Log: true}}
}

func setList(s string) (bool, []Line) {
	if _, err := ParseSetList(s); err != nil {
		return false, []Line{{Text: err.Error(), Log: true}}
	}
	return true, nil
}

// dateTime checks a --modified-after/--modified-before value with
// compat.ParseDateTime; its final "Invalid date and time string" line is
// only printed for the command-line option.
func dateTime(s string) (bool, []Line) {
	_, e := compat.ParseDateTime(s, time.Now(), time.Local)
	if e == nil {
		return true, nil
	}
	var lines []Line
	for _, m := range e.Messages[:len(e.Messages)-1] {
		lines = append(lines, Line{Text: m.Text, Log: true})
	}
	return false, lines
}

func truncated(n int) keySpec {
	return keySpec{apply: func(_ *loader, v value) result {
		s, ok := v.asString()
		if !ok {
			return result{}
		}
		if len(s) > n {
			s = s[:n]
		}
		return result{v: s, ok: true}
	}}
}

const bothKeys = "Cannot specify both encryption-key-file and encryption-key-env\n"

func keyFile() keySpec {
	return keySpec{apply: func(l *loader, v value) result {
		if l.hasKey {
			return result{fatal: true, lines: []Line{{Text: bothKeys}}}
		}
		s, ok := v.asString()
		if !ok {
			return result{}
		}
		l.hasKey = true
		data := []byte(s)
		if !v.secret {
			b, err := os.ReadFile(s)
			if err != nil {
				return result{lines: []Line{{Text: fmt.Sprintf("Could not open private key file \"%s\"", s), Log: true}}}
			}
			data = b
		}
		if !parsePrivateKeyPEM(data) {
			return result{lines: []Line{{Text: "Unable to parse private key, make sure the key is in PEM format", Log: true}}}
		}
		return result{v: s, ok: true}
	}}
}

func keyEnv() keySpec {
	return keySpec{apply: func(l *loader, v value) result {
		if l.hasKey {
			return result{fatal: true, lines: []Line{{Text: bothKeys}}}
		}
		s, ok := v.asString()
		if !ok {
			return result{}
		}
		env, found := os.LookupEnv(s)
		if !found {
			return result{lines: []Line{{Text: fmt.Sprintf("No environment variable \"%s\" found\n", s), Log: true}}}
		}
		if _, ok := compat.DecodeBase64(env); !ok {
			return result{lines: []Line{{Text: fmt.Sprintf("Unable to decode enviroment variable \"%s\" as base64\n", s), Log: true}}}
		}
		l.hasKey = true
		return result{v: s, ok: true}
	}}
}

// parsePrivateKeyPEM reports whether data holds a PEM private key that
// OpenSSL's PEM_read_PrivateKey would load (PKCS#8, PKCS#1 RSA or SEC1 EC).
func parsePrivateKeyPEM(data []byte) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		switch b.Type {
		case "PRIVATE KEY":
			_, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			return err == nil
		case "RSA PRIVATE KEY":
			_, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			return err == nil
		case "EC PRIVATE KEY":
			_, err := x509.ParseECPrivateKey(b.Bytes)
			return err == nil
		}
	}
}

func warnString(warning string) keySpec {
	return keySpec{apply: func(_ *loader, v value) result {
		s, ok := v.asString()
		return result{v: s, ok: ok, lines: []Line{{Text: warning}}}
	}}
}

// deprecatedRestore accepts any scalar value for a key that legacy ignores
// after a warning. The setting is still returned (with the value as typed:
// string, int64, bool, or the raw text of other scalars) so that a consumer
// printing the warning at apply time keeps it in file order.
func deprecatedRestore(name string) keySpec {
	return keySpec{apply: func(_ *loader, v value) result {
		var val any = v.raw
		if s, ok := v.asString(); ok {
			val = s
		} else if i, ok := v.asInt(); ok {
			val = i
		} else if b, ok := v.asBool(); ok {
			val = b
		}
		return result{v: val, ok: true, lines: []Line{{Text: "Warning: `--" + name + "` is deprecated and has no effect, use `--retry-scale-factor` to configure the amount to back off when retrying transactions."}}}
	}}
}

var clusterKeys = map[string]keySpec{
	"host":                   str(nil),
	"port":                   integer(true, nil),
	"use-services-alternate": boolean(),
	"user":                   str(nil),
	"password":               str(nil),
	"auth":                   str(nil),
	"tls-enable":             boolean(),
	"tls-name":               str(nil),
	"tls-protocols":          str(nil),
	"tls-cipher-suite":       str(nil),
	"tls-crl-check":          boolean(),
	"tls-crl-check-all":      boolean(),
	"tls-keyfile":            str(nil),
	"tls-keyfile-password":   str(nil),
	"tls-cafile":             str(nil),
	"tls-capath":             str(nil),
	"tls-certfile":           str(nil),
	"tls-cert-blacklist":     warnString("Warning: --tls-cert-blacklist is deprecated and will be removed in the next release. Use a crl instead\n"),
}

const uint32Max = 4294967295

var backupKeys = map[string]keySpec{
	"namespace":              truncated(31),
	"set":                    str(setList),
	"continue":               str(nil),
	"state-file-dst":         str(nil),
	"remove-files":           boolean(),
	"remove-artifacts":       boolean(),
	"directory":              str(nil),
	"output-file-prefix":     str(nil),
	"no-ttl-only":            boolean(),
	"max-records":            integer(false, nil),
	"output-file":            str(nil),
	"file-limit":             integer(false, positive),
	"records-per-second":     integer(true, nil),
	"no-bins":                boolean(),
	"compact":                boolean(),
	"parallel":               integer(false, positive),
	"compress":               str(oneOf("zstd")),
	"compression-level":      integer(true, nil),
	"encrypt":                str(oneOf("aes128", "aes256")),
	"encryption-key-file":    keyFile(),
	"encryption-key-env":     keyEnv(),
	"bin-list":               str(nil),
	"node-list":              str(nil),
	"partition-list":         str(nil),
	"after-digest":           str(nil),
	"filter-exp":             str(nil),
	"modified-after":         str(dateTime),
	"modified-before":        str(dateTime),
	"machine":                str(nil),
	"estimate":               boolean(),
	"estimate-samples":       integer(false, positive),
	"verbose":                boolean(),
	"nice":                   integer(false, positive),
	"no-records":             boolean(),
	"no-indexes":             boolean(),
	"no-udfs":                boolean(),
	"socket-timeout":         integer(true, nonNegative),
	"total-timeout":          integer(true, nonNegative),
	"max-retries":            integer(true, nonNegative),
	"retry-delay":            integer(true, nonNegative),
	"sleep-between-retries":  integer(true, nonNegative),
	"prefer-racks":           str(nil),
	"s3-region":              str(nil),
	"s3-profile":             str(nil),
	"s3-endpoint-override":   str(nil),
	"s3-min-part-size":       integer(false, positive),
	"s3-max-async-downloads": integer(false, between(1, uint32Max)),
	"s3-max-async-uploads":   integer(false, between(1, uint32Max)),
	"s3-connect-timeout":     integer(false, between(0, uint32Max)),
	"s3-log-level":           str(s3LogLevel),
	"s3-allow-system-proxy":  boolean(),
}

var restoreKeys = map[string]keySpec{
	"namespace":              str(nil),
	"directory":              str(nil),
	"directory-list":         str(nil),
	"parent-directory":       str(nil),
	"input-file":             str(nil),
	"compress":               str(oneOf("zstd")),
	"encrypt":                str(oneOf("aes128", "aes256")),
	"encryption-key-file":    keyFile(),
	"encryption-key-env":     keyEnv(),
	"parallel":               integer(false, between(1, 4096)),
	"threads":                {canon: "parallel", apply: integer(false, between(1, 4096)).apply},
	"machine":                str(nil),
	"verbose":                boolean(),
	"bin-list":               str(nil),
	"set-list":               str(nil),
	"unique":                 boolean(),
	"ignore-record-error":    boolean(),
	"replace":                boolean(),
	"no-generation":          boolean(),
	"extra-ttl":              integer(true, nil),
	"bandwidth":              integer(false, positive),
	"tps":                    integer(true, nil),
	"nice":                   str(nil),
	"no-records":             boolean(),
	"validate":               boolean(),
	"no-indexes":             boolean(),
	"indexes-last":           boolean(),
	"no-udfs":                boolean(),
	"wait":                   boolean(),
	"timeout":                integer(false, nonNegative),
	"socket-timeout":         integer(true, nonNegative),
	"total-timeout":          integer(true, nonNegative),
	"max-retries":            integer(true, nonNegative),
	"sleep-between-retries":  deprecatedRestore("sleep-between-retries"),
	"retry-delay":            deprecatedRestore("retry-delay"),
	"batch-size":             integer(true, nonNegative),
	"event-loops":            integer(true, nonNegative),
	"max-async-batches":      integer(true, nonNegative),
	"retry-scale-factor":     integer(true, nonNegative),
	"disable-batch-writes":   boolean(),
	"s3-region":              str(nil),
	"s3-profile":             str(nil),
	"s3-endpoint-override":   str(nil),
	"s3-connect-timeout":     integer(false, between(0, uint32Max)),
	"s3-max-async-downloads": integer(false, between(1, uint32Max)),
	"s3-log-level":           str(s3LogLevel),
	"s3-allow-system-proxy":  boolean(),
}
