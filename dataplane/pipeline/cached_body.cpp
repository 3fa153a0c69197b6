#include "pipeline/cached_body.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <algorithm>
#include <iterator>
#include <utility>

#include "cache/store/page_cache.h"
#include "pipeline/cache_read.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// Whether the page cache holds every piece: one check per file, over the stretch its pieces
// span (they come in file order, a file's pieces one after another).
bool all_in_page_cache(const std::vector<cache::ObjectStore::FilePiece>& pieces) {
  for (auto run = pieces.begin(); run != pieces.end();) {
    const auto end = std::find_if(run, pieces.end(),
                                  [&](const auto& piece) { return piece.file != run->file; });
    const auto& last = *std::prev(end);
    if (!cache::in_page_cache(run->file, run->offset, last.offset + last.length - run->offset)) {
      return false;
    }
    run = end;
  }
  return true;
}

}  // namespace

asio::awaitable<CachedBody::Sent> CachedBody::send(http::ClientWriter& client,
                                                   std::string_view header,
                                                   s3::ByteRange bytes) {
  if (use_ram_tier_ && cache_.store.keeps_in_ram(bytes.length())) {
    co_return co_await send_through_ram(client, header, bytes);
  }
  std::optional<cache::ObjectStore::OpenRange> files;
  // sendfile only where it cannot block an event loop on a disk: cache I/O runs on the loops
  // anyway, or the page cache of a local file system holds the bytes (checked on the pool,
  // with the opening). And only for answers large enough that their files are kept open
  // rather than read whole.
  if ((!cache_.io || cache_.sendfile_from_page_cache) && bytes.length() >= kMinFileSendBytes) {
    std::optional<std::vector<cache::ObjectStore::FilePiece>> in_files;
    const bool opened = co_await read_cache(cache_, record_.bucket(), record_.key(), [&] {
      files = cache_.store.open_range(record_, bytes);
      if (files) in_files = cache_.store.file_pieces(*files);
      if (in_files && cache_.io && !all_in_page_cache(*in_files)) in_files.reset();
      return files.has_value();
    });
    if (!opened) co_return Sent::kUnreadable;
    if (in_files) co_return co_await send_files(client, header, *in_files, bytes.length());
  }
  co_return co_await stream(client, header, files, bytes);
}

asio::awaitable<CachedBody::Sent> CachedBody::send_stretch(http::ClientWriter& client,
                                                           s3::ByteRange bytes) {
  std::optional<cache::ObjectStore::OpenRange> files;
  co_return co_await stream(client, {}, files, bytes);
}

asio::awaitable<CachedBody::Sent> CachedBody::send_through_ram(http::ClientWriter& client,
                                                               std::string_view header,
                                                               s3::ByteRange bytes) {
  // A hit in memory is answered on the event loop, with no trip to the I/O pool.
  auto held = cache_.store.ram_bytes(record_, bytes);
  if (held) {
    cache_.metrics.ram_hits.inc();
  } else {
    co_await read_cache(cache_, record_.bucket(), record_.key(), [&] {
      held = cache_.store.read_into_ram(record_, bytes);
      return held.has_value();
    });
    if (!held) co_return Sent::kUnreadable;
  }
  cache_.metrics.served_bytes.inc(bytes.length());
  co_return co_await client.write(header, held->view()) ? Sent::kAll : Sent::kClientFailed;
}

asio::awaitable<CachedBody::Sent> CachedBody::send_files(
    http::ClientWriter& client, std::string_view header,
    const std::vector<cache::ObjectStore::FilePiece>& files, std::uint64_t length) {
  bool sent = co_await client.write_more(header);
  for (const auto& piece : files) {
    if (!sent) break;
    sent = co_await client.send_file(piece.file, piece.offset, piece.length);
  }
  if (!sent) co_return Sent::kClientFailed;
  cache_.metrics.served_bytes.inc(length);
  cache_.metrics.sendfile_bytes.inc(length);
  co_return Sent::kAll;
}

asio::awaitable<CachedBody::Sent> CachedBody::stream(
    http::ClientWriter& client, std::string_view header,
    std::optional<cache::ObjectStore::OpenRange>& files, s3::ByteRange bytes) {
  auto current = pieces_.take();
  http::RelayBuffers::Lease following_buffer;
  const auto piece_size = current.span().size();
  const auto piece_from = [&](std::uint64_t first) {
    return s3::ByteRange{first, std::min(bytes.last, first + piece_size - 1)};
  };
  auto piece = piece_from(bytes.first);
  const bool first_read = co_await read_cache(cache_, record_.bucket(), record_.key(), [&] {
    if (!files) files = cache_.store.open_range(record_, bytes);
    return files && cache_.store.read_into(*files, piece, current.span().data());
  });
  if (!first_read) co_return Sent::kUnreadable;
  cache_.metrics.served_bytes.inc(piece.length());
  for (;;) {
    const std::string_view body(current.span().data(), piece.length());
    if (piece.last == bytes.last) {
      co_return co_await client.write(header, body) ? Sent::kAll : Sent::kClientFailed;
    }
    // The next piece is read on the I/O pool while this one is written.
    if (!following_buffer) following_buffer = pieces_.take();
    const auto following = piece_from(piece.last + 1);
    const auto [written, read] =
        co_await (client.write(header, body) &&
                  read_piece(*files, following, following_buffer.span().data()));
    if (!written) co_return Sent::kClientFailed;
    if (!read) co_return Sent::kCorrupt;
    header = {};
    std::swap(current, following_buffer);
    piece = following;
  }
}

asio::awaitable<bool> CachedBody::read_piece(const cache::ObjectStore::OpenRange& files,
                                             s3::ByteRange piece, char* into) {
  const bool read = co_await read_cache(cache_, record_.bucket(), record_.key(),
                                        [&] { return cache_.store.read_into(files, piece, into); });
  if (read) cache_.metrics.served_bytes.inc(piece.length());
  co_return read;
}

}  // namespace s3hc::pipeline
