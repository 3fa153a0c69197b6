// The body of an answer from the cache: bytes of one cached object version, sent whichever
// way they can go, as Envoy's LookupContext hands out a body by range whatever the storage
// behind it. ReadPath decides what to answer and builds the header (cached_response.h); this
// only moves the bytes, in one of three ways:
//   - from the RAM tier, read into it first when it does not hold them yet, for ranges it
//     keeps (ram_tier.h): one write, and a hit there touches no file system;
//   - straight from raw blocks of their range files that an earlier read verified, with
//     sendfile from the event loop, for large answers where that cannot wait on a disk: cache
//     I/O runs on the event loops, or a local file system's page cache holds the bytes;
//   - otherwise in decoded pieces of kCachePieceBytes, each read (on the I/O pool) while the
//     one before is written: bounded memory per answer, few hops to the pool.
// The range files are opened once per answer, in the same trip to the I/O pool as the first
// read, and stay readable to its end even when a fill replaces them meanwhile. Nothing is
// sent before the first bytes are in hand: a missing or corrupt file then costs a trip to
// the origin, not a broken answer.
//
// Thread-safety: one per answer, on the client connection's worker thread; the record and the
// buffers must outlive it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "http/client_writer.h"
#include "http/relay_buffers.h"
#include "pipeline/cache_context.h"
#include "s3/byte_range.h"

namespace s3hc::pipeline {

// Cached bytes are read and sent in pieces of this size (a block: whole raw blocks are read
// with one copy).
inline constexpr std::size_t kCachePieceBytes = 1024 * 1024;
// Answers at least this large are sent with sendfile where possible (smaller range files are
// read whole when opened, and sent from memory).
inline constexpr std::uint64_t kMinFileSendBytes = 64 * 1024;

class CachedBody {
 public:
  enum class Sent {
    kAll,
    kUnreadable,    // nothing sent: a file is missing or corrupt, or the cache cannot be read
    kCorrupt,       // cut short: a read failed after the answer started
    kClientFailed,  // cut short: the client failed or stalled (or a file ended early)
  };

  // `pieces`: the worker's recycled buffers of kCachePieceBytes. `use_ram_tier`: the
  // object's policy lets its bytes be held in the RAM tier (CachePolicy::ram_tier).
  CachedBody(CacheContext& cache, http::RelayBuffers& pieces, const v1::CacheRecord& record,
             bool use_ram_tier)
      : cache_(cache), pieces_(pieces), record_(record), use_ram_tier_(use_ram_tier) {}

  const v1::CacheRecord& record() const { return record_; }

  // A whole answer: `header`, then `bytes` of the object, whichever way they go best.
  boost::asio::awaitable<Sent> send(http::ClientWriter& client, std::string_view header,
                                    s3::ByteRange bytes);
  // A stretch of `bytes` inside an answer already started (a partial hit), always in decoded
  // pieces: only whole answers enter the RAM tier.
  boost::asio::awaitable<Sent> send_stretch(http::ClientWriter& client, s3::ByteRange bytes);

 private:
  boost::asio::awaitable<Sent> send_through_ram(http::ClientWriter& client,
                                                std::string_view header, s3::ByteRange bytes);
  boost::asio::awaitable<Sent> send_files(http::ClientWriter& client, std::string_view header,
                                          const std::vector<cache::ObjectStore::FilePiece>& files,
                                          std::uint64_t length);
  // Opens the files with the first piece's read when `files` holds none yet.
  boost::asio::awaitable<Sent> stream(http::ClientWriter& client, std::string_view header,
                                      std::optional<cache::ObjectStore::OpenRange>& files,
                                      s3::ByteRange bytes);
  boost::asio::awaitable<bool> read_piece(const cache::ObjectStore::OpenRange& files,
                                          s3::ByteRange piece, char* into);

  CacheContext& cache_;
  http::RelayBuffers& pieces_;
  const v1::CacheRecord& record_;
  const bool use_ram_tier_;
};

}  // namespace s3hc::pipeline
