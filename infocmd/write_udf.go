package infocmd

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// UDFPutCommand builds the udf-put info command that registers a Lua module
// named name with the given content.
func UDFPutCommand(name string, content []byte) string {
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	b.Grow(len(enc) + len(name) + 64)
	b.WriteString("udf-put:filename=")
	b.WriteString(name)
	b.WriteString(";content=")
	b.WriteString(enc)
	b.WriteString(";content-len=")
	b.WriteString(strconv.Itoa(len(enc)))
	b.WriteString(";udf-type=LUA;")
	return b.String()
}

// CheckUDFPutReply interprets a udf-put reply: empty or "OK" means success;
// "error=<kind>;file=...;line=...;message=<b64>" (or an ERROR: reply) is an
// *InfoError.
func CheckUDFPutReply(reply string) error {
	r := strings.TrimSpace(reply)
	if r == "" || strings.EqualFold(r, "ok") {
		return nil
	}
	if strings.HasPrefix(r, "error=") {
		fields := map[string]string{}
		for _, kv := range strings.Split(r, ";") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = v
			}
		}
		msg := fields["error"]
		if m, err := base64.StdEncoding.DecodeString(fields["message"]); err == nil && len(m) > 0 {
			msg += ": " + string(m)
		}
		return &InfoError{Code: 100, Message: msg}
	}
	return ParseInfoError(r)
}

// UDFPresent reports whether a udf-list reply lists module name
// ("filename=<name>,hash=...,type=LUA;...").
func UDFPresent(udfList, name string) bool {
	for _, entry := range strings.Split(udfList, ";") {
		for _, kv := range strings.Split(entry, ",") {
			if v, ok := strings.CutPrefix(kv, "filename="); ok && v == name {
				return true
			}
		}
	}
	return false
}
