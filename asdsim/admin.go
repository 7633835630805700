package asdsim

import (
	"crypto/rand"
	"encoding/binary"
	"sync"

	"github.com/aerospike/aerospike-client-go/v7/pkg/bcrypt"
)

// Admin commands and field ids.
const (
	adminAuthenticate = 0
	adminLogin        = 20
	adminFieldUser    = 0
	adminFieldCred    = 3
	adminFieldToken   = 5
	adminFieldTTL     = 6
	adminHeaderSize   = 16
	sessionTTLSeconds = 86400
	credentialSalt    = "$2a$10$7EqJtq98hPqEX7fNZaFWoO"
)

// security holds users and live session tokens.
type security struct {
	once   sync.Once
	mu     sync.Mutex
	creds  map[string]string // user -> bcrypt credential
	tokens map[string]string // token -> user
}

func (s *Server) credentials() map[string]string {
	s.sec.once.Do(func() {
		s.sec.creds = map[string]string{}
		s.sec.tokens = map[string]string{}
		for u, p := range s.cfg.Users {
			h, err := bcrypt.Hash(p, credentialSalt)
			if err == nil {
				s.sec.creds[u] = h
			}
		}
	})
	return s.sec.creds
}

func adminReply(rc ResultCode, fields ...[]byte) []byte {
	buf := appendProtoHeader(nil, protoAdmin)
	buf = append(buf, 0, byte(rc), 0, byte(len(fields)))
	buf = append(buf, make([]byte, 12)...)
	for _, f := range fields {
		buf = append(buf, f...)
	}
	finishProto(buf, 0)
	return buf
}

func adminField(id byte, data []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(len(data)+1))
	f = append(f, id)
	return append(f, data...)
}

// handleAdmin answers a type-2 (security) request.
func (cs *conn) handleAdmin(body []byte) error {
	s := cs.n.srv
	if len(body) < adminHeaderSize {
		return cs.send(adminReply(ResultParameterError))
	}
	if len(s.cfg.Users) == 0 {
		// A Community node has no security at all; an Enterprise node
		// has it but not enabled. Configured users enable it on either.
		if s.cfg.Enterprise {
			return cs.send(adminReply(ResultSecurityNotEnabled))
		}
		return cs.send(adminReply(ResultSecurityNotSupported))
	}
	cmd := body[2]
	nf := int(body[3])
	fields := map[byte][]byte{}
	pos := adminHeaderSize
	for i := 0; i < nf; i++ {
		if len(body)-pos < 5 {
			return cs.send(adminReply(ResultParameterError))
		}
		sz := int(binary.BigEndian.Uint32(body[pos:]))
		if sz < 1 || len(body)-pos-4 < sz {
			return cs.send(adminReply(ResultParameterError))
		}
		fields[body[pos+4]] = body[pos+5 : pos+4+sz]
		pos += 4 + sz
	}
	creds := s.credentials()
	user := string(fields[adminFieldUser])
	switch cmd {
	case adminLogin:
		want, ok := creds[user]
		if !ok {
			return cs.send(adminReply(ResultInvalidUser))
		}
		if string(fields[adminFieldCred]) != want {
			return cs.send(adminReply(ResultInvalidCredential))
		}
		tok := make([]byte, 32)
		rand.Read(tok)
		s.sec.mu.Lock()
		s.sec.tokens[string(tok)] = user
		s.sec.mu.Unlock()
		cs.authed, cs.user = true, user
		return cs.send(adminReply(0, adminField(adminFieldToken, tok),
			adminField(adminFieldTTL, binary.BigEndian.AppendUint32(nil, sessionTTLSeconds))))
	case adminAuthenticate:
		if tok, ok := fields[adminFieldToken]; ok {
			s.sec.mu.Lock()
			u, ok := s.sec.tokens[string(tok)]
			s.sec.mu.Unlock()
			if !ok || u != user {
				return cs.send(adminReply(ResultInvalidCredential))
			}
		} else if cred, ok := fields[adminFieldCred]; !ok || creds[user] == "" || string(cred) != creds[user] {
			return cs.send(adminReply(ResultInvalidCredential))
		}
		cs.authed, cs.user = true, user
		return cs.send(adminReply(0))
	}
	if !cs.authed {
		return cs.send(adminReply(ResultNotAuthenticated))
	}
	// User and role administration is not implemented.
	return cs.send(adminReply(ResultParameterError))
}
