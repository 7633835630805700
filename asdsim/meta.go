package asdsim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// SIndex is a secondary-index definition as the server keeps it.
type SIndex struct {
	Namespace string
	Name      string
	// Set is empty for an index on the whole namespace.
	Set string
	// Bin is empty for an expression index.
	Bin string
	// Type is numeric, string, blob or geo2dsphere.
	Type string
	// IndexType is default, list, mapkeys or mapvalues.
	IndexType string
	// Context is the base64 CDT context as given at creation, "" for none.
	Context string
	// Exp is the base64 expression as given at creation, "" for none.
	Exp string
}

func (si *SIndex) sameDefinition(o *SIndex) bool {
	return si.Namespace == o.Namespace && si.Set == o.Set && si.Bin == o.Bin &&
		si.Type == o.Type && si.IndexType == o.IndexType && si.Context == o.Context && si.Exp == o.Exp
}

// UDF is a registered UDF module.
type UDF struct {
	Name    string
	Type    string // "LUA"
	Content []byte
}

// Hash returns the 40-hex-digit hash reported by udf-list.
func (u *UDF) Hash() string {
	h := sha1.Sum(u.Content)
	return hex.EncodeToString(h[:])
}

// metadata holds cluster-wide system metadata: secondary indexes and UDFs.
type metadata struct {
	mu       sync.Mutex
	sindexes []*SIndex
	udfs     []*UDF
}

func (m *metadata) init() {}

func (m *metadata) findSIndex(ns, name string) (int, *SIndex) {
	for i, si := range m.sindexes {
		if si.Namespace == ns && si.Name == name {
			return i, si
		}
	}
	return -1, nil
}

// CreateSIndex adds a secondary-index definition (as if created by
// sindex-create). It fails if the namespace is unknown or an index of that
// name exists with a different definition.
func (s *Server) CreateSIndex(si SIndex) error {
	if s.nsByKey[si.Namespace] == nil {
		return fmt.Errorf("asdsim: unknown namespace %q", si.Namespace)
	}
	if si.Name == "" {
		return fmt.Errorf("asdsim: sindex without a name")
	}
	if si.IndexType == "" {
		si.IndexType = "default"
	}
	si.Type = strings.ToLower(si.Type)
	si.IndexType = strings.ToLower(si.IndexType)
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	if _, old := s.meta.findSIndex(si.Namespace, si.Name); old != nil {
		if !old.sameDefinition(&si) {
			return fmt.Errorf("asdsim: sindex %q already exists with a different definition", si.Name)
		}
		return nil
	}
	s.meta.sindexes = append(s.meta.sindexes, &si)
	return nil
}

// DropSIndex removes a secondary index; it reports whether it existed.
func (s *Server) DropSIndex(ns, name string) bool {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	i, si := s.meta.findSIndex(ns, name)
	if si == nil {
		return false
	}
	s.meta.sindexes = append(s.meta.sindexes[:i], s.meta.sindexes[i+1:]...)
	return true
}

// SIndexes returns every secondary-index definition in creation order.
func (s *Server) SIndexes() []SIndex {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	out := make([]SIndex, len(s.meta.sindexes))
	for i, si := range s.meta.sindexes {
		out[i] = *si
	}
	return out
}

// PutUDF registers (or replaces) a Lua UDF module.
func (s *Server) PutUDF(name string, content []byte) {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	u := &UDF{Name: name, Type: "LUA", Content: append([]byte(nil), content...)}
	for i, old := range s.meta.udfs {
		if old.Name == name {
			s.meta.udfs[i] = u
			return
		}
	}
	s.meta.udfs = append(s.meta.udfs, u)
}

// RemoveUDF removes a UDF module; it reports whether it existed.
func (s *Server) RemoveUDF(name string) bool {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	for i, u := range s.meta.udfs {
		if u.Name == name {
			s.meta.udfs = append(s.meta.udfs[:i], s.meta.udfs[i+1:]...)
			return true
		}
	}
	return false
}

// UDFs returns every registered UDF module in registration order.
func (s *Server) UDFs() []UDF {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	out := make([]UDF, len(s.meta.udfs))
	for i, u := range s.meta.udfs {
		out[i] = UDF{Name: u.Name, Type: u.Type, Content: append([]byte(nil), u.Content...)}
	}
	return out
}

func (s *Server) udf(name string) *UDF {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	for _, u := range s.meta.udfs {
		if u.Name == name {
			return u
		}
	}
	return nil
}
