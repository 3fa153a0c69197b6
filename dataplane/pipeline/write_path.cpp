#include "pipeline/write_path.h"

#include <spdlog/spdlog.h>
#include <memory>
#include <optional>
#include <string>

#include "cache/compression_policy.h"
#include "pipeline/blocking_io.h"
#include "pipeline/origin_exchange.h"
#include "pipeline/written_object.h"
#include "s3/aws_chunked.h"
#include "s3/delete_objects.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// The object bytes of a PutObject body, written into a range file as they pass to the origin.
// Gives up (keeping nothing) when the body outgrows the limit or does not decode.
class WrittenBody final : public BodyTap {
 public:
  WrittenBody(CacheContext& cache, s3::ObjectAddress object, const RequestHeader& request,
              std::optional<std::uint64_t> declared_size)
      : cache_(cache),
        object_(std::move(object)),
        chunked_(is_aws_chunked(request)),
        declared_size_(declared_size),
        compress_(!cache::known_incompressible(request[bhttp::field::content_type], object.key)) {}

  asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override {
    if (failed_ || complete_) co_return;
    try {
      co_await offload(cache_.io, [this, bytes, last] { append(bytes, last); });
    } catch (const std::exception& error) {
      spdlog::warn("write-through of {}/{} dropped: {}", object_.bucket, object_.key,
                   error.what());
      cache_.metrics.fills_failed.inc();
      give_up();
    }
  }

  // The whole body passed: its bytes are in the fill (or it was empty).
  bool complete() const { return complete_ && !failed_; }
  std::uint64_t size() const { return size_; }
  cache::RangeFill* fill() { return fill_.get(); }

 private:
  void append(std::span<const char> bytes, bool last) {
    std::string_view payload(bytes.data(), bytes.size());
    if (chunked_) {
      decoded_.clear();
      decoder_.feed(payload, decoded_);
      if (decoder_.failed()) return give_up();
      payload = decoded_;
    }
    size_ += payload.size();
    if (size_ > cache_.policy.max_write_object_bytes ||
        (declared_size_ && size_ > *declared_size_)) {
      return give_up();
    }
    if (!payload.empty()) {
      if (!fill_) {
        fill_ = cache_.store.begin_fill(object_, cache::ObjectMeta{}, 0, compress_, 0);
      }
      fill_->append(payload);
    }
    if (last) {
      complete_ = !chunked_ || decoder_.done();
      if (declared_size_ && size_ != *declared_size_) complete_ = false;
    }
  }

  void give_up() {
    failed_ = true;
    fill_.reset();
  }

  CacheContext& cache_;
  const s3::ObjectAddress object_;
  const bool chunked_;
  const std::optional<std::uint64_t> declared_size_;
  const bool compress_;
  s3::AwsChunkedDecoder decoder_;
  std::string decoded_;
  std::unique_ptr<cache::RangeFill> fill_;
  std::uint64_t size_ = 0;
  bool complete_ = false;
  bool failed_ = false;
};

// Settles the cache once the origin has answered a write: the written object kept, or the
// object dropped. Runs as the answer's body tap so it happens before the client sees the end.
class WriteSettlement final : public BodyTap {
 public:
  WriteSettlement(CacheContext& cache, s3::ObjectAddress object, const RequestHeader& request,
                  OriginExchange& exchange, WrittenBody* written)
      : cache_(cache),
        object_(std::move(object)),
        request_(request),
        exchange_(exchange),
        written_(written) {}

  asio::awaitable<void> on_body(std::span<const char>, bool last) override {
    if (last) co_await settle(true);
  }

  // `answered`: the origin's whole answer arrived. Without it the write may or may not have
  // happened, and only dropping the object is safe.
  asio::awaitable<void> settle(bool answered) {
    if (settled_) co_return;
    settled_ = true;
    const auto now_ms = unix_now_ms();
    std::optional<cache::ObjectMeta> meta;
    if (answered && written_ && written_->complete()) {
      meta = written_object_meta(request_, exchange_.response().get(), written_->size());
    }
    const bool kept = co_await offload(cache_.io, [&] { return keep_or_drop(meta, now_ms); });
    if (!kept) cache_.metrics.invalidations.inc();
  }

 private:
  // On the I/O pool. Returns whether the written object was kept.
  bool keep_or_drop(std::optional<cache::ObjectMeta>& meta, std::int64_t now_ms) {
    try {
      if (meta) {
        auto* fill = written_->fill();
        if (!fill) return cache_.store.remember(object_, *meta, now_ms).has_value();
        fill->set_meta(std::move(*meta), now_ms);
        if (cache_.store.commit(*fill)) {
          cache_.metrics.fills_committed.inc();
          return true;
        }
      }
    } catch (const std::exception& error) {
      spdlog::warn("write-through of {}/{} not kept: {}", object_.bucket, object_.key,
                   error.what());
      cache_.metrics.fills_failed.inc();
    }
    cache_.store.invalidate(object_, now_ms);
    return false;
  }

  CacheContext& cache_;
  s3::ObjectAddress object_;
  const RequestHeader& request_;
  OriginExchange& exchange_;
  WrittenBody* written_;
  bool settled_ = false;
};

// A DeleteObjects request body (at most 1000 keys), kept to learn which objects it deletes.
class DeleteRequestBody final : public BodyTap {
 public:
  explicit DeleteRequestBody(bool aws_chunked) : chunked_(aws_chunked) {}

  asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override {
    std::string_view piece(bytes.data(), bytes.size());
    if (chunked_) {
      decoder_.feed(piece, body_);
    } else {
      body_.append(piece);
    }
    if (body_.size() > kMaxBodyBytes) {
      body_.clear();
      overflowed_ = true;
    }
    complete_ = last && !overflowed_;
    co_return;
  }

  // The keys named, once the whole body passed; nullopt otherwise.
  std::optional<std::vector<std::string>> keys() const {
    if (!complete_) return std::nullopt;
    return s3::parse_delete_objects(body_);
  }

 private:
  // 1000 keys of up to 1 KiB each, with their XML.
  static constexpr std::size_t kMaxBodyBytes = 2 * 1024 * 1024;

  const bool chunked_;
  s3::AwsChunkedDecoder decoder_;
  std::string body_;
  bool complete_ = false;
  bool overflowed_ = false;
};

// Drops every object a DeleteObjects request named once the origin answered it.
class DeleteSettlement final : public BodyTap {
 public:
  DeleteSettlement(CacheContext& cache, std::string bucket, const DeleteRequestBody& body)
      : cache_(cache), bucket_(std::move(bucket)), body_(body) {}

  asio::awaitable<void> on_body(std::span<const char>, bool last) override {
    if (last) co_await settle();
  }

  asio::awaitable<void> settle() {
    if (settled_) co_return;
    settled_ = true;
    const auto keys = body_.keys();
    if (!keys) co_return;  // the origin refuses a body it cannot read just as well
    const auto now_ms = unix_now_ms();
    co_await offload(cache_.io, [&] {
      for (const auto& key : *keys) cache_.store.invalidate({bucket_, key}, now_ms);
    });
    cache_.metrics.invalidations.inc(keys->size());
  }

 private:
  CacheContext& cache_;
  std::string bucket_;
  const DeleteRequestBody& body_;
  bool settled_ = false;
};

}  // namespace

asio::awaitable<bool> delete_objects(http::ClientConnection& client, http::RequestParser& request,
                                     OriginContext& origin, CacheContext& cache,
                                     std::string bucket) {
  DeleteRequestBody body(is_aws_chunked(request.get().base()));
  DeleteSettlement settlement(cache, std::move(bucket), body);
  OriginExchange exchange(client, request, origin);
  exchange.set_upload_tap(&body);
  if (!co_await exchange.open()) {
    co_await settlement.settle();
    co_return exchange.client_keep_alive();
  }
  const bool keep_alive = co_await exchange.relay(&settlement);
  co_await settlement.settle();
  co_return keep_alive;
}

asio::awaitable<bool> write_through(http::ClientConnection& client, http::RequestParser& request,
                                    OriginContext& origin, CacheContext& cache,
                                    s3::ObjectAddress object) {
  const auto& header = request.get().base();
  std::optional<WrittenBody> written;
  if (cache.policy.write_through && is_plain_put_object(header)) {
    const auto declared = declared_object_size(header);
    if (!declared || *declared <= cache.policy.max_write_object_bytes) {
      written.emplace(cache, object, header, declared);
      // A body that is already complete (empty) is never relayed: nothing to see.
      if (request.is_done()) co_await written->on_body({}, true);
    }
  }
  OriginExchange exchange(client, request, origin);
  if (written) exchange.set_upload_tap(&*written);
  WriteSettlement settlement(cache, std::move(object), header, exchange,
                             written ? &*written : nullptr);
  if (!co_await exchange.open()) {
    co_await settlement.settle(false);
    co_return exchange.client_keep_alive();
  }
  const bool keep_alive = co_await exchange.relay(&settlement);
  co_await settlement.settle(false);  // when the relay ended early
  co_return keep_alive;
}

}  // namespace s3hc::pipeline
