// ReadPath, coalescing: waiting for another request's fill of the same bytes (fill leases on
// the shared directory), and fills as their own producers that this proxy's requests read at
// their own pace (fill_producer.h, fill_progress.h, fill_reader.h).
#include "pipeline/read_path.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "cache/fill_lease.h"
#include "pipeline/blocking_io.h"
#include "pipeline/cache_read.h"
#include "pipeline/fill_producer.h"
#include "pipeline/fill_reader.h"
#include "pipeline/ranged_body.h"
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

}  // namespace

asio::awaitable<bool> ReadPath::waited_for_other_fill() {
  const auto dir = cache_.store.layout().path_of(cache::kFillLeaseDir);
  const auto name = fill_name();
  const auto give_up = std::chrono::steady_clock::now() + policy_.coalesce_timeout;
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
    } else if (may_join_fill()) {
      // A fill of this process: read it as it arrives, unless it was asked of the origin
      // before news this request must see (then wait for its end and look again).
      if (auto fill = cache_.fills.find(name)) {
        std::int64_t news_ms = 0;
        const bool read = co_await read_cache(cache_, read_.object.bucket, read_.object.key, [&] {
          news_ms = cache_.store.news_time(read_.object);
          return true;
        });
        // A cache that cannot tell is taken to hold news: no join.
        if (!read) news_ms = std::numeric_limits<std::int64_t>::max();
        if (fill->fetched_at_ms() > news_ms) {
          joined_ = std::move(fill);
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

asio::awaitable<bool> ReadPath::being_filled() {
  auto state = cache::FillLeaseState::kNone;
  co_await offload(cache_.io, [&] {
    state = cache::FillLease::probe(cache_.store.layout().path_of(cache::kFillLeaseDir),
                                    fill_name(), kFillLeaseStaleAfter);
  });
  co_return state == cache::FillLeaseState::kLive;
}

std::string ReadPath::fill_name() const {
  return pipeline::fill_name(read_.object, read_.part_number,
                             request_.get()[bhttp::field::range]);
}

asio::awaitable<bool> ReadPath::fill_on_its_own(OriginExchange& exchange,
                                                std::unique_ptr<CacheFill> fill, bool joinable) {
  const auto header = exchange.client_header();
  const auto& body = fill->body();
  auto progress = std::make_shared<FillProgress>(
      coalesced_header(exchange.response().get().base(), forward_reason_), body.bytes,
      body.meta.size, body.meta.etag, fetched_at_ms_, origin_.metrics.buffered_bytes);
  fill->report_to(progress);
  std::string name;
  if (joinable) {
    name = fill_name();
    cache_.fills.add(name, progress);
  }
  // A reader before the producer starts: it must not find its fill abandoned.
  const FillProgress::Reader reader(progress);
  const auto executor = co_await asio::this_coro::executor;
  auto source = fill_source(exchange, body, executor);
  asio::co_spawn(executor,
                 produce_fill(cache_, origin_, std::move(source), std::move(fill), progress,
                              std::move(name)),
                 asio::detached);
  const auto sent =
      co_await FillReader(cache_, pieces_, read_.object, reader).send(writer_, header, nullptr);
  if (sent) co_return *sent && client_keep_alive_;
  // The fill broke off before its first byte: the origin's header alone, then the close
  // (the client sees a short body and retries).
  co_await writer_.write(header);
  co_return false;
}

std::unique_ptr<BodySource> ReadPath::fill_source(OriginExchange& exchange,
                                                  const CacheableBody& body,
                                                  const asio::any_io_executor& executor) {
  // Only a whole object the client asked for as a whole, with no preconditions of its own, and
  // only when its signature leaves Range and If-Match to the proxy (S3 checks signed headers
  // alone): then the client's own request may ask for any stretch of that version.
  const auto& request = request_.get().base();
  const bool parallel =
      !is_head() && exchange.status() == 200 && !read_.range && !read_.part_number &&
      !request.count(bhttp::field::range) && !s3::has_conditional_headers(request) &&
      signed_.leaves_ranges_to_proxy() && policy_.parallel_fills.apply_to(body.bytes.length());
  auto answer = std::make_unique<OriginBody>(exchange.take_body());
  if (!parallel) return answer;
  cache_.metrics.parallel_fills.inc();
  return std::make_unique<RangedBody>(executor, origin_, std::move(answer), request,
                                      body.meta.size, body.meta.etag, policy_.parallel_fills);
}

bool ReadPath::may_join_fill() const {
  // Bytes without the origin's say: only where a fresh hit would be served (a TTL), and only
  // for an answer the client's own preconditions cannot change.
  return policy_.get_ttl_ms > 0 && !s3::has_conditional_headers(request_.get().base());
}

}  // namespace s3hc::pipeline
