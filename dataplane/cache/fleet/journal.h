// Per-proxy append-only journals in a directory shared between hosts over NFS, where only
// atomic rename, O_CREAT|O_EXCL and close-to-open consistency can be relied on (no locks).
// Each proxy appends batches of opaque records to its own segment files
//   <dir>/<writer_id>.<seq, at least 10 zero-padded digits>.jnl
// and one consolidator reads every writer's segments from cursors it remembers, and deletes
// a segment once it has consumed it and the segment is closed (journal_segment_closed).
//
// Each record is framed as, little-endian:
//   magic u32 | payload length u32 (at most kMaxJournalRecordBytes) |
//   XXH3-64 of the 4 length bytes followed by the payload, u64 | payload
// A writer killed mid-append leaves a prefix of a frame at the end of its segment (a torn
// tail): the reader stops before it and never returns it. A writer never appends after a torn
// tail of its own: it is the only writer of its segments, and after any failed write or close
// it moves on to a new segment. A new process uses a new writer_id, so it never appends to a
// dead process's segments either.
//
// JournalWriter: one thread at a time, and one object per writer_id. Free functions: any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace s3hc::cache {

inline constexpr std::uint32_t kJournalMagic = 0x316A3373;  // "s3j1" on disk
inline constexpr std::size_t kJournalFrameHeaderBytes = 16;
// Longer records are refused by the writer and taken for corruption by the reader.
inline constexpr std::uint32_t kMaxJournalRecordBytes = 1 << 20;

struct JournalSegment {
  std::string writer_id;
  std::uint64_t seq = 0;
  std::string path;
};

class JournalWriter {
 public:
  // writer_id: [A-Za-z0-9_-]+ (else std::invalid_argument), unique per process start. Starts
  // at seq 1, or after the highest seq of this writer_id already in `dir`.
  // max_segment_bytes: once a segment has reached it, the next append starts a new segment.
  JournalWriter(std::string dir, std::string writer_id,
                std::uint64_t max_segment_bytes = 4 << 20);

  // Appends the records, framed, with one write() (continued only after a short one: disk
  // full, a signal) on a descriptor opened with O_APPEND for this batch only: closing it makes the batch visible to other hosts (close-to-open), and
  // the writer never holds a descriptor on a file the consolidator may delete. Creates the
  // directory when missing. A segment that vanished (deleted by the consolidator, or the whole
  // directory) is not recreated: the batch goes to a new segment under a higher seq; a seq is
  // never used twice. An empty batch writes nothing. False when a record is longer than
  // kMaxJournalRecordBytes (nothing written) or on an I/O error (the batch may be lost, and
  // the next append starts a new segment).
  bool append(const std::vector<std::string>& records);

  // The next append starts a new segment, closing the current one. Call it on a timer with a
  // period well below the consolidator's idle age, so that an idle proxy's segment is closed
  // and so that a live writer never appends to a segment the consolidator may take for idle.
  void rotate();

 private:
  std::string segment_path() const;
  int open_segment();
  int create_segment();
  void start_next_segment();

  std::string dir_;
  std::string writer_id_;
  std::uint64_t max_segment_bytes_;
  std::uint64_t seq_;
  // Whether this writer created the file of seq_ (else the next append creates it).
  bool segment_created_ = false;
  std::uint64_t segment_bytes_ = 0;
};

// Every segment in `dir`, sorted by (writer_id, seq); empty when `dir` is missing. Other files
// (temp files, anything not named like a segment) are ignored.
std::vector<JournalSegment> list_journal_segments(const std::string& dir);

struct JournalRead {
  std::vector<std::string> records;
  // Just after the last record returned: where the next read starts.
  std::uint64_t next_offset = 0;
  // The bytes at next_offset are all there but are not a valid record. On a segment still open
  // that can be transient (over NFS another host may see a later part of a write before an
  // earlier one); once the segment is closed it is final, and so is a torn tail.
  bool corrupt = false;
};

// The complete, checksum-valid records from `offset` on, up to max_bytes of framed data; the
// first record is returned even when it alone is longer. Stops before a torn or corrupt record
// without consuming it. A missing or unreadable segment reads as no records.
JournalRead read_journal_segment(const std::string& path, std::uint64_t offset,
                                 std::uint64_t max_bytes = 16 << 20);

// Whether `segment` will never grow again: its writer has a segment with a higher seq in `all`
// (list_journal_segments), or its mtime is more than idle_age before now_ms (Unix ms; the
// writer is taken for dead), or it is gone. idle_age must exceed the writers' rotate() period
// plus the clock skew between hosts and the file server. A closed segment read to its end
// (torn tail and corrupt included) can be deleted.
bool journal_segment_closed(const JournalSegment& segment, const std::vector<JournalSegment>& all,
                            std::int64_t now_ms, std::chrono::milliseconds idle_age);

}  // namespace s3hc::cache
