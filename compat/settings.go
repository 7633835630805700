package compat

import (
	"asbtools/logging"
	"asbtools/msg"
	"fmt"
	"math"
	"strings"
	"time"
)

// settingValue is a configuration value after secret resolution.
type settingValue struct {
	raw    any    // the TOML-typed value
	str    string // the value when it is (or resolved to) text
	isStr  bool
	secret []byte // fetched value when the setting was a secret reference
}

// classify returns the section of a configuration section name and the name
// the legacy tools use in messages (the instance section, even when the
// plain one was the fallback).
func (p *parser) classify(name string) (section, string) {
	base := name
	if p.load.Instance != "" {
		base = strings.TrimSuffix(name, "_"+p.load.Instance)
	}
	label := base
	if p.load.Instance != "" {
		label = base + "_" + p.load.Instance
	}
	switch base {
	case "secret-agent":
		return agentSection, label
	case "cluster":
		return clusterSection, label
	case p.tool.name:
		return toolSection, label
	}
	return noSection, name
}

// fileRef is the "[level:path]" part of the legacy parse-error line.
func fileRef(s ConfigSetting) string { return fmt.Sprintf("[%d:%s]", s.Level, s.File) }

// settingError is the failure of one configuration setting as the legacy
// configuration reader reports it: lines printed first (pre), then the
// "Parse error `<text>` in file [level:path]" line whose text is text.
type settingError struct {
	pre  *msg.Error
	text string
}

// full returns the failure with its parse-error line.
func (e *settingError) full(s ConfigSetting) *msg.Error {
	return join(e.pre, rawError("Parse error `"+e.text+"` in file "+fileRef(s)+"\n"))
}

// after puts first's lines before the failure's own.
func (e *settingError) after(first *msg.Error) *settingError {
	return &settingError{pre: join(first, e.pre), text: e.text}
}

func rawError(text string) *msg.Error {
	return &msg.Error{Code: 1, Lines: []msg.Line{{Level: logging.Raw, Text: text}}}
}

// join concatenates the messages of several errors.
func join(es ...*msg.Error) *msg.Error {
	out := &msg.Error{Code: 1}
	for _, e := range es {
		if e != nil {
			out.Lines = append(out.Lines, e.Lines...)
		}
	}
	return out
}

// applySettings applies configuration settings in order through the
// registry: [secret-agent] keys as they are, [cluster] and tool keys after
// secret resolution with the Secret Agent configuration read so far. Other
// sections are ignored.
func (p *parser) applySettings(settings []ConfigSetting) *msg.Error {
	var saGroup string // file+section of the current [secret-agent] group
	endSA := func() {
		if saGroup != "" {
			splitSAAddress(&p.sa, p.saExplicitPort)
			saGroup, p.saExplicitPort = "", false
		}
	}
	for _, s := range settings {
		sect, _ := p.classify(s.Section)
		if sect == agentSection {
			if group := s.File + "\x00" + s.Section; group != saGroup {
				endSA()
				saGroup = group
			}
		} else {
			endSA()
		}
		if e := p.applySetting(s); e != nil {
			return p.out.fail(e.full(s))
		}
	}
	endSA()
	return nil
}

// applySetting validates and stores one setting.
func (p *parser) applySetting(s ConfigSetting) *settingError {
	sect, label := p.classify(s.Section)
	if sect == noSection {
		return nil
	}
	key := strings.ToLower(s.Key)
	v := settingValue{raw: s.Value}
	if str, ok := s.Value.(string); ok {
		v.str, v.isStr = str, true
		switch {
		case sect == agentSection:
			// Never secret-resolved.
		case s.Secret:
			// Already fetched by the loader.
			v.secret = []byte(str)
			v.str = cut(str)
		case strings.HasPrefix(str, secretPrefix):
			val, e := p.fetchSecret(p.sa, str)
			if e != nil {
				return &settingError{pre: join(e, errLines("failed requesting secret: "+str))}
			}
			v.secret = val
			v.str = cut(string(val))
		}
	}
	t := toolSetting{p: p, s: s, v: v, key: key, label: label, sect: sect}
	o := p.tool.keys[sect][key]
	if o == nil || o.conf == nil {
		return t.unknown()
	}
	if sect == agentSection && key == "sa-port" {
		p.saExplicitPort = true
	}
	return o.conf(t, p.t)
}

// asString returns a string setting's text.
func (v settingValue) asString() (string, bool) { return v.str, v.isStr }

// asInt returns an integer setting (a TOML integer, or a secret holding
// TOML integer text).
func (v settingValue) asInt() (int64, bool) {
	if v.secret != nil {
		return ParseTOMLInt(v.str)
	}
	i, ok := v.raw.(int64)
	return i, ok
}

// asBool returns a boolean setting (a TOML boolean, or a secret holding
// "true"/"false").
func (v settingValue) asBool() (bool, bool) {
	if v.secret != nil {
		switch v.str {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return false, false
	}
	b, ok := v.raw.(bool)
	return b, ok
}

// toolSetting is one setting being applied; its helpers return the legacy
// failure for the key.
type toolSetting struct {
	p     *parser
	s     ConfigSetting
	v     settingValue
	key   string // lower case
	label string // section name for messages
	sect  section
}

// bad is the "Invalid parameter value" failure; the cluster section's
// message ends with a period.
func (t toolSetting) bad() *settingError {
	dot := ""
	if t.sect == clusterSection {
		dot = "."
	}
	return &settingError{text: "Invalid parameter value for `" + t.s.Key + "` in `" + t.label + "` section" + dot + "\n"}
}

// badWith prefixes the invalid-value failure with ERR lines.
func (t toolSetting) badWith(e *msg.Error) *settingError { return t.bad().after(e) }

// unknown is the failure for a key the section does not have.
func (t toolSetting) unknown() *settingError {
	if t.sect == clusterSection {
		return &settingError{text: "Unknown parameter `" + t.s.Key + "` in `" + t.label + "` section.\n"}
	}
	return &settingError{pre: rawError("Unknown parameter `" + t.s.Key + "` in `" + t.label + "` section\n")}
}

func (t toolSetting) str(dst *string) *settingError {
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	*dst = s
	return nil
}

func (t toolSetting) opt(dst *Opt) *settingError {
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	dst.set(s)
	return nil
}

func (t toolSetting) boolean(dst *bool) *settingError {
	b, ok := t.v.asBool()
	if !ok {
		return t.bad()
	}
	*dst = b
	return nil
}

// pem stores a path setting, or the PEM content when the value was a
// secret.
func (t toolSetting) pem(path *Opt, content *[]byte) *settingError {
	s, ok := t.v.asString()
	if !ok {
		return t.bad()
	}
	setPEM(path, content, s, t.v.secret != nil)
	return nil
}

// intSetting stores conv(v) in *dst if the value is an integer accepted by
// check (nil: any integer).
func intSetting[T any](t toolSetting, check func(int64) bool, dst *T, conv func(int64) T) *settingError {
	v, ok := t.v.asInt()
	if !storeInt(v, ok, check, dst, conv) {
		return t.bad()
	}
	return nil
}

func positive(v int64) bool       { return v > 0 }
func nonNegative32(v int64) bool  { return int32(v) >= 0 }
func uint32Positive(v int64) bool { return v > 0 && v <= math.MaxUint32 }
func uint32NonNeg(v int64) bool   { return v >= 0 && v <= math.MaxUint32 }

// Legacy casts of a TOML integer: (uint32_t)(int32_t), (uint32_t),
// (int32_t), and durations in milliseconds of the first two.
func msDuration(v int64) time.Duration { return ms(uint32Cast(v)) }
func msUint32(v int64) time.Duration   { return ms(uint32Trunc(v)) }
func uint32Trunc(v int64) int64        { return int64(uint32(v)) }
func uint32Cast(v int64) int64         { return int64(uint32(int32(v))) }
func int32Cast(v int64) int64          { return int64(int32(v)) }
func int32ToInt(v int64) int           { return int(int32(v)) }
