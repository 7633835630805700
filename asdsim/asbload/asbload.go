// Package asbload seeds an asdsim test server from a backup file: records
// keep their exact digests, keys, generations, void times and particle bytes,
// and index definitions and UDF modules are created as the file declares them.
// Tests use it to put a legacy backup's data into the server; the asdsim
// command uses it for its -load flag.
package asbload

import (
	"fmt"
	"io"

	"asbtools/asb"
	"asbtools/asdsim"
)

// Counts says what Load stored.
type Counts struct {
	Records, Indexes, UDFs int
}

// batchSize is how many records Load hands to the server at once.
const batchSize = 512

// Load reads a plain (already decompressed and decrypted) backup stream and
// stores its content in srv under namespace ns (the namespace of the records
// in the file is ignored). name is used in error messages.
func Load(srv *asdsim.Server, ns string, r io.Reader, name string) (Counts, error) {
	var c Counts
	rd := asb.NewReader(r, asb.ReaderOptions{FileName: name})
	batch := make([]asdsim.Record, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := srv.PutMany(ns, batch); err != nil {
			return fmt.Errorf("%s: storing records: %w", name, err)
		}
		c.Records += len(batch)
		batch = batch[:0]
		return nil
	}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return c, flush()
		}
		if err != nil {
			return c, err
		}
		switch e.Kind {
		case asb.EntryRecord:
			batch = append(batch, Record(e.Record))
			if len(batch) == batchSize {
				if err := flush(); err != nil {
					return c, err
				}
			}
		case asb.EntryIndex:
			if err := srv.CreateSIndex(SIndex(ns, e.Index)); err != nil {
				return c, fmt.Errorf("%s:%d: creating index %s: %w", name, e.Line, e.Index.Name, err)
			}
			c.Indexes++
		case asb.EntryUDF:
			srv.PutUDF(e.UDF.Name, append([]byte(nil), e.UDF.Content...))
			c.UDFs++
		}
	}
}

// Record converts a backup record to the server's form, copying every byte
// it needs (rec may be reused by the reader afterwards). Nil bins are left
// out, as a server never stores them.
func Record(rec *asb.Record) asdsim.Record {
	out := asdsim.Record{
		Set:        string(rec.Set),
		Digest:     rec.Digest,
		Generation: rec.Generation,
		VoidTime:   rec.VoidTime,
		Bins:       make([]asdsim.Bin, 0, len(rec.Bins)),
	}
	switch rec.Key.Type {
	case asb.KeyInt:
		out.Key = asdsim.IntKey(rec.Key.Int)
	case asb.KeyString:
		out.Key = asdsim.StringKey(string(rec.Key.Bytes))
	case asb.KeyBytes:
		out.Key = asdsim.BytesKey(append([]byte(nil), rec.Key.Bytes...))
	}
	for i := range rec.Bins {
		b := &rec.Bins[i]
		if b.Type == asb.BinNil {
			continue
		}
		pt, data := b.AppendWire(nil)
		out.Bins = append(out.Bins, asdsim.Bin{Name: string(b.Name), Type: asdsim.ParticleType(pt), Data: data})
	}
	return out
}

// SIndex converts a backup index definition to the server's form in
// namespace ns.
func SIndex(ns string, ix *asb.Index) asdsim.SIndex {
	si := asdsim.SIndex{Namespace: ns, Name: ix.Name, Set: ix.Set, Context: ix.Context, Exp: ix.Expression,
		IndexType: "default", Type: "numeric"}
	if len(ix.Paths) > 0 {
		si.Bin = ix.Paths[0].Bin
		switch ix.Paths[0].Type {
		case asb.IndexString:
			si.Type = "string"
		case asb.IndexBlob:
			si.Type = "blob"
		case asb.IndexGeo:
			si.Type = "geo2dsphere"
		}
	}
	switch ix.Type {
	case asb.IndexList:
		si.IndexType = "list"
	case asb.IndexMapKeys:
		si.IndexType = "mapkeys"
	case asb.IndexMapValues:
		si.IndexType = "mapvalues"
	}
	return si
}
