#include "pipeline/write_path.h"

#include <spdlog/spdlog.h>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cache/store/compression_policy.h"
#include "pipeline/blocking_io.h"
#include "pipeline/cache_update.h"
#include "pipeline/origin_exchange.h"
#include "pipeline/written_object.h"
#include "s3/aws_chunked.h"
#include "s3/complete_multipart.h"
#include "s3/delete_objects.h"
#include "s3/post_object.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// A small body (an XML document of a multipart or batch-delete step) kept whole, up to a limit,
// aws-chunked bodies decoded.
class SmallBody final : public BodyTap {
 public:
  explicit SmallBody(bool aws_chunked = false) : chunked_(aws_chunked) {}

  asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override {
    const std::string_view piece(bytes.data(), bytes.size());
    if (chunked_) {
      decoder_.feed(piece, body_);
    } else {
      body_.append(piece);
    }
    if (body_.size() > kMaxBytes && !overflowed_) {
      spdlog::warn("a request or answer document over {} bytes is not read for the cache",
                   kMaxBytes);
      body_.clear();
      overflowed_ = true;
    }
    if (overflowed_) body_.clear();
    complete_ = last && !overflowed_;
    co_return;
  }

  // The whole body, once all of it passed; nullopt otherwise.
  std::optional<std::string_view> text() const {
    if (!complete_) return std::nullopt;
    return body_;
  }

 private:
  // Larger than any document S3 takes or sends here (1000 keys of 1 KiB, even with every
  // character escaped; 10000 parts).
  static constexpr std::size_t kMaxBytes = 8 * 1024 * 1024;

  const bool chunked_;
  s3::AwsChunkedDecoder decoder_;
  std::string body_;
  bool complete_ = false;
  bool overflowed_ = false;
};

// The first bytes of a body (a form upload's fields, which precede its file).
class BodyStart final : public BodyTap {
 public:
  asio::awaitable<void> on_body(std::span<const char> bytes, bool) override {
    const auto room = kBytes - std::min(kBytes, start_.size());
    start_.append(bytes.data(), std::min(room, bytes.size()));
    co_return;
  }
  std::string_view text() const { return start_; }

 private:
  static constexpr std::size_t kBytes = 64 * 1024;
  std::string start_;
};

// The object bytes of an upload body (PutObject, UploadPart), written into a range file as
// they pass to the origin. Gives up, keeping nothing, when the body outgrows the limit or
// does not decode.
class WrittenBody final : public BodyTap {
 public:
  using BeginFill = std::function<std::unique_ptr<cache::RangeFill>()>;

  WrittenBody(CacheContext& cache, const RequestHeader& request, std::uint64_t max_bytes,
              BeginFill begin)
      : cache_(cache),
        max_bytes_(max_bytes),
        chunked_(is_aws_chunked(request)),
        declared_size_(declared_object_size(request)),
        begin_(std::move(begin)) {}

  asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override {
    if (failed_ || complete_) co_return;
    try {
      co_await offload(cache_.io, [this, bytes, last] { append(bytes, last); });
    } catch (const std::exception& error) {
      if (!note_no_space(cache_, error, declared_size_.value_or(0))) {
        spdlog::warn("write-through dropped: {}", error.what());
        cache_.metrics.fills_failed.inc();
      }
      give_up();
    }
  }

  // The whole body passed: its bytes are in the fill (none when it was empty).
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
    if (size_ > max_bytes_ ||
        (declared_size_ && size_ > *declared_size_)) {
      return give_up();
    }
    if (!payload.empty()) {
      if (!fill_) fill_ = begin_();
      fill_->append(payload);
    }
    if (last) {
      complete_ = (!chunked_ || decoder_.done()) && (!declared_size_ || size_ == *declared_size_);
    }
  }

  void give_up() {
    failed_ = true;
    fill_.reset();
  }

  CacheContext& cache_;
  const std::uint64_t max_bytes_;
  const bool chunked_;
  const std::optional<std::uint64_t> declared_size_;
  BeginFill begin_;
  s3::AwsChunkedDecoder decoder_;
  std::string decoded_;
  std::unique_ptr<cache::RangeFill> fill_;
  std::uint64_t size_ = 0;
  bool complete_ = false;
  bool failed_ = false;
};

// Settles the cache once the origin has answered a write, as the answer's body tap: `settle`
// runs on the I/O pool before the end of the answer reaches the client, or after the
// exchange when it ended without a whole answer (then `answered` is false: the write may or
// may not have happened). It may keep the answer's body (`answer_body`).
class Settlement final : public BodyTap {
 public:
  using Settle = std::function<void(bool answered)>;

  Settlement(CacheContext& cache, Settle settle, SmallBody* answer_body = nullptr)
      : cache_(cache), settle_(std::move(settle)), answer_body_(answer_body) {}

  asio::awaitable<void> on_body(std::span<const char> bytes, bool last) override {
    if (answer_body_) co_await answer_body_->on_body(bytes, last);
    if (last) co_await run(true);
  }

  asio::awaitable<void> run(bool answered) {
    if (done_) co_return;
    done_ = true;
    co_await update_cache(cache_, [this, answered] { settle_(answered); });
  }

 private:
  CacheContext& cache_;
  Settle settle_;
  SmallBody* answer_body_;
  bool done_ = false;
};

bool succeeded(OriginExchange& exchange) {
  return exchange.status() >= 200 && exchange.status() < 300;
}

// Whether the origin's object is different after the write (uploading a part or starting or
// aborting an upload changes nothing readable).
bool changes_object(s3::Operation::Kind kind) {
  using Kind = s3::Operation::Kind;
  return kind != Kind::kCreateMultipartUpload && kind != Kind::kUploadPart &&
         kind != Kind::kAbortMultipartUpload;
}

// Forwards a write, with `upload` seeing its body, and settles the cache.
asio::awaitable<bool> relay_write(OriginExchange& exchange, BodyTap* upload,
                                  Settlement& settlement) {
  if (upload) exchange.set_upload_tap(upload);
  if (!co_await exchange.open()) {
    co_await settlement.run(false);
    co_return exchange.client_keep_alive();
  }
  const bool keep_alive = co_await exchange.relay(&settlement);
  co_await settlement.run(false);  // when the relay ended before the end of the answer
  co_return keep_alive;
}

// The steps of one write to one object.
class ObjectWrite {
 public:
  ObjectWrite(http::ClientConnection& client, http::RequestParser& request, OriginContext& origin,
              CacheContext& cache, CachePolicy policy, s3::Operation operation)
      : request_(request),
        header_(request.get().base()),
        cache_(cache),
        policy_(policy),
        operation_(std::move(operation)),
        exchange_(client, request, origin) {}

  asio::awaitable<bool> run() {
    using Kind = s3::Operation::Kind;
    const bool cacheable = policy_.write_through && !has_customer_key(header_);
    if (changes_object(operation_.kind)) {
      // Dropped before the origin sees the write, and settled again after: a proxy killed
      // in between leaves a miss behind, never the old bytes of an object it overwrote.
      co_await update_cache(cache_, [this] { invalidate(); });
    }
    switch (operation_.kind) {
      case Kind::kPutObject:
        if (cacheable) co_return co_await put_object();
        break;
      case Kind::kCreateMultipartUpload:
        // Starting an upload changes no object: nothing to drop when it is not kept.
        if (cacheable) co_return co_await create_upload();
        if (!co_await exchange_.open()) co_return exchange_.client_keep_alive();
        co_return co_await exchange_.relay();
      case Kind::kUploadPart:
        co_return co_await upload_part(cacheable);
      case Kind::kCompleteMultipartUpload:
        co_return co_await complete_upload();
      case Kind::kAbortMultipartUpload:
        co_return co_await abort_upload();
      default:  // the object is dropped: CopyObject, UploadPartCopy, DeleteObject, any other
        break;
    }
    Settlement settlement(cache_, [this](bool) { invalidate(); });
    co_return co_await relay_write(exchange_, nullptr, settlement);
  }

 private:
  asio::awaitable<bool> put_object() {
    std::optional<WrittenBody> written;
    const auto declared = declared_object_size(header_);
    // A write whose headers the proxy cannot rebuild as S3 will answer them is left to S3:
    // no bytes are kept either (written_object_meta would refuse them).
    if (stored_request_headers(header_) &&
        (!declared || *declared <= policy_.max_write_object_bytes) &&
        admits_fill(cache_, declared.value_or(0), true)) {
      written.emplace(cache_, header_, policy_.max_write_object_bytes, [this] {
        return cache_.store.begin_fill(object(), cache::ObjectMeta{}, 0, compress(), 0);
      });
      // A body already complete (empty) is never relayed: nothing would see it.
      if (request_.is_done()) co_await written->on_body({}, true);
    }
    Settlement settlement(cache_, [this, &written](bool answered) {
      const auto now_ms = unix_now_ms();
      if (answered && written && written->complete()) {
        if (auto meta = written_object_meta(header_, exchange_.response().get(), written->size())) {
          keep_or_drop([&] { return keep(written->fill(), std::move(*meta), now_ms); });
          return;
        }
      }
      invalidate();
    });
    co_return co_await relay_write(exchange_, written ? &*written : nullptr, settlement);
  }

  // Keeps the written object; false when newer news of it is recorded.
  bool keep(cache::RangeFill* fill, cache::ObjectMeta meta, std::int64_t now_ms) {
    if (!fill) return cache_.store.remember(object(), meta, now_ms).has_value();
    fill->set_meta(std::move(meta), now_ms);
    if (!cache_.store.commit(*fill)) {
      cache_.metrics.fills_superseded.inc();
      return false;
    }
    cache_.metrics.fills_committed.inc();
    return true;
  }

  asio::awaitable<bool> create_upload() {
    SmallBody answer;
    Settlement settlement(
        cache_,
        [this, &answer](bool answered) {
          if (!answered || !succeeded(exchange_)) return;
          const auto body = answer.text();
          const auto upload_id = body ? s3::parse_initiate_multipart_result(*body) : std::nullopt;
          // Without headers the proxy can rebuild, the upload is not kept: its completion then
          // finds nothing and drops the object, and the first read asks S3.
          const auto headers = stored_request_headers(header_);
          if (upload_id && headers) cache_.uploads.begin(object(), *upload_id, *headers);
        },
        &answer);
    co_return co_await relay_write(exchange_, nullptr, settlement);
  }

  asio::awaitable<bool> upload_part(bool cacheable) {
    const auto part_number = *operation_.part_number;
    std::optional<WrittenBody> written;
    if (cacheable && admits_fill(cache_, declared_object_size(header_).value_or(0), true)) {
      written.emplace(cache_, header_, policy_.max_write_object_bytes, [this, part_number] {
        return cache_.uploads.begin_part(object(), operation_.upload_id, part_number, compress());
      });
    }
    Settlement settlement(cache_, [this, &written, part_number](bool answered) {
      if (!answered || !written || !written->complete() || !written->fill()) return;
      const auto etag = exchange_.response().get()[bhttp::field::etag];
      if (succeeded(exchange_) && !etag.empty()) {
        // Quoted like the ETags of the completion's parts, whatever the origin sent.
        cache_.uploads.commit_part(*written->fill(), part_number, s3::quoted_etag(etag));
      }
    });
    co_return co_await relay_write(exchange_, written ? &*written : nullptr, settlement);
  }

  asio::awaitable<bool> complete_upload() {
    SmallBody request_body(is_aws_chunked(header_));
    SmallBody answer;
    Settlement settlement(
        cache_,
        [this, &request_body, &answer](bool answered) {
          if (answered && !succeeded(exchange_)) return;  // nothing changed; a retry may follow
          const auto sent = request_body.text();
          const auto parts = sent ? s3::parse_complete_multipart_upload(*sent) : std::nullopt;
          const auto result = answer.text();
          const auto etag = result ? s3::parse_complete_multipart_result(*result) : std::nullopt;
          if (answered && parts && etag && policy_.write_through) {
            std::vector<std::pair<std::uint32_t, std::string>> named;
            for (const auto& part : *parts) named.emplace_back(part.part_number, part.etag);
            auto meta = write_answer_meta(exchange_.response().get(), *etag);
            // S3 names the object's checksums in the result's body, not in headers.
            for (auto& header : s3::parse_complete_multipart_checksums(*result)) {
              meta.whole_object_headers.push_back(std::move(header));
            }
            const auto now_ms = unix_now_ms();
            keep_or_drop([&] {
              if (!cache_.uploads.complete(object(), operation_.upload_id, named,
                                                std::move(meta), now_ms)) {
                cache_.metrics.fills_superseded.inc();
                return false;
              }
              cache_.metrics.fills_committed.inc();
              return true;
            });
            return;
          }
          invalidate();
        },
        &answer);
    co_return co_await relay_write(exchange_, &request_body, settlement);
  }

  asio::awaitable<bool> abort_upload() {
    Settlement settlement(cache_, [this](bool answered) {
      if (answered && succeeded(exchange_)) {
        cache_.uploads.abort(object(), operation_.upload_id);
      }
    });
    co_return co_await relay_write(exchange_, nullptr, settlement);
  }

  const s3::ObjectAddress& object() const { return operation_.address; }

  bool compress() const {
    return policy_.compression &&
           !cache::known_incompressible(header_[bhttp::field::content_type], object().key);
  }

  void invalidate() {
    cache_.store.invalidate(object(), unix_now_ms());
    cache_.metrics.invalidations.inc();
  }

  // Runs `keep` (true: the written object is kept); when it is not, or `keep` throws (a full
  // disk), the object is dropped instead, so no read gets what the write replaced. A throw
  // goes on to update_cache, which counts it.
  template <typename Keep>
  void keep_or_drop(Keep keep) {
    try {
      if (keep()) return;
    } catch (...) {
      invalidate();
      throw;
    }
    invalidate();
  }

  http::RequestParser& request_;
  const RequestHeader& header_;
  CacheContext& cache_;
  const CachePolicy policy_;  // for this object (object_policy.h)
  const s3::Operation operation_;
  OriginExchange exchange_;
};

}  // namespace

asio::awaitable<bool> write_through(http::ClientConnection& client, http::RequestParser& request,
                                    OriginContext& origin, CacheContext& cache,
                                    const CachePolicy& policy, s3::Operation operation) {
  ObjectWrite write(client, request, origin, cache, policy, std::move(operation));
  co_return co_await write.run();
}

asio::awaitable<bool> post_object(http::ClientConnection& client, http::RequestParser& request,
                                  OriginContext& origin, CacheContext& cache,
                                  std::string bucket) {
  BodyStart body;
  const std::string content_type(request.get()[bhttp::field::content_type]);
  Settlement settlement(cache, [&cache, &body, &bucket, &content_type](bool) {
    const auto key = s3::post_object_key(content_type, body.text());
    if (!key) return;  // not a form upload S3 would take either
    cache.store.invalidate({bucket, *key}, unix_now_ms());
    cache.metrics.invalidations.inc();
  });
  OriginExchange exchange(client, request, origin);
  co_return co_await relay_write(exchange, &body, settlement);
}

asio::awaitable<bool> delete_objects(http::ClientConnection& client, http::RequestParser& request,
                                     OriginContext& origin, CacheContext& cache,
                                     std::string bucket) {
  SmallBody body(is_aws_chunked(request.get().base()));
  Settlement settlement(cache, [&cache, &body, &bucket](bool) {
    const auto text = body.text();
    const auto keys = text ? s3::parse_delete_objects(*text) : std::nullopt;
    if (!keys) return;  // the origin refuses a body it cannot read just as well
    const auto now_ms = unix_now_ms();
    for (const auto& key : *keys) cache.store.invalidate({bucket, key}, now_ms);
    cache.metrics.invalidations.inc(keys->size());
  });
  OriginExchange exchange(client, request, origin);
  co_return co_await relay_write(exchange, &body, settlement);
}

}  // namespace s3hc::pipeline
