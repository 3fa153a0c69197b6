// The read cache in the request path: a cacheable GetObject or HeadObject (s3/read_request.h)
// is answered from the cache directory when it holds the bytes and the origin confirmed them
// within the TTL; otherwise the origin is asked (the client's own request, with conditional
// headers or a narrower Range added only where its signature does not cover them) and what it
// sends is relayed and cached on the way. docs/CACHING.md states the rules for users.
//
// Thread-safety: one ReadPath per request, on the client connection's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/relay_buffers.h"
#include "http/request_handler.h"
#include "cache/fill_lease.h"
#include "pipeline/cache_context.h"
#include "pipeline/cache_fill.h"
#include "pipeline/cached_response.h"
#include "pipeline/fill_progress.h"
#include "pipeline/origin_response.h"
#include "pipeline/origin_context.h"
#include "pipeline/origin_exchange.h"
#include "s3/signed_headers.h"

namespace s3hc::pipeline {

// Cached bytes are read and sent in pieces of this size (a block: whole raw blocks are read
// with one copy): bounded memory per transfer, few hops to the I/O pool.
inline constexpr std::size_t kCachePieceBytes = 1024 * 1024;
// Answers at least this large are sent with sendfile where possible (smaller range files are
// read whole when opened, and sent from memory).
inline constexpr std::uint64_t kMinFileSendBytes = 64 * 1024;

class ReadPath {
 public:
  // `pieces`: the worker's recycled buffers of kCachePieceBytes.
  ReadPath(http::ClientConnection& client, http::RequestParser& request, OriginContext& origin,
           CacheContext& cache, http::RelayBuffers& pieces, s3::ReadRequest read);

  // Answers the request; returns whether the client connection may carry the next one.
  boost::asio::awaitable<bool> run();

 private:
  // How an answer from the cache is shaped: its status and headers, and the object bytes it
  // carries (none for HEAD, 304 and empty objects).
  struct Plan {
    CachedAnswer answer;
    std::optional<s3::ByteRange> bytes;
  };

  bool is_head() const { return read_.kind == s3::ReadRequest::Kind::kHeadObject; }
  // The answer the record can give; nullopt when only the origin can (an unknown part, a range
  // the object cannot satisfy).
  // `honour_range` false: the whole object (If-Range did not match).
  std::optional<Plan> plan(const v1::CacheRecord& record, bool honour_range = true) const;
  bool covers(const v1::CacheRecord& record, const Plan& plan) const;

  // The answer from the cache, when the record can give one (a hit, a revalidation, a partial
  // hit); nullopt when the origin must answer.
  boost::asio::awaitable<std::optional<bool>> answer_from_cache();
  // Coalescing: waits while another request fills the same bytes (cache/fill_lease.h). True
  // when such a fill ended meanwhile (look in the cache again); false when this request is to
  // fetch, holding the fill lease when it could take it.
  boost::asio::awaitable<bool> waited_for_other_fill();
  // What a fill for this request holds: only identical requests coalesce.
  std::string fill_name() const;
  // Joining a fill of this process (fill_progress.h): the header joiners send, and whether
  // this request may join.
  std::string joiner_header(const ResponseHeader& response) const;
  bool may_join_fill() const;
  // Starts the fill of `exchange`'s body as its own producer (fill_producer.h) and answers
  // as one of its readers; `joinable`: other requests of this proxy may join it.
  boost::asio::awaitable<bool> fill_on_its_own(OriginExchange& exchange,
                                               std::unique_ptr<CacheFill> fill, bool joinable);
  // Sends `header` then the fill's body at this client's pace (from memory, or from the
  // cache file when behind), counting the bytes in `served` when given (a joiner's answer
  // comes from the cache). nullopt, with nothing sent, when the fill ended (or cannot be read)
  // before its first byte: answer otherwise. Else whether the connection goes on.
  boost::asio::awaitable<std::optional<bool>> read_fill(const FillProgress::Reader& fill,
                                                        std::string_view header,
                                                        obs::Counter* served);
  // Bytes the fill's window no longer holds, from its cache file (opened, or opened again
  // for blocks written since, in `file`): up to into.size() of them from object offset
  // `first`, as far as the file's complete blocks go. The bytes read; 0 when none can be.
  boost::asio::awaitable<std::size_t> read_behind(const FillProgress& fill,
                                                  std::optional<cache::RangeFileReader>& file,
                                                  std::uint64_t first, std::span<char> into);
  boost::asio::awaitable<bool> forward_and_fill();
  boost::asio::awaitable<bool> relay_and_fill(OriginExchange& exchange);
  boost::asio::awaitable<bool> revalidate(const v1::CacheRecord& record, Plan plan);
  boost::asio::awaitable<bool> serve(const v1::CacheRecord& record, const Plan& plan);
  // A fresh hit for a request with preconditions: answered as S3 would from the cached
  // version's ETag and Last-Modified (304, 412, or the bytes).
  boost::asio::awaitable<bool> serve_conditionally(const v1::CacheRecord& record, Plan plan);
  boost::asio::awaitable<bool> serve_partial(const v1::CacheRecord& record, Plan plan);
  enum class Streamed { kAll, kFirstPieceMissing, kBroken };
  // Sends `header` (may be empty) and `bytes` from the cache, each piece read while the one
  // before is written. Nothing is sent when the first piece cannot be read.
  boost::asio::awaitable<Streamed> stream_cached(const v1::CacheRecord& record,
                                                 s3::ByteRange bytes, std::string_view header);
  // Sends `header` and `bytes` straight from verified raw blocks of their files (sendfile);
  // nullopt, with nothing sent, when they cannot be sent that way. Else whether all went out.
  boost::asio::awaitable<std::optional<bool>> send_from_files(const v1::CacheRecord& record,
                                                              s3::ByteRange bytes,
                                                              std::string_view header);
  // Sends `header` and `bytes` (short enough for the RAM tier) from memory, reading them into
  // it first when they are not there; nullopt, with nothing sent, when they cannot be read.
  // Else whether all went out.
  boost::asio::awaitable<std::optional<bool>> send_through_ram(const v1::CacheRecord& record,
                                                               s3::ByteRange bytes,
                                                               std::string_view header);
  // A stretch of cached bytes inside a response already started; true when all went out.
  boost::asio::awaitable<bool> stream_cached_part(const v1::CacheRecord& record,
                                                  s3::ByteRange bytes);
  boost::asio::awaitable<bool> stream_origin(OriginExchange& exchange);
  // Whether the origin answered with exactly `bytes` of the cached version.
  bool matches_cached_version(OriginExchange& exchange, const v1::CacheRecord& record,
                              s3::ByteRange bytes);
  // Turns the request into one for `bytes`, pinned to the cached version (If-Match) so bytes
  // of another version can never be mixed into the answer.
  void ask_for_bytes(const v1::CacheRecord& record, s3::ByteRange bytes);

  // The object's record (`shared`: as the shared directory has it, bypassing the mirror).
  boost::asio::awaitable<std::optional<v1::CacheRecord>> find_record(bool shared);
  boost::asio::awaitable<bool> read_piece(const cache::ObjectStore::OpenRange& files,
                                          s3::ByteRange bytes, char* into);
  // Runs a cache read (on the I/O pool); a read that throws (a failing disk or NFS server)
  // is logged and reads as a miss.
  bool read_guarded(const std::function<bool()>& read) const;
  boost::asio::awaitable<bool> write_client(std::string_view header, std::string_view body);
  boost::asio::awaitable<void> invalidate();
  // A cached read of `record`'s bytes failed its checksum or found a file gone: counted, and
  // the object dropped, unless the shared record moved on since `record` was read.
  boost::asio::awaitable<void> drop_if_corrupt(const v1::CacheRecord& record);
  void add_request_header(std::string_view name, std::string value);
  // Undoes add_request_header, so the client's request goes to the origin as it came.
  void restore_request();

  http::ClientConnection& client_;
  http::RequestParser& request_;
  OriginContext& origin_;
  CacheContext& cache_;
  http::RelayBuffers& pieces_;
  const s3::ReadRequest read_;
  const s3::SignedHeaders signed_;
  // When the latest origin request was sent: the time its answer's information is true at.
  std::int64_t fetched_at_ms_;
  const bool client_keep_alive_;
  bool range_replaced_ = false;
  std::optional<std::string> original_range_;  // the client's Range, when it sent one
  std::vector<std::string> added_headers_;
  std::unique_ptr<cache::FillLease> fill_lease_;  // while this request fills for others too
  std::shared_ptr<FillProgress> joined_;          // a fill of this process it joins
};

}  // namespace s3hc::pipeline
