// ReadPath, coalescing: waiting for another request's fill of the same bytes (fill leases on
// the shared directory) and streaming this proxy's fills to their waiters (fill_broadcast.h).
#include "pipeline/read_path.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "cache/fill_lease.h"
#include "http/header_writer.h"
#include "pipeline/blocking_io.h"
#include "s3/preconditions.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// A filler refreshes its lease every second while bytes arrive: one silent for this long died
// (or its origin stalled), and a waiter takes the fill over.
constexpr std::chrono::milliseconds kFillLeaseStaleAfter{5000};
// How often a waiting request looks whether the fill it waits for is over.
constexpr std::chrono::milliseconds kFillLeasePollPeriod{20};
// How often a request streaming another's fill looks for its next piece.
constexpr std::chrono::milliseconds kBroadcastPollPeriod{2};

}  // namespace

asio::awaitable<bool> ReadPath::waited_for_other_fill() {
  const auto dir = cache_.store.layout().path_of(cache::kFillLeaseDir);
  const auto name = fill_name();
  const auto give_up = std::chrono::steady_clock::now() + cache_.policy.coalesce_timeout;
  asio::steady_timer poll(co_await asio::this_coro::executor);
  for (bool waited = false;;) {
    auto state = cache::FillLeaseState::kNone;
    co_await offload(cache_.io, [&] {
      state = cache::FillLease::probe(dir, name, kFillLeaseStaleAfter);
      if (state == cache::FillLeaseState::kStale) cache::FillLease::break_stale(dir, name);
      if (state != cache::FillLeaseState::kLive && !waited) {
        fill_lease_ = cache::FillLease::try_acquire(dir, name);
      }
    });
    if (state != cache::FillLeaseState::kLive) {
      if (waited) co_return true;  // the fill waited for is over (or its filler died)
      if (fill_lease_) co_return false;
      // Another request took the lease between the probe and the attempt: wait for it.
    } else if (may_join_broadcast()) {
      // A fill of this process: stream it as it arrives, unless it was asked of the origin
      // before news this request must see (then wait for its end and look again).
      if (auto fill = cache_.broadcasts.find(name)) {
        std::int64_t news_ms = 0;
        co_await offload(cache_.io, [&] {
          // A cache that cannot tell is taken to hold news: no join.
          const bool read = read_guarded([&] {
            news_ms = cache_.store.news_time(read_.object);
            return true;
          });
          if (!read) news_ms = std::numeric_limits<std::int64_t>::max();
        });
        if (fill->fetched_at_ms() > news_ms) {
          broadcast_ = std::move(fill);
          co_return true;
        }
      }
    }
    if (std::chrono::steady_clock::now() >= give_up) co_return false;
    waited = state == cache::FillLeaseState::kLive;
    poll.expires_after(kFillLeasePollPeriod);
    co_await poll.async_wait(asio::use_awaitable);
  }
}

std::string ReadPath::fill_name() const {
  auto name = cache::CacheLayout::object_id(read_.object.bucket, read_.object.key);
  const auto range = request_.get()[bhttp::field::range];
  if (read_.part_number) {
    name += " part ";
    name += std::to_string(*read_.part_number);
  } else if (!range.empty()) {
    name += " range ";
    name.append(range);
  }
  return name;
}

asio::awaitable<std::optional<bool>> ReadPath::finish_from_cache(const FillBroadcast& broadcast,
                                                                std::uint64_t sent,
                                                                bool sent_header) {
  // The fill is over when its lease is gone (released after the commit, or the failure).
  const auto dir = cache_.store.layout().path_of(cache::kFillLeaseDir);
  const auto name = fill_name();
  const auto give_up = std::chrono::steady_clock::now() + cache_.policy.coalesce_timeout;
  asio::steady_timer poll(co_await asio::this_coro::executor);
  for (;;) {
    auto state = cache::FillLeaseState::kNone;
    co_await offload(cache_.io, [&] {
      state = cache::FillLease::probe(dir, name, kFillLeaseStaleAfter);
    });
    if (state != cache::FillLeaseState::kLive) break;
    if (std::chrono::steady_clock::now() >= give_up) co_return sent_header ? false : std::optional<bool>();
    poll.expires_after(kFillLeasePollPeriod);
    co_await poll.async_wait(asio::use_awaitable);
  }
  if (!sent_header) co_return std::nullopt;  // answer as any request after the commit would
  const s3::ByteRange rest{broadcast.bytes().first + sent, broadcast.bytes().last};
  const auto record = co_await find_record(true);
  const bool same = record && record->etag() == broadcast.etag() &&
                    cache::ObjectStore::held(*record).covers(rest);
  if (!same || !co_await stream_cached_part(*record, rest)) co_return false;
  cache_.metrics.fanned_out.inc();
  co_return client_keep_alive_;
}

asio::awaitable<std::optional<bool>> ReadPath::stream_broadcast() {
  const auto broadcast = std::move(broadcast_);
  asio::steady_timer poll(co_await asio::this_coro::executor);
  std::uint64_t sent = 0;  // body bytes
  bool sent_header = false;
  for (std::size_t index = 0;;) {
    const auto piece = broadcast->piece(index);
    if (piece.bytes) {
      if (!co_await write_client(sent_header ? std::string_view() : broadcast->header(),
                                 *piece.bytes)) {
        co_return false;
      }
      sent_header = true;
      sent += piece.bytes->size();
      cache_.metrics.served_bytes.inc(piece.bytes->size());
      ++index;
      continue;
    }
    if (piece.dropped) {
      // Too far behind the fill: the rest comes from the cache once it is committed.
      co_return co_await finish_from_cache(*broadcast, sent, sent_header);
    }
    if (piece.ended) {
      if (!sent_header) co_return std::nullopt;  // nothing sent: answer otherwise
      if (!piece.complete) co_return false;      // the origin's answer broke off
      cache_.metrics.fanned_out.inc();
      co_return client_keep_alive_;
    }
    poll.expires_after(kBroadcastPollPeriod);
    co_await poll.async_wait(asio::use_awaitable);
  }
}

bool ReadPath::may_join_broadcast() const {
  // Bytes without the origin's say: only where a fresh hit would be served (a TTL), and only
  // for an answer the client's own preconditions cannot change.
  return cache_.policy.get_ttl_ms > 0 && !s3::has_conditional_headers(request_.get().base());
}

std::string ReadPath::broadcast_header(const ResponseHeader& response) const {
  // What a waiter gets is what a fresh hit would give: the origin's answer, marked HIT.
  auto header = response;
  header.set("X-Cache", "HIT");
  std::string text;
  http::append_header(header, text);
  return text;
}

}  // namespace s3hc::pipeline
