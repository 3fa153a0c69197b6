#include "pipeline/read_path.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/field.hpp>
#include <spdlog/spdlog.h>

#include "cache/cache_layout.h"
#include "http/error_writer.h"
#include "pipeline/cache_fill.h"
#include "pipeline/cache_read.h"
#include "pipeline/cache_update.h"
#include "pipeline/fill_reader.h"
#include "pipeline/forward_handler.h"
#include "pipeline/origin_response.h"
#include "pipeline/read_ahead.h"
#include "s3/preconditions.h"
#include "util/ascii.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// On a partial hit, a cached stretch longer than this before the first missing piece makes
// the first origin request a one-byte probe (see serve_partial).
constexpr std::uint64_t kLongCachedPrefixBytes = 8 * 1024 * 1024;

// Keeps the start of an origin's error body, whose <Code> says which 404 it was.
class ErrorBodyTap final : public BodyTap {
 public:
  asio::awaitable<void> on_body(std::span<const char> bytes, bool) override {
    body_.append(bytes.data(), std::min(bytes.size(), kMaxBytes - body_.size()));
    co_return;
  }
  std::string_view body() const { return body_; }

 private:
  static constexpr std::size_t kMaxBytes = 4096;  // S3's error documents are far smaller
  std::string body_;
};

bool has_token(std::string_view list, std::string_view token) {
  bool found = false;
  util::for_each_list_item(list,
                           [&](std::string_view item) { found |= util::iequals(item, token); });
  return found;
}

// Cache-Control: no-cache (or the HTTP/1.0 Pragma) asks for the origin's answer.
bool bypasses_cache(const bhttp::request_header<>& request) {
  return has_token(request[bhttp::field::cache_control], "no-cache") ||
         has_token(request[bhttp::field::pragma], "no-cache");
}

// Cache-Control: no-store asks that nothing of the exchange be kept.
bool forbids_storing(const bhttp::request_header<>& request) {
  return has_token(request[bhttp::field::cache_control], "no-store");
}

}  // namespace

asio::awaitable<bool> bypass(http::ClientConnection& client, http::RequestParser& request,
                             OriginContext& origin, CacheContext& cache, std::string_view why) {
  cache.metrics.bypassed.inc();
  client.record().cache_status = x_cache_value(CacheStatus::kBypass);
  co_return co_await forward(client, request, origin, [why](ResponseHeader& response) {
    set_cache_status_fields(response, from_origin(CacheStatus::kBypass, ForwardReason::kBypass,
                                                  response.result_int(), false, why));
  });
}

ReadPath::ReadPath(http::ClientConnection& client, http::RequestParser& request,
                   OriginContext& origin, CacheContext& cache, CachePolicy policy,
                   http::RelayBuffers& pieces, s3::ReadRequest read)
    : client_(client),
      writer_(origin.client_writer(client)),
      request_(request),
      origin_(origin),
      cache_(cache),
      pieces_(pieces),
      policy_(policy),
      read_(std::move(read)),
      signed_(s3::SignedHeaders::from_request(request.get()[bhttp::field::authorization],
                                              request.get().target())),
      may_read_ahead_(policy_.read_ahead.on() && cache.sequential_reads && !is_head() &&
                      read_.range && !read_.part_number &&
                      !s3::has_conditional_headers(request.get().base()) &&
                      signed_.leaves_ranges_to_proxy()),
      fetched_at_ms_(unix_now_ms()),
      client_keep_alive_(request.get().keep_alive()) {}

asio::awaitable<bool> ReadPath::run() {
  const auto& header = request_.get().base();
  if (policy_.client_cache_control && forbids_storing(header)) {
    co_return co_await bypass(client_, request_, origin_, cache_, "no-store");
  }
  if (policy_.client_cache_control && bypasses_cache(header)) {
    cache_.metrics.bypassed.inc();
    forward_reason_ = ForwardReason::kRequest;
    co_return co_await forward_and_fill();
  }
  if (const auto answered = co_await answer_from_cache()) co_return *answered;
  if (!is_head() && policy_.coalesce_timeout.count() > 0 &&
      co_await waited_for_other_fill()) {
    cache_.metrics.coalesced.inc();
    coalesced_ = true;
    if (joined_) {
      record_status(CacheStatus::kCoalesced);
      co_await read_ahead_of(joined_->object_size(), joined_->etag(), joined_->bytes());
      const FillProgress::Reader reader(std::move(joined_));
      const auto sent = co_await FillReader(cache_, pieces_, read_.object, reader)
                            .send(writer_, reader->header(), &cache_.metrics.served_bytes);
      if (sent) {
        cache_.metrics.fanned_out.inc();
        co_return *sent && client_keep_alive_;
      }
    }
    if (const auto answered = co_await answer_from_cache()) co_return *answered;
  }
  cache_.metrics.misses.inc();
  co_return co_await forward_and_fill();
}

asio::awaitable<std::optional<bool>> ReadPath::answer_from_cache() {
  const auto& header = request_.get().base();
  // Freshness is judged, and any origin request below timed, now: after waiting for another
  // request's fill, the request's start is long past.
  fetched_at_ms_ = unix_now_ms();
  const auto record = co_await find_record(false);
  if (!record) {
    if (policy_.negative_ttl_ms > 0) co_return co_await answer_if_absent();
    co_return std::nullopt;
  }
  forward_reason_ = ForwardReason::kMiss;
  const auto shape = record ? plan(*record) : std::nullopt;
  if (!shape) co_return std::nullopt;
  const bool conditional = s3::has_conditional_headers(header);
  if (covers(*record, *shape)) {
    if (is_fresh(*record, read_.kind, policy_, fetched_at_ms_)) {
      if (conditional) co_return co_await serve_conditionally(*record, *shape);
      cache_.metrics.hits.inc();
      co_return co_await serve(*record, *shape);
    }
    // With the client's own preconditions, the origin's answer is the right one.
    if (!conditional && !signed_.covers("if-none-match")) {
      co_return co_await revalidate(*record, *shape);
    }
  } else if (!conditional && !read_.part_number && signed_.leaves_ranges_to_proxy()) {
    // (S3 refuses a Range beside ?partNumber, so a part is fetched whole or not at all.)
    // These very bytes being fetched (a read-ahead, say): waited for, not fetched again.
    if (policy_.coalesce_timeout.count() > 0) {
      if (co_await being_filled()) co_return std::nullopt;
    }
    co_return co_await serve_partial(*record, *shape);
  }
  co_return std::nullopt;
}

bool ReadPath::covers(const v1::CacheRecord& record, const Plan& plan) const {
  return !plan.bytes || cache::ObjectStore::held(record).covers(*plan.bytes);
}

std::optional<ReadPath::Plan> ReadPath::plan(const v1::CacheRecord& record,
                                             bool honour_range) const {
  Plan plan;
  plan.answer.keep_alive = client_keep_alive_;
  const auto size = record.size();
  if (read_.part_number) {
    const auto& parts = record.parts();
    const auto part = std::find_if(parts.begin(), parts.end(), [&](const v1::PartBoundary& p) {
      return p.number() == *read_.part_number;
    });
    if (part == parts.end()) return std::nullopt;
    plan.bytes = s3::ByteRange{part->first(), part->last()};
    plan.answer.with_parts_count = true;
  } else if (read_.range && honour_range) {
    plan.bytes = s3::resolve(*read_.range, size);
    if (!plan.bytes) return std::nullopt;  // 416: S3's error document says it best
  } else if (size > 0) {
    plan.bytes = s3::ByteRange{0, size - 1};
    plan.answer.with_checksums =
        util::iequals(request_.get()["x-amz-checksum-mode"], "ENABLED");
  }
  if (read_.part_number || (read_.range && honour_range)) {
    plan.answer.status = 206;
    plan.answer.content_range = s3::ContentRange{*plan.bytes, size};
  }
  plan.answer.content_length = plan.bytes ? plan.bytes->length() : 0;
  if (is_head()) {
    plan.answer.content_length = plan.bytes ? plan.bytes->length() : size;
    plan.bytes.reset();  // a HEAD sends the header alone
  }
  return plan;
}

asio::awaitable<bool> ReadPath::forward_and_fill() {
  // Possibly after this request dropped a corrupt copy: newer than that news.
  fetched_at_ms_ = unix_now_ms();
  OriginExchange exchange(client_, request_, origin_);
  if (!co_await exchange.open()) co_return exchange.client_keep_alive();
  co_return co_await relay_and_fill(exchange);
}

bool ReadPath::may_fill(const CacheableBody& body) const {
  return body.meta.size <= policy_.max_read_object_bytes &&
         admits_fill(cache_, body.bytes.length(), false);
}

asio::awaitable<bool> ReadPath::relay_and_fill(OriginExchange& exchange) {
  auto& response = exchange.response().get();
  std::unique_ptr<CacheFill> fill;
  const bool joinable = fill_lease_ != nullptr;  // others of this proxy wait for it
  bool remembered = false;  // a HEAD's answer, kept for the next HEAD
  if (is_head()) {
    if (auto meta = head_meta(response)) {
      co_await update_cache(cache_, [this, &meta] {
        cache_.store.remember(read_.object, *meta, fetched_at_ms_);
      });
      remembered = true;
    }
  } else if (auto body = cacheable_body(response, read_.part_number)) {
    if (exchange.status() == 206) {
      co_await read_ahead_of(body->meta.size, body->meta.etag, body->bytes);
    }
    if (may_fill(*body)) {
      fill = std::make_unique<CacheFill>(cache_, read_.object, std::move(*body), fetched_at_ms_,
                                         policy_.compression, std::move(fill_lease_));
    }
  }
  fill_lease_.reset();  // nothing to wait for when this answer fills nothing
  if (exchange.status() == 404) {
    co_await invalidate();
    if (policy_.negative_ttl_ms > 0) co_return co_await relay_absence(exchange);
  }
  // (A client's no-cache bypasses the lookup, not the fill.)
  const auto status = forward_reason_ == ForwardReason::kRequest ? CacheStatus::kBypass
                                                                   : CacheStatus::kMiss;
  set_cache_status_fields(response, from_origin(status, forward_reason_, exchange.status(),
                                                fill != nullptr || remembered));
  record_status(status);
  // A body that came whole with the header is cached before the client's write; any other is
  // read by a fill of its own, at the origin's pace whatever this client's (a request that
  // still has a body of its own to upload keeps its exchange whole).
  if (fill && !exchange.whole_body_buffered() && request_.is_done()) {
    co_return co_await fill_on_its_own(exchange, std::move(fill), joinable);
  }
  co_return co_await exchange.relay(fill.get());
}

asio::awaitable<void> ReadPath::read_ahead_of(std::uint64_t size, const std::string& etag,
                                              s3::ByteRange bytes) {
  if (!may_read_ahead_) co_return;
  const auto ranges = cache_.sequential_reads->ahead_of(
      cache::CacheLayout::object_id(read_.object.bucket, read_.object.key), etag, bytes, size,
      policy_.read_ahead);
  if (ranges.empty()) co_return;
  // The client's request as it came (without what this request added to it).
  auto request = request_.get().base();
  for (const auto& name : added_headers_) request.erase(name);
  const auto executor = co_await asio::this_coro::executor;
  for (const auto& range : ranges) {
    asio::co_spawn(executor,
                   read_ahead(cache_, origin_,
                              {.request = request,
                               .object = read_.object,
                               .bytes = range,
                               .etag = etag,
                               .size = size,
                               .policy = policy_}),
                   asio::detached);
  }
}

asio::awaitable<std::optional<bool>> ReadPath::answer_if_absent() {
  std::optional<v1::CacheRecord> absence;
  co_await read_cache(cache_, read_.object.bucket, read_.object.key, [&] {
    absence = cache_.store.lookup_absence(read_.object);
    return true;
  });
  // A HEAD's bodiless 404 cannot tell a GET which error to give.
  if (!absence || (!is_head() && absence->absent_code() != s3::errors::kNoSuchKey.code)) {
    co_return std::nullopt;
  }
  const auto left_ms = absence->validated_at_unix_ms() + policy_.negative_ttl_ms - fetched_at_ms_;
  if (left_ms <= 0) co_return std::nullopt;
  cache_.metrics.hits.inc();
  cache_.metrics.negative_hits.inc();
  auto hit = from_cache(CacheStatus::kHit);
  hit.ttl_seconds = left_ms / 1000;
  hit.detail = "absent";
  co_return co_await send_error_from_cache(s3::errors::kNoSuchKey, hit);
}

asio::awaitable<bool> ReadPath::send_error_from_cache(const s3::ErrorKind& kind,
                                                      const CacheOutcome& hit) {
  record_status(hit.status);
  const auto cache_status = cache_status_value(hit);
  const http::HeaderField fields[] = {{"X-Cache", x_cache_value(hit.status)},
                                      {"Cache-Status", cache_status}};
  const auto& header = request_.get().base();
  co_await http::send_error(writer_, kind,
                            {.method = header.method_string(),
                             .resource = header.target(),
                             .keep_alive = client_keep_alive_,
                             .extra_fields = fields},
                            origin_.metrics);
  co_return client_keep_alive_;
}

asio::awaitable<bool> ReadPath::relay_absence(OriginExchange& exchange) {
  // A HEAD's 404 is remembered before the client has it (the fleet's next HEAD finds it); a
  // GET's once its body has told which error it was: NoSuchKey only, what a later GET can
  // be told exactly.
  // (Timed as the invalidation before it, which it must not find newer than itself.)
  const auto remember = [this](std::string_view code) {
    return update_cache(cache_, [this, code] {
      cache_.store.record_absence(read_.object, code, unix_now_ms());
    });
  };
  if (is_head()) co_await remember("");
  set_cache_status_fields(exchange.response().get(),
                          from_origin(CacheStatus::kMiss, forward_reason_, 404, is_head()));
  record_status(CacheStatus::kMiss);
  ErrorBodyTap error;
  const bool keep_alive = co_await exchange.relay(&error);
  if (!is_head() && s3::error_code_of(error.body()) == s3::errors::kNoSuchKey.code) {
    co_await remember(s3::errors::kNoSuchKey.code);
  }
  co_return keep_alive;
}

asio::awaitable<bool> ReadPath::revalidate(const v1::CacheRecord& record, Plan plan) {
  add_request_header("If-None-Match", record.etag());
  OriginExchange exchange(client_, request_, origin_);
  if (!co_await exchange.open()) co_return exchange.client_keep_alive();
  if (exchange.status() != 304) {
    cache_.metrics.misses.inc();
    forward_reason_ = ForwardReason::kStale;
    co_return co_await relay_and_fill(exchange);
  }
  exchange.finish();
  co_await update_cache(cache_, [this, &record] {
    cache_.store.confirm(read_.object, record.etag(), fetched_at_ms_);
  });
  cache_.metrics.revalidated.inc();
  plan.answer.cache = from_cache(CacheStatus::kRevalidated, 304);
  co_return co_await serve(record, plan);
}

asio::awaitable<bool> ReadPath::serve(const v1::CacheRecord& record, const Plan& plan) {
  auto answer = plan.answer;
  if (!answer.cache.origin_status && coalesced_) answer.cache.status = CacheStatus::kCoalesced;
  answer.cache.ttl_seconds = freshness_left_seconds(record);
  record_status(answer.cache.status);
  const auto header = cached_response_header(record, answer);
  if (!plan.bytes) {
    origin_.metrics.count_response(request_.get().method_string(), answer.status);
    co_return co_await writer_.write(header) && client_keep_alive_;
  }
  co_await read_ahead_of(record.size(), record.etag(), *plan.bytes);
  CachedBody body(cache_, pieces_, record, policy_.ram_tier);
  const auto sent = co_await body.send(writer_, header, *plan.bytes);
  if (sent == CachedBody::Sent::kUnreadable) {
    // Nothing was sent: a corrupt or vanished file costs only a trip to the origin, not a
    // broken response.
    co_await drop_if_corrupt(record);
    restore_request();
    co_return co_await forward_and_fill();
  }
  // (Mid-response: the short body tells the client to retry.)
  if (sent == CachedBody::Sent::kCorrupt) co_await drop_if_corrupt(record);
  origin_.metrics.count_response(request_.get().method_string(), answer.status);
  co_return sent == CachedBody::Sent::kAll && client_keep_alive_;
}

asio::awaitable<bool> ReadPath::serve_conditionally(const v1::CacheRecord& record, Plan plan) {
  const auto& header = request_.get().base();
  const s3::PreconditionInput input{
      .if_match = header[bhttp::field::if_match],
      .if_none_match = header[bhttp::field::if_none_match],
      .if_modified_since = header[bhttp::field::if_modified_since],
      .if_unmodified_since = header[bhttp::field::if_unmodified_since],
      .if_range = header[bhttp::field::if_range],
      .etag = record.etag(),
      .last_modified = record.last_modified()};
  switch (s3::evaluate_preconditions(input)) {
    case s3::PreconditionOutcome::kProceed:
      break;
    case s3::PreconditionOutcome::kNotModified:
      plan.answer.status = 304;
      plan.answer.content_range.reset();
      plan.bytes.reset();
      break;
    case s3::PreconditionOutcome::kPreconditionFailed: {
      cache_.metrics.hits.inc();
      auto hit = from_cache(CacheStatus::kHit);
      hit.ttl_seconds = freshness_left_seconds(record);
      co_return co_await send_error_from_cache(s3::errors::kPreconditionFailed, hit);
    }
    case s3::PreconditionOutcome::kProceedIgnoringRange:
      plan = *this->plan(record, false);
      if (!covers(record, plan)) {
        cache_.metrics.misses.inc();
        co_return co_await forward_and_fill();
      }
      break;
  }
  cache_.metrics.hits.inc();
  co_return co_await serve(record, plan);
}

asio::awaitable<bool> ReadPath::serve_partial(const v1::CacheRecord& record, Plan plan) {
  const auto wanted = *plan.bytes;
  const auto missing =
      cache::ObjectStore::held(record).missing(wanted, policy_.merge_gap_bytes);
  // The first missing piece is asked for before anything is sent: the origin's answer is
  // also its verdict on the client's right to read the object. After a long cached stretch,
  // only its first byte is (an unread answer must not wait while that stretch streams), and
  // the piece is fetched when its turn comes.
  const bool probe_only = missing.front().first - wanted.first > kLongCachedPrefixBytes;
  const auto asked = probe_only ? s3::ByteRange{missing.front().first, missing.front().first}
                                : missing.front();
  ask_for_bytes(record, asked);
  OriginExchange first_fetch(client_, request_, origin_);
  if (!co_await first_fetch.open()) co_return first_fetch.client_keep_alive();
  if (!matches_cached_version(first_fetch, record, asked)) {
    restore_request();
    if (first_fetch.status() >= 300 && first_fetch.status() != 412) {
      cache_.metrics.misses.inc();
      co_return co_await relay_and_fill(first_fetch);  // denied, gone, failing: S3's own answer
    }
    // The object changed since it was cached: start again from the origin's current version.
    co_await invalidate();
    cache_.metrics.misses.inc();
    co_return co_await forward_and_fill();
  }
  if (probe_only) {
    char byte[1];
    while (!first_fetch.body_done()) {
      if (!co_await first_fetch.read_body(byte)) break;
    }
    first_fetch.finish();
  }
  co_await read_ahead_of(record.size(), record.etag(), wanted);
  cache_.metrics.partial.inc();
  plan.answer.cache = from_cache(CacheStatus::kPartial, 206);
  record_status(CacheStatus::kPartial);
  origin_.metrics.count_response(request_.get().method_string(), plan.answer.status);
  if (!co_await writer_.write(cached_response_header(record, plan.answer))) co_return false;

  CachedBody cached(cache_, pieces_, record, policy_.ram_tier);
  std::uint64_t next = wanted.first;
  for (std::size_t i = 0; i < missing.size(); ++i) {
    const auto& gap = missing[i];
    if (next < gap.first && !co_await send_stretch(cached, {next, gap.first - 1})) {
      co_return false;
    }
    if (i == 0 && !probe_only) {
      if (!co_await stream_origin(first_fetch)) co_return false;
    } else {
      ask_for_bytes(record, gap);
      OriginExchange fetch(client_, request_, origin_, OriginExchange::Failures::kQuiet);
      if (!co_await fetch.open() || !matches_cached_version(fetch, record, gap) ||
          !co_await stream_origin(fetch)) {
        co_return false;  // the client sees a short body: better than one stitched of versions
      }
    }
    next = gap.last + 1;
  }
  if (next <= wanted.last && !co_await send_stretch(cached, {next, wanted.last})) {
    co_return false;
  }
  co_return client_keep_alive_;
}

void ReadPath::record_status(CacheStatus status) {
  client_.record().cache_status = x_cache_value(status);
}

std::int64_t ReadPath::freshness_left_seconds(const v1::CacheRecord& record) const {
  const auto left_ms = record.validated_at_unix_ms() +
                       freshness_lifetime_ms(record, read_.kind, policy_) - unix_now_ms();
  return std::max<std::int64_t>(left_ms, 0) / 1000;
}

void ReadPath::ask_for_bytes(const v1::CacheRecord& record, s3::ByteRange bytes) {
  if (!range_replaced_ && request_.get().count(bhttp::field::range)) {
    original_range_ = std::string(request_.get()[bhttp::field::range]);
  }
  range_replaced_ = true;
  request_.get().set(bhttp::field::range, s3::range_value(bytes));
  if (!request_.get().count(bhttp::field::if_match)) add_request_header("If-Match", record.etag());
}

bool ReadPath::matches_cached_version(OriginExchange& exchange, const v1::CacheRecord& record,
                                      s3::ByteRange bytes) {
  if (exchange.status() != 206) return false;
  const auto body = cacheable_body(exchange.response().get(), std::nullopt);
  return body && body->bytes == bytes && body->meta.size == record.size() &&
         body->meta.etag == record.etag();
}

asio::awaitable<bool> ReadPath::send_stretch(CachedBody& body, s3::ByteRange bytes) {
  const auto sent = co_await body.send_stretch(writer_, bytes);
  if (sent == CachedBody::Sent::kUnreadable || sent == CachedBody::Sent::kCorrupt) {
    co_await drop_if_corrupt(body.record());
  }
  co_return sent == CachedBody::Sent::kAll;
}

asio::awaitable<bool> ReadPath::stream_origin(OriginExchange& exchange) {
  std::optional<CacheFill> fill;
  auto body = *cacheable_body(exchange.response().get(), std::nullopt);
  if (may_fill(body)) {
    fill.emplace(cache_, read_.object, std::move(body), fetched_at_ms_, policy_.compression);
  }
  auto buffer = origin_.buffers.take();
  for (;;) {
    const auto got = co_await exchange.read_body(buffer.span());
    if (!got) co_return false;
    const bool last = exchange.body_done();
    const std::string_view piece(buffer.span().data(), *got);
    if (fill) co_await fill->on_body(piece, last);
    if (!piece.empty() && !co_await writer_.write(piece)) co_return false;
    if (last) break;
  }
  exchange.finish();
  co_return true;
}

asio::awaitable<std::shared_ptr<const v1::CacheRecord>> ReadPath::find_record(bool shared) {
  if (!shared) {
    // A hot record in memory costs no trip to the I/O pool.
    if (auto record = cache_.store.lookup_in_ram(read_.object)) co_return record;
  }
  // A cache that cannot be read (a failing disk or NFS server) only costs misses.
  std::optional<v1::CacheRecord> record;
  co_await read_cache(cache_, read_.object.bucket, read_.object.key, [&] {
    record = shared ? cache_.store.lookup_shared(read_.object) : cache_.store.lookup(read_.object);
    return true;
  });
  if (!record) co_return nullptr;
  co_return std::make_shared<const v1::CacheRecord>(std::move(*record));
}

asio::awaitable<void> ReadPath::invalidate() {
  co_await update_cache(cache_, [this] { cache_.store.drop(read_.object, unix_now_ms()); });
  cache_.metrics.invalidations.inc();
}

asio::awaitable<void> ReadPath::drop_if_corrupt(const v1::CacheRecord& record) {
  // The record read may be outdated (another fill or proxy replaced the object and deleted
  // the files it named, or the mirror lags): only bytes the shared record still names are
  // corrupt.
  const auto shared = co_await find_record(true);
  if (!shared || shared->generation() != record.generation()) co_return;
  spdlog::warn("cached bytes of {}/{} are corrupt or gone; dropping the object",
               read_.object.bucket, read_.object.key);
  cache_.metrics.corrupt_reads.inc();
  co_await invalidate();
}

void ReadPath::add_request_header(std::string_view name, std::string value) {
  request_.get().set(name, value);
  added_headers_.emplace_back(name);
}

void ReadPath::restore_request() {
  for (const auto& name : added_headers_) request_.get().erase(name);
  added_headers_.clear();
  if (!range_replaced_) return;
  range_replaced_ = false;
  if (original_range_) {
    request_.get().set(bhttp::field::range, *original_range_);
  } else {
    request_.get().erase(bhttp::field::range);
  }
}

}  // namespace s3hc::pipeline
