package compat

import "asbtools/msg"

// TOMLText is a configuration value that is neither a string, an integer
// the legacy reader accepts, nor a boolean (a float, a date, "0x10", ...):
// every key rejects it as an invalid value. Value is the text as written.
type TOMLText string

// ConfigChecker validates configuration-file settings with a tool's option
// registry while the files are read, so that the reader knows at once
// whether a file holds a bad setting (legacy prints and skips files of an
// [include] directory that do). It applies each setting to a configuration
// of its own, exactly as the tool applies it later, so that settings that
// depend on earlier ones (a second encryption key, accumulated set lists)
// are judged the same way.
type ConfigChecker struct {
	p       *parser
	inAgent bool // a [secret-agent] section is being read
}

// SecretAgent ends the [secret-agent] section being read (splitting a
// port off its address as the tools do) and returns the Secret Agent
// configuration read so far, which resolves the secrets of the sections
// that follow.
func (c *ConfigChecker) SecretAgent() SecretAgentConfig {
	if c.inAgent {
		splitSAAddress(&c.p.sa, c.p.saExplicitPort)
		c.inAgent, c.p.saExplicitPort = false, false
	}
	return c.p.sa
}

// NewConfigChecker returns a checker for tool ("asbackup" or "asrestore")
// reading the sections of instance (empty for none). env supplies file
// access and key parsing (zero fields: the operating system).
func NewConfigChecker(tool, instance string, env Env) *ConfigChecker {
	def := backupTool
	if tool == restoreTool.name {
		def = restoreTool
	}
	p := newParser(def, nil, env)
	p.load.Instance = instance
	var x target
	if def.restore {
		c := &RestoreConfig{}
		x = target{Common: &c.Common, r: c}
	} else {
		c := &BackupConfig{}
		x = target{Common: &c.Common, b: c}
	}
	x.Location = p.env.Location
	def.setDefaults(x)
	p.t = x
	return &ConfigChecker{p: p}
}

// Check validates one [secret-agent], [cluster] or tool-section setting.
// Section is the section's base name ("secret-agent", "cluster",
// "asbackup"); Value is a string, int64, bool or TOMLText; Secret marks a
// value already fetched from the Secret Agent. On failure it returns the lines the legacy tool prints first (pre)
// and the text of its "Parse error `<text>` in file [...]" line.
func (c *ConfigChecker) Check(s ConfigSetting) (pre []msg.Line, parseError string, ok bool) {
	sect, _ := c.p.classify(s.Section)
	switch sect {
	case noSection:
		return nil, "", true
	case agentSection:
		c.inAgent = true
	}
	e := c.p.applySetting(s)
	if e == nil {
		return nil, "", true
	}
	if e.pre != nil {
		pre = e.pre.Lines
	}
	return pre, e.text, false
}
