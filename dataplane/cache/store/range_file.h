// Range files: the immutable on-disk form of a run of cached object bytes.
//
// Layout (little-endian):
//   header  "S3HCRNG1" | u32 block_size | u32 0 | u64 first (object offset) | u64 length
//   blocks  block_codec.h blocks, each holding block_size decoded bytes (the last may hold less)
//   footer  u64 block_offset[n] | u32 n | u32 0 | u64 XXH3(header, offsets, n, 0) | "S3HCEND1"
//
// A writer fills a temp file next to the final name and renames it into place only once it
// is complete and synced, so readers see a whole file or none (rename is atomic on NFS too).
// A reader decodes only the blocks a request overlaps; anything inconsistent (bad magic,
// checksum, truncated file, corrupt block) reads as "not cached", never as bytes.
//
// Thread-safety: a writer or reader object is used by one thread at a time; any number of
// readers may read one file concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store/verified_blocks.h"
#include "s3/byte_range.h"
#include "util/unique_fd.h"

namespace s3hc::cache {

// A new file name for a range starting at object byte `first`, unique among the writers of
// every proxy (random), with the ".rng" suffix the sweeper and accounting know.
std::string new_range_file_name(std::uint64_t first);

// The complete blocks of a range file still being written: what readers may already read of
// it (RangeFileReader::open_unfinished) while the writer goes on. Bytes of the block being
// filled are not in the file yet. The file is held open, so readers read on whatever becomes
// of its name (renamed at commit, removed when superseded).
struct UnfinishedRangeFile {
  std::shared_ptr<const util::UniqueFd> file;  // null until the first description
  std::uint64_t first = 0;   // object offset of the range
  std::uint64_t length = 0;  // bytes in the complete blocks
  std::uint32_t block_size = 0;
  std::vector<std::uint64_t> block_offsets;  // in the file, of the complete blocks
  std::uint64_t blocks_end = 0;              // file offset after the last complete block
};

class RangeFileWriter {
 public:
  // Creates the temp file for `final_path` (its directory must exist). Throws
  // std::system_error when the file cannot be created.
  RangeFileWriter(std::string final_path, std::uint64_t first, std::uint32_t block_size,
                  bool try_compress);
  RangeFileWriter(const RangeFileWriter&) = delete;
  RangeFileWriter& operator=(const RangeFileWriter&) = delete;
  // Removes the temp file unless commit() succeeded.
  ~RangeFileWriter();

  // Appends the next bytes of the range; full blocks are encoded and written at once.
  void append(std::string_view bytes);
  // Writes the last block and the footer, syncs, and renames the file into place.
  void commit();
  std::uint64_t length() const { return length_; }
  const std::string& final_path() const { return final_path_; }
  // Brings `file` up to date with the blocks written so far (only new blocks are copied).
  // Called between appends, or after commit().
  void describe_written(UnfinishedRangeFile& file) const;

 private:
  void write_all(std::string_view bytes);
  void flush_block();

  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  std::uint64_t first_;
  std::uint32_t block_size_;
  bool try_compress_;
  std::uint64_t length_ = 0;
  std::uint64_t file_offset_ = 0;
  std::uint64_t blocks_end_ = 0;  // file offset after the last block written
  std::string pending_;  // bytes of the block being filled
  std::string encoded_;  // scratch for the encoded block
  std::vector<std::uint64_t> block_offsets_;
  bool committed_ = false;
};

class RangeFileReader {
 public:
  // Opens and validates a range file; nullopt when it is missing or not a whole, valid file.
  static std::optional<RangeFileReader> open(const std::string& path);
  // Opens the complete blocks of a file still being written; nullopt when there are none yet
  // or the file is not there (any more: renamed at commit, or removed). Blocks are checked as
  // on any read; the reader keeps the file open, so it reads on whatever the writer does.
  static std::optional<RangeFileReader> open_unfinished(const UnfinishedRangeFile& file);
  RangeFileReader(RangeFileReader&& other) noexcept;
  RangeFileReader& operator=(RangeFileReader&&) = delete;
  ~RangeFileReader();

  // The object bytes this file holds.
  s3::ByteRange range() const { return {first_, first_ + length_ - 1}; }

  // The bytes of `wanted` (which must lie within range()), decoding only the blocks it
  // overlaps; nullopt when a block is corrupt or unreadable.
  std::optional<std::string> read(const s3::ByteRange& wanted) const;
  // The same, into `out` (wanted.length() bytes); false when a block is corrupt or unreadable
  // (`out` then holds garbage). Whole blocks stored raw are read straight into `out`: one copy.
  // Raw blocks whose checksum matched are added to `verified`, when given.
  bool read_into(const s3::ByteRange& wanted, char* out, VerifiedBlocks* verified = nullptr) const;

  // Where the bytes of `wanted` lie in the file, when every block they overlap is stored raw
  // and was verified by an earlier read (read_into with `verified`), so they can be sent
  // straight from the file. nullopt otherwise (a compressed or not yet verified block, or a
  // small file read whole at open): read them instead. Verifying on reads, not here, keeps a
  // first answer from waiting for every block of a large object to be checked.
  struct FileSpan {
    std::uint64_t offset;
    std::uint64_t length;
  };
  std::optional<std::vector<FileSpan>> raw_spans(const s3::ByteRange& wanted,
                                                 const VerifiedBlocks& verified) const;
  int fd() const { return fd_; }

 private:
  // Where one block's share of a read lies: the block's extent in the file and the part of
  // its decoded bytes the read wants. nullopt when the index gives an impossible extent.
  struct BlockSlice {
    std::uint64_t offset;        // of the block header in the file
    std::size_t payload_size;    // stored bytes after the header
    std::uint64_t decoded_size;  // bytes the block holds
    std::uint64_t from, to;      // wanted part of the decoded bytes, inclusive
  };
  std::optional<BlockSlice> slice(std::uint64_t block, const s3::ByteRange& wanted) const;
  void check_within(const s3::ByteRange& wanted) const;

  RangeFileReader(int fd, std::string whole, std::uint64_t first, std::uint64_t length,
                  std::uint32_t block_size, std::vector<std::uint64_t> block_offsets,
                  std::uint64_t blocks_end);
  // Reads `first` then `second` from file offset `offset` on.
  bool read_at(std::uint64_t offset, std::span<char> first, std::span<char> second) const;

  // The file's identity for VerifiedBlocks, read once (fstat) when first needed.
  const std::optional<FileIdentity>& identity() const;

  int fd_;             // -1 when the file was small enough to read whole
  std::string path_;  // kept open: its name, for identity()
  mutable std::optional<std::optional<FileIdentity>> identity_;
  std::string whole_;  // the whole file, when small
  std::uint64_t first_;
  std::uint64_t length_;
  std::uint32_t block_size_;
  std::vector<std::uint64_t> block_offsets_;
  std::uint64_t blocks_end_;  // file offset where the footer starts
};

}  // namespace s3hc::cache
