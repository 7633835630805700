// Package state reads and writes the legacy backup `.state` file used by
// `asbackup --continue`, byte for byte in the legacy layout, and provides the
// pure rules around it: where the state file goes and how a loaded state
// narrows the partition filters of a resumed run.
package state

import (
	"encoding/binary"
	"fmt"

	"asbtools/msg"
)

// NumPartitions is the number of partitions of a namespace.
const NumPartitions = 4096

// Layout constants of the legacy file.
const (
	partsPerWord  = 21
	statusWords   = 196
	statusSize    = statusWords * 8                     // 1568
	digestsSize   = NumPartitions * 20                  // 81920
	partitionSize = statusSize + digestsSize            // 83488
	headerSize    = partitionSize + 8 + 4 + 4 + 8*4 + 8 // 83544, up to the first file entry
	ioHeaderSize  = 40
)

// Status is the backup status of one partition.
type Status uint8

// Partition statuses.
const (
	// None: the partition is not part of the backup.
	None Status = 0
	// Complete: fully scanned; Digest is the last digest written.
	Complete Status = 1
	// Incomplete: partially scanned; Digest is the last digest written.
	Incomplete Status = 2
	// NotStarted: part of the backup, nothing written yet.
	NotStarted Status = 3
	// CompleteEmpty: scanned, no records.
	CompleteEmpty Status = 4
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case None:
		return "NONE"
	case Complete:
		return "COMPLETE"
	case Incomplete:
		return "INCOMPLETE"
	case NotStarted:
		return "NOT_STARTED"
	case CompleteEmpty:
		return "COMPLETE_EMPTY"
	}
	return fmt.Sprintf("Status(0x%02x)", uint8(s))
}

// HasDigest reports whether the status carries a digest (Complete, Incomplete).
func (s Status) HasDigest() bool { return s == Complete || s == Incomplete }

// PartitionState is the saved progress of one partition.
type PartitionState struct {
	Status Status
	// Digest is the last digest written (Complete/Incomplete), else zero.
	Digest [20]byte
}

// Buffer is a legacy io-proxy consumer buffer: Data holds the `pos` stored
// bytes, of which Data[DataPos:] is not yet consumed.
type Buffer struct {
	// Size is the buffer capacity recorded by the writer.
	Size uint64
	// DataPos is the offset of the first unconsumed byte.
	DataPos uint64
	// Data is the stored data (length = legacy `pos`).
	Data []byte
}

// Pending returns the unconsumed bytes, Data[DataPos:].
func (b *Buffer) Pending() []byte {
	if b == nil || b.DataPos >= uint64(len(b.Data)) {
		return nil
	}
	return b.Data[b.DataPos:]
}

// S3Part is a completed multipart-upload part.
type S3Part struct {
	PartNumber uint32
	ETag       string
}

// S3FailedPart is a part whose upload failed and must be retried.
type S3FailedPart struct {
	PartNumber uint32
	Data       []byte
}

// S3Upload is the upload state of a backup file being written to S3.
type S3Upload struct {
	// PartNumber is the number of the next part to upload (legacy
	// UploadManager.part_number): the parts before it are in Parts or
	// Failed.
	PartNumber  uint32
	UploadID    string
	MinPartSize uint64
	Pending     []byte
	Parts       []S3Part
	Failed      []S3FailedPart
}

// File-proxy flag bits.
const (
	// FileS3 marks a file on S3.
	FileS3 uint8 = 0x01
)

// FileEntry is one backup file that was still open at interruption.
type FileEntry struct {
	// ByteCount is the number of bytes written to the file (after
	// compression/encryption, incl. the 16-byte header).
	ByteCount uint64
	// RawByteCount is the number of bytes accepted before compression
	// (incl. 16 for the header when encrypting).
	RawByteCount uint64
	// Num is the position inside the current AES block (0–15).
	Num uint32
	// Flags are the io-proxy flags as saved (0x01 AES-128, 0x02 AES-256,
	// 0x04 zstd, 0x20 error). Use Mode for the stream mode.
	Flags uint8
	// IV is the next CTR counter block − 1 (zero when not encrypting).
	IV [16]byte
	// Main holds plain text not yet given to the compressor/encryptor.
	Main Buffer
	// Compressed holds zstd output not yet encrypted/written (zstd only).
	Compressed *Buffer
	// Encrypted holds ciphertext not yet written (encryption only).
	Encrypted *Buffer
	// FilePos is the number of bytes written to the file (0 for stdout).
	FilePos uint64
	// FileFlags are the file-proxy flags (FileS3).
	FileFlags uint8
	// Path is the file path exactly as used when the file was created.
	Path string
	// S3 is the upload state of an S3 file (FileFlags&FileS3 != 0).
	S3 *S3Upload
	// RecCount is the number of records in this file so far.
	RecCount uint64
}

// Mode returns the stream-mode bits of Flags (0x01, 0x02, 0x04).
func (e *FileEntry) Mode() uint8 { return e.Flags & 0x07 }

// IsS3 reports whether the entry describes an S3 object.
func (e *FileEntry) IsS3() bool { return e.FileFlags&FileS3 != 0 }

// State is the content of a legacy .state file.
type State struct {
	Partitions [NumPartitions]PartitionState
	// FileCount is the number of directory-mode files created so far.
	FileCount uint64
	// IndexCount and UDFCount come from the one-shot work.
	IndexCount, UDFCount uint32
	// RecTotal and ByteTotal are the records and file bytes so far.
	RecTotal, ByteTotal uint64
	// RecCommitted and ByteCommitted are the totals of files already closed.
	RecCommitted, ByteCommitted uint64
	// Files are the backup files still open at interruption.
	Files []FileEntry
}

// DigestPartition returns the partition a digest belongs to.
func DigestPartition(d [20]byte) int {
	return int(binary.LittleEndian.Uint16(d[:2]) & (NumPartitions - 1))
}

// StatusWords returns the 196 partition status words as legacy stores them
// (21 partitions per word, 3 bits each, bit 63 unused).
func (s *State) StatusWords() [statusWords]uint64 {
	var w [statusWords]uint64
	for p := range s.Partitions {
		w[p/partsPerWord] |= uint64(s.Partitions[p].Status&7) << (3 * (p % partsPerWord))
	}
	return w
}

// loadErr is a failure to load a state file: a *msg.Error whose ERR lines
// are those legacy logs for it, in order (the caller adds the final
// `Failed to load backup state file <path>` line), caused by err (the
// underlying I/O error, if any).
func loadErr(err error, msgs ...string) *msg.Error {
	e := &msg.Error{Lines: make([]msg.Line, 0, len(msgs))}
	if err != nil {
		e.Err = err
	}
	for _, m := range msgs {
		e.Lines = append(e.Lines, msg.Err("%s", m))
	}
	return e
}

// Validate applies the legacy load-time checks to the partition table:
// statuses 0–4 only, zero digests for None/NotStarted/CompleteEmpty, and
// digests of Complete/Incomplete partitions belonging to their partition.
func (s *State) Validate() error {
	var zero [20]byte
	for p := range s.Partitions {
		ps := &s.Partitions[p]
		switch ps.Status {
		case None, NotStarted, CompleteEmpty:
			if ps.Digest != zero {
				return loadErr(nil, fmt.Sprintf("Expected zero-valued digest at partition id %d (%d)", p, ps.Status))
			}
		case Complete, Incomplete:
			if dp := DigestPartition(ps.Digest); dp != p {
				return loadErr(nil, fmt.Sprintf("Digest for partition id %d belongs to partition %d", p, dp))
			}
		default:
			return loadErr(nil, fmt.Sprintf("Unexpected backup state status 0x%02x", uint8(ps.Status)))
		}
	}
	return nil
}

// IsComplete reports whether every partition is None, Complete or
// CompleteEmpty.
func (s *State) IsComplete() bool {
	for p := range s.Partitions {
		if st := s.Partitions[p].Status; st != None && st != Complete && st != CompleteEmpty {
			return false
		}
	}
	return true
}
