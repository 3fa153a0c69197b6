// The read path's decisions (pipeline/read_path.h) against an origin in memory
// (fake_origin.h): what reaches the origin, and what the client gets, for a fresh hit, an
// expired record, a TTL of 0, a partial hit, a hit with preconditions, a 404 and coalesced
// misses. Requests come through a real client connection and session (socket_pair.h).
#include "pipeline/read_path.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "cache/fill_lease.h"
#include "cache/store/object_store.h"
#include "cache/store/upload_store.h"
#include "fake_origin.h"
#include "http/session.h"
#include "http/origin_router.h"
#include "obs/cache_metrics.h"
#include "obs/metrics.h"
#include "obs/proxy_metrics.h"
#include "pipeline/cache_handler.h"
#include "socket_pair.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::pipeline {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

// What a client received; header names in lower case.
struct Answer {
  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::string body;  // what arrived of it, when the answer ended early
  bool complete = false;

  std::string header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
};

std::string object_of(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return bytes;
}

http::UpstreamOptions fixed_origin(std::string_view url) {
  http::UpstreamOptions options;
  options.url = http::parse_upstream_url(url);
  return options;
}

// A Cache-Status of an answer from a record confirmed just now, under the default TTL of 60 s
// (whole seconds left: 60 within the same millisecond, else 59).
void expect_fresh_for_a_minute(const std::string& cache_status, const std::string& before_ttl) {
  EXPECT_TRUE(cache_status == before_ttl + "; ttl=59" || cache_status == before_ttl + "; ttl=60")
      << cache_status;
}

class ReadPathTest : public ::testing::Test {
 protected:
  ReadPathTest()
      : store_(cache::CacheLayout(dir_.string()), {.block_size = 64 * 1024}),
        uploads_(store_, nullptr),
        cache_metrics_(registry_),
        proxy_metrics_(registry_),
        sweeper_(io_.get_executor(), 10ms),
        origin_(io_, sweeper_),
        router_(upstream_,
                [this](const http::UpstreamUrl& url, auto) { return origin_.connector_for(url); },
                proxy_metrics_),
        origin_context_(router_,
                        {.relay_buffer_bytes = 64 * 1024,
                         .client_io_timeout = 5000ms,
                         .upstream_io_timeout = 5000ms},
                        proxy_metrics_),
        cache_{.store = store_,
               .uploads = uploads_,
               .io = nullptr,
               .sendfile_from_page_cache = false,
               .admission = nullptr,
               .fills = fills_,
               .policy = {},
               .policies = nullptr,
               .addressing = {},
               .metrics = cache_metrics_,
               .buckets = &bucket_metrics_,
               .sequential_reads = &sequential_reads_},
        handler_(origin_context_, cache_) {
    asio::co_spawn(io_, sweeper_.run(), asio::detached);
  }

  ~ReadPathTest() override {
    // Sessions end once their clients have closed; none may outlive the handler it uses.
    run_until([&] { return proxy_metrics_.open_connections.value() == 0; });
  }

  // Runs the io_context until `done` holds (or 10 s passed: the test then fails).
  void run_until(const std::function<bool()>& done) {
    io_.restart();
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < give_up) io_.run_one_for(10ms);
    ASSERT_TRUE(done());
  }

  // Starts one request on a connection of its own; the answer is set when it has arrived.
  std::shared_ptr<std::optional<Answer>> start(const std::string& method, const std::string& target,
                                               const std::string& headers = "") {
    auto answer = std::make_shared<std::optional<Answer>>();
    auto [proxy_side, client_side] = testing::connected_sockets(io_);
    asio::co_spawn(io_,
                   http::run_session(std::move(proxy_side), handler_, session_options_, sweeper_,
                                     proxy_metrics_),
                   asio::detached);
    asio::co_spawn(io_, ask(std::move(client_side), method + " " + target +
                                                        " HTTP/1.1\r\nHost: s3.amazonaws.com\r\n" +
                                                        headers + "\r\n",
                            method == "HEAD", answer),
                   asio::detached);
    return answer;
  }

  Answer get(const std::string& target, const std::string& headers = "") {
    return request("GET", target, headers);
  }
  Answer request(const std::string& method, const std::string& target,
                 const std::string& headers = "") {
    const auto answer = start(method, target, headers);
    run_until([&] { return answer->has_value(); });
    return answer->value_or(Answer{});
  }

  // Two GETs of `target`, the second sent once the first one's fill has made `requests`
  // origin requests, which answer no more than 100,000 body bytes until both requests are in.
  std::pair<Answer, Answer> get_during_a_fill(const std::string& target, std::size_t requests) {
    origin_.hold_bodies_after(100'000);
    const auto first = start("GET", target);
    run_until([&] { return origin_requests() == requests; });
    const auto second = start("GET", target);
    run_until([&] { return cache_metrics_.coalesced.value() == 1; });
    origin_.release();
    run_until([&] { return first->has_value() && second->has_value(); });
    return {first->value_or(Answer{}), second->value_or(Answer{})};
  }

  std::size_t origin_requests() const { return origin_.requests().size(); }
  const testing::FakeOrigin::Request& last_origin_request() const {
    return origin_.requests().back();
  }

  testing::TempDir dir_{"read-path"};
  cache::ObjectStore store_;
  cache::UploadStore uploads_;
  FillRegistry fills_;
  SequentialReads sequential_reads_;
  obs::MetricsRegistry registry_;
  obs::CacheMetrics cache_metrics_;
  obs::ProxyMetrics proxy_metrics_;
  obs::BucketMetrics bucket_metrics_{registry_, {}};
  asio::io_context io_;
  http::DeadlineSweeper sweeper_;
  testing::FakeOrigin origin_;
  const http::UpstreamOptions upstream_ = fixed_origin("http://origin.test");
  http::OriginRouter router_;
  OriginContext origin_context_;
  CacheContext cache_;
  CacheHandler handler_;
  std::atomic<bool> draining_{false};
  http::AdmissionGate admission_{{}, proxy_metrics_};
  const http::SessionOptions session_options_{.max_header_bytes = 16 * 1024,
                                              .read_buffer_bytes = 64 * 1024,
                                              .idle_timeout = 5000ms,
                                              .io_timeout = 5000ms,
                                              .draining = &draining_,
                                              .admission = &admission_};

 private:
  static asio::awaitable<void> ask(asio::ip::tcp::socket socket, std::string request, bool head,
                                   std::shared_ptr<std::optional<Answer>> answer) {
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    const auto [ec, _] =
        co_await bhttp::async_read(socket, buffer, parser, asio::as_tuple(asio::use_awaitable));
    Answer received;
    if (!ec) {
      received.status = parser.get().result_int();
      for (const auto& field : parser.get()) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        received.headers[name] = std::string(field.value());
      }
    }
    received.body = parser.get().body();
    received.complete = !ec;
    *answer = std::move(received);
  }
};

TEST_F(ReadPathTest, AFreshHitAsksTheOriginNothing) {
  const auto object = object_of(200'000);
  origin_.put("/bucket/key", object);
  const auto miss = get("/bucket/key");
  EXPECT_EQ(miss.status, 200u);
  EXPECT_EQ(miss.header("x-cache"), "MISS");
  EXPECT_EQ(miss.header("cache-status"), "s3hc; fwd=uri-miss; fwd-status=200; stored");
  EXPECT_EQ(miss.body, object);
  const auto hit = get("/bucket/key");
  EXPECT_EQ(hit.status, 200u);
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  expect_fresh_for_a_minute(hit.header("cache-status"), "s3hc; hit");
  EXPECT_EQ(hit.header("etag"), origin_.etag_of("/bucket/key"));
  EXPECT_EQ(hit.body, object);
  const auto head = request("HEAD", "/bucket/key");
  EXPECT_EQ(head.header("x-cache"), "HIT");
  EXPECT_EQ(head.header("content-length"), std::to_string(object.size()));
  EXPECT_EQ(origin_requests(), 1u);
  // Per bucket: one MISS, two HITs; the hit's body bytes saved.
  const auto metrics = registry_.render_prometheus();
  EXPECT_NE(metrics.find("s3hc_bucket_requests_total{bucket=\"bucket\",cache_status=\"HIT\"} 2\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("s3hc_bucket_requests_total{bucket=\"bucket\",cache_status=\"MISS\"} 1\n"),
            std::string::npos);
  const std::string saved = "s3hc_bucket_saved_bytes_total{bucket=\"bucket\"} ";
  const auto at = metrics.find(saved);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stoull(metrics.substr(at + saved.size())), object.size());  // with headers
}

TEST_F(ReadPathTest, WithATtlOfZeroEveryReadIsRevalidatedWithTheCachedETag) {
  cache_.policy.get_ttl_ms = 0;
  const auto object = object_of(100'000);
  origin_.put("/bucket/key", object);
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "MISS");
  for (int i = 0; i < 2; ++i) {
    const auto again = get("/bucket/key");
    EXPECT_EQ(again.header("x-cache"), "REVALIDATED");
    EXPECT_EQ(again.header("cache-status"), "s3hc; fwd=stale; fwd-status=304; ttl=0");
    EXPECT_EQ(again.body, object);
    EXPECT_EQ(last_origin_request().header("if-none-match"), origin_.etag_of("/bucket/key"));
  }
  EXPECT_EQ(origin_requests(), 3u);
}

TEST_F(ReadPathTest, AnExpiredRecordIsRevalidatedAndAChangedObjectFetchedAnew) {
  cache_.policy.get_ttl_ms = 1;
  origin_.put("/bucket/key", object_of(50'000));
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "MISS");
  std::this_thread::sleep_for(5ms);  // past the TTL
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "REVALIDATED");

  const auto changed = object_of(70'000).replace(0, 3, "new");
  origin_.put("/bucket/key", changed);
  std::this_thread::sleep_for(5ms);
  const auto fetched = get("/bucket/key");
  EXPECT_EQ(fetched.header("x-cache"), "MISS");
  EXPECT_EQ(fetched.header("cache-status"), "s3hc; fwd=stale; fwd-status=200; stored");
  EXPECT_EQ(fetched.header("etag"), origin_.etag_of("/bucket/key"));
  EXPECT_EQ(fetched.body, changed);
  // The new version is what the cache holds now.
  cache_.policy.get_ttl_ms = 60'000;
  const auto hit = get("/bucket/key");
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(hit.body, changed);
  EXPECT_EQ(origin_requests(), 3u);
}

TEST_F(ReadPathTest, APartialHitAsksOnlyForTheMissingBytesOfTheCachedVersion) {
  const auto object = object_of(1'000'000);
  origin_.put("/bucket/key", object);
  EXPECT_EQ(get("/bucket/key", "Range: bytes=0-399999\r\n").status, 206u);

  const auto wider = get("/bucket/key", "Range: bytes=0-799999\r\n");
  EXPECT_EQ(wider.status, 206u);
  EXPECT_EQ(wider.header("x-cache"), "PARTIAL");
  EXPECT_EQ(wider.header("cache-status"), "s3hc; fwd=partial; fwd-status=206");
  EXPECT_EQ(wider.header("content-range"), "bytes 0-799999/1000000");
  EXPECT_EQ(wider.body, object.substr(0, 800'000));
  ASSERT_EQ(origin_requests(), 2u);
  EXPECT_EQ(last_origin_request().header("range"), "bytes=400000-799999");
  EXPECT_EQ(last_origin_request().header("if-match"), origin_.etag_of("/bucket/key"));
  EXPECT_EQ(cache_metrics_.partial.value(), 1u);

  // Both stretches are held now.
  const auto inner = get("/bucket/key", "Range: bytes=300000-500000\r\n");
  EXPECT_EQ(inner.header("x-cache"), "HIT");
  EXPECT_EQ(inner.body, object.substr(300'000, 200'001));
  EXPECT_EQ(origin_requests(), 2u);
}

TEST_F(ReadPathTest, PreconditionsOnAFreshHitAreJudgedAsS3WouldWithoutTheOrigin) {
  const auto object = object_of(10'000);
  origin_.put("/bucket/key", object);
  get("/bucket/key");
  const auto etag = origin_.etag_of("/bucket/key");

  const auto not_modified = get("/bucket/key", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(not_modified.status, 304u);
  EXPECT_EQ(not_modified.header("x-cache"), "HIT");
  const auto failed = get("/bucket/key", "If-Match: \"other\"\r\n");
  EXPECT_EQ(failed.status, 412u);
  EXPECT_NE(failed.body.find("<Code>PreconditionFailed</Code>"), std::string::npos);
  EXPECT_EQ(failed.header("x-cache"), "HIT");
  expect_fresh_for_a_minute(failed.header("cache-status"), "s3hc; hit");
  const auto matching = get("/bucket/key", "If-Match: " + etag + "\r\n");
  EXPECT_EQ(matching.status, 200u);
  EXPECT_EQ(matching.body, object);
  EXPECT_EQ(get("/bucket/key", "If-None-Match: \"other\"\r\n").body, object);
  EXPECT_EQ(origin_requests(), 1u);
}

TEST_F(ReadPathTest, ANoSuchKeyFromTheOriginDropsTheCachedObject) {
  origin_.put("/bucket/key", object_of(10'000));
  get("/bucket/key");
  origin_.remove("/bucket/key");
  // no-cache: the client asks the origin whatever the cache holds.
  const auto gone = get("/bucket/key", "Cache-Control: no-cache\r\n");
  EXPECT_EQ(gone.status, 404u);
  EXPECT_EQ(gone.header("x-cache"), "BYPASS");
  EXPECT_EQ(gone.header("cache-status"), "s3hc; fwd=request; fwd-status=404");
  EXPECT_NE(gone.body.find("<Code>NoSuchKey</Code>"), std::string::npos);
  EXPECT_EQ(cache_metrics_.invalidations.value(), 1u);
  // Nothing is left to answer from: the next read goes to the origin too.
  EXPECT_EQ(get("/bucket/key").status, 404u);
  EXPECT_EQ(origin_requests(), 3u);
}

TEST_F(ReadPathTest, ConcurrentMissesOfOneObjectMakeOneOriginRequest) {
  const auto object = object_of(3'000'000);
  origin_.put("/bucket/key", object);
  const auto [first, second] = get_during_a_fill("/bucket/key", 1);
  EXPECT_EQ(first.body, object);
  EXPECT_EQ(second.body, object);
  EXPECT_EQ(second.header("etag"), origin_.etag_of("/bucket/key"));
  EXPECT_EQ(first.header("x-cache"), "MISS");
  EXPECT_EQ(second.header("x-cache"), "COALESCED");
  EXPECT_EQ(second.header("cache-status"), "s3hc; fwd=uri-miss; fwd-status=200; collapsed; stored");
  EXPECT_EQ(origin_requests(), 1u);
  EXPECT_EQ(cache_metrics_.fanned_out.value(), 1u);
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "HIT");
  EXPECT_EQ(origin_requests(), 1u);
}

TEST_F(ReadPathTest, ReadsTheCacheStaysOutOfAreMarkedBypassAndLeaveNothing) {
  const auto object = object_of(10'000);
  origin_.put("/bucket/key", object);
  const auto no_store = get("/bucket/key", "Cache-Control: no-store\r\n");
  EXPECT_EQ(no_store.body, object);
  EXPECT_EQ(no_store.header("x-cache"), "BYPASS");
  EXPECT_EQ(no_store.header("cache-status"), "s3hc; fwd=bypass; fwd-status=200; detail=\"no-store\"");
  const auto versioned = get("/bucket/key?versionId=v1");
  EXPECT_EQ(versioned.header("x-cache"), "BYPASS");
  EXPECT_EQ(versioned.header("cache-status"),
            "s3hc; fwd=bypass; fwd-status=200; detail=\"versioned read\"");
  cache_.policy.read_caching = false;
  EXPECT_EQ(get("/bucket/key").header("cache-status"),
            "s3hc; fwd=bypass; fwd-status=200; detail=\"policy\"");
  cache_.policy.read_caching = true;
  // None of them filled the cache.
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "MISS");
  EXPECT_EQ(origin_requests(), 4u);
  EXPECT_EQ(cache_metrics_.bypassed.value(), 3u);
}

// Negative caching (cache.negative_ttl_ms): S3's 404 answered from the cache until the key is
// written through the cache directory.
TEST_F(ReadPathTest, AMissingKeyIsAnsweredFromTheCacheUntilItIsWritten) {
  cache_.policy.negative_ttl_ms = 60'000;
  const auto first = get("/bucket/missing");
  EXPECT_EQ(first.status, 404u);
  EXPECT_EQ(first.header("x-cache"), "MISS");
  const auto again = get("/bucket/missing");
  EXPECT_EQ(again.status, 404u);
  EXPECT_NE(again.body.find("<Code>NoSuchKey</Code>"), std::string::npos);
  EXPECT_EQ(again.header("x-cache"), "HIT");
  EXPECT_TRUE(again.header("cache-status") == "s3hc; hit; ttl=59; detail=\"absent\"" ||
              again.header("cache-status") == "s3hc; hit; ttl=60; detail=\"absent\"")
      << again.header("cache-status");
  const auto head = request("HEAD", "/bucket/missing");
  EXPECT_EQ(head.status, 404u);
  EXPECT_EQ(head.header("x-cache"), "HIT");
  EXPECT_EQ(origin_requests(), 1u);
  EXPECT_EQ(cache_metrics_.negative_hits.value(), 2u);

  // Another proxy writes the key through the cache directory: the absence is gone at once.
  origin_.put("/bucket/missing", "now here");
  store_.invalidate({"bucket", "missing"}, util::unix_now_ms());
  const auto written = get("/bucket/missing");
  EXPECT_EQ(written.status, 200u);
  EXPECT_EQ(written.body, "now here");
  EXPECT_EQ(origin_requests(), 2u);
}

TEST_F(ReadPathTest, AHeadsBodilessNotFoundAnswersHeadsOnly) {
  cache_.policy.negative_ttl_ms = 60'000;
  EXPECT_EQ(request("HEAD", "/bucket/missing").status, 404u);
  EXPECT_EQ(request("HEAD", "/bucket/missing").header("x-cache"), "HIT");
  EXPECT_EQ(origin_requests(), 1u);
  // A GET must say which error: S3 is asked, and its NoSuchKey then answers both.
  EXPECT_EQ(get("/bucket/missing").header("x-cache"), "MISS");
  EXPECT_EQ(get("/bucket/missing").header("x-cache"), "HIT");
  EXPECT_EQ(request("HEAD", "/bucket/missing").header("x-cache"), "HIT");
  EXPECT_EQ(origin_requests(), 2u);
}

TEST_F(ReadPathTest, OnlyNoSuchKeyIsRememberedAndOnlyForTheNegativeTtl) {
  cache_.policy.negative_ttl_ms = 60'000;
  origin_.remove_bucket("gone");
  for (int i = 0; i < 2; ++i) {
    const auto answer = get("/gone/key");
    EXPECT_EQ(answer.status, 404u);
    EXPECT_NE(answer.body.find("<Code>NoSuchBucket</Code>"), std::string::npos);
  }
  EXPECT_EQ(origin_requests(), 2u);

  cache_.policy.negative_ttl_ms = 1;
  get("/bucket/missing");
  std::this_thread::sleep_for(5ms);  // past the negative TTL
  EXPECT_EQ(get("/bucket/missing").header("x-cache"), "MISS");
  EXPECT_EQ(origin_requests(), 4u);

  cache_.policy.negative_ttl_ms = 0;  // the default: off
  get("/bucket/other");
  EXPECT_EQ(get("/bucket/other").header("x-cache"), "MISS");
  EXPECT_EQ(origin_requests(), 6u);
  EXPECT_EQ(cache_metrics_.negative_hits.value(), 0u);
}


// Parallel fills (pipeline/ranged_body.h): a large cold object fetched as concurrent ranges of
// the version its first answer announced.
class ParallelFillTest : public ReadPathTest {
 protected:
  static constexpr std::uint64_t kChunk = 256 * 1024;

  ParallelFillTest() { cache_.policy.parallel_fills = parallel(1'000'000, kChunk, 3); }
  ~ParallelFillTest() override {
    // Fetches a failed fill left behind end before the origin and the contexts go: their
    // chunks' buffers are the last thing released.
    run_until([&] {
      return cache_metrics_.fills_in_flight.value() == 0 &&
             proxy_metrics_.buffered_bytes.value() == 0;
    });
  }

  static ParallelFills parallel(std::uint64_t threshold, std::uint64_t chunk, int streams) {
    ParallelFills options;
    options.threshold_bytes = threshold;
    options.chunk_bytes = chunk;
    options.streams = streams;
    return options;
  }

  std::vector<testing::FakeOrigin::Request> ranged_requests() const {
    std::vector<testing::FakeOrigin::Request> ranged;
    for (const auto& request : origin_.requests()) {
      if (request.has("range")) ranged.push_back(request);
    }
    return ranged;
  }

  // The Range of chunk `index` of an object of `size` bytes, from `skip` bytes into it.
  static std::string chunk_range(std::size_t index, std::size_t size, std::size_t skip = 0) {
    const auto first = index * kChunk;
    const auto last = std::min<std::uint64_t>(first + kChunk, size) - 1;
    std::string range = "bytes=";
    range += std::to_string(first + skip);
    range += '-';
    range += std::to_string(last);
    return range;
  }
};

TEST_F(ParallelFillTest, ALargeColdObjectIsFetchedAsConcurrentRangesOfOneVersionAndCached) {
  const auto object = object_of(3'000'000);  // 12 chunks: the first from the whole answer
  origin_.put("/bucket/key", object);
  const auto miss = get("/bucket/key");
  EXPECT_TRUE(miss.complete);
  EXPECT_EQ(miss.status, 200u);
  EXPECT_EQ(miss.header("content-length"), std::to_string(object.size()));
  EXPECT_EQ(miss.header("etag"), origin_.etag_of("/bucket/key"));
  EXPECT_EQ(miss.header("x-cache"), "MISS");
  EXPECT_EQ(miss.body, object);
  EXPECT_FALSE(origin_.requests().front().has("range"));
  const auto ranged = ranged_requests();
  ASSERT_EQ(ranged.size(), 11u);
  for (std::size_t i = 0; i < ranged.size(); ++i) {
    EXPECT_EQ(ranged[i].header("range"), chunk_range(i + 1, object.size()));
    EXPECT_EQ(ranged[i].header("if-match"), origin_.etag_of("/bucket/key"));
  }
  EXPECT_EQ(cache_metrics_.parallel_fills.value(), 1u);
  EXPECT_EQ(proxy_metrics_.buffered_bytes.value(), 0);
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "HIT");
  EXPECT_EQ(origin_requests(), 12u);
}

TEST_F(ParallelFillTest, AConcurrentMissFollowsTheParallelFillInsteadOfStartingItsOwn) {
  const auto object = object_of(3'000'000);
  origin_.put("/bucket/key", object);
  // (The first request's fill sends the 200's request and those of the first two ranges.)
  const auto [first, second] = get_during_a_fill("/bucket/key", 3);
  EXPECT_EQ(first.body, object);
  EXPECT_EQ(second.body, object);
  EXPECT_EQ(second.header("x-cache"), "COALESCED");
  EXPECT_EQ(cache_metrics_.parallel_fills.value(), 1u);
  EXPECT_EQ(origin_requests(), 12u);
}

TEST_F(ParallelFillTest, SmallObjectsRangesAndSignedRangesAreFetchedAsAsked) {
  origin_.put("/bucket/small", object_of(900'000));
  EXPECT_EQ(get("/bucket/small").body, object_of(900'000));
  const auto object = object_of(3'000'000);
  origin_.put("/bucket/ranged", object);
  EXPECT_EQ(get("/bucket/ranged", "Range: bytes=0-1999999\r\n").body, object.substr(0, 2'000'000));
  // A signature that covers Range leaves the proxy no choice of ranges.
  origin_.put("/bucket/signed", object);
  const auto signed_range = get(
      "/bucket/signed",
      "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, "
      "SignedHeaders=host;range;x-amz-date, Signature=0123\r\n");
  EXPECT_EQ(signed_range.body, object);
  EXPECT_EQ(origin_requests(), 3u);
  EXPECT_EQ(cache_metrics_.parallel_fills.value(), 0u);
}

TEST_F(ParallelFillTest, ARangeCutMidBodyIsAskedAgainFromItsFirstMissingByte) {
  const auto object = object_of(3'000'000);
  origin_.put("/bucket/key", object);
  bool cut = false;
  origin_.on_request([&](const testing::FakeOrigin::Request& request) {
    std::optional<std::size_t> fault;
    if (!cut && request.header("range") == chunk_range(5, object.size())) fault = 1000;
    cut = cut || fault.has_value();
    return fault;
  });
  const auto miss = get("/bucket/key");
  EXPECT_TRUE(miss.complete);
  EXPECT_EQ(miss.body, object);
  const auto ranged = ranged_requests();
  EXPECT_TRUE(std::any_of(ranged.begin(), ranged.end(), [&](const auto& request) {
    return request.header("range") == chunk_range(5, object.size(), 1000);
  }));
  EXPECT_EQ(get("/bucket/key").header("x-cache"), "HIT");
}

TEST_F(ParallelFillTest, ARangeFailingAgainEndsTheAnswerEarlyWithNoWrongByteAndNothingCached) {
  const auto object = object_of(3'000'000);
  origin_.put("/bucket/key", object);
  // Chunk 5, and its second attempt from its first missing byte.
  const auto chunk_5_end = '-' + std::to_string(6 * kChunk - 1);
  origin_.on_request([&](const testing::FakeOrigin::Request& request) {
    std::optional<std::size_t> fault;
    if (request.header("range").ends_with(chunk_5_end)) fault = 1000;
    return fault;
  });
  const auto broken = get("/bucket/key");
  EXPECT_FALSE(broken.complete);
  EXPECT_LT(broken.body.size(), object.size());
  EXPECT_EQ(broken.body, object.substr(0, broken.body.size()));
  origin_.on_request(nullptr);
  const auto again = get("/bucket/key");
  EXPECT_EQ(again.header("x-cache"), "MISS");
  EXPECT_EQ(again.body, object);
}

TEST_F(ParallelFillTest, AnObjectChangedDuringTheFillEndsTheAnswerEarlyWithNoByteOfTheNewOne) {
  const auto old_object = object_of(3'000'000);
  origin_.put("/bucket/key", old_object);
  const auto new_object = std::string(3'000'000, '#');
  origin_.on_request([&](const testing::FakeOrigin::Request& request) {
    // The first ranged request finds a new version: 412 to its If-Match.
    if (request.has("range") && origin_.etag_of("/bucket/key") == request.header("if-match")) {
      origin_.put("/bucket/key", new_object);
    }
    return std::optional<std::size_t>();
  });
  const auto changed = get("/bucket/key");
  EXPECT_FALSE(changed.complete);
  EXPECT_EQ(changed.body, old_object.substr(0, changed.body.size()));
  EXPECT_EQ(changed.body.find('#'), std::string::npos);
  origin_.on_request(nullptr);
  EXPECT_EQ(get("/bucket/key").body, new_object);
}

// Sequential read-ahead (pipeline/read_ahead.h): ranges of 100,000 bytes of a 1,000,000-byte
// object, two ranges fetched ahead.
class ReadAheadTest : public ReadPathTest {
 protected:
  static constexpr std::uint64_t kRange = 100'000;

  ReadAheadTest() { origin_.put("/bucket/key", object_); }
  ~ReadAheadTest() override {
    // Read-aheads still running end before the origin and the contexts go (each test waits
    // for those it started to be counted).
    run_until([&] { return cache_metrics_.fills_in_flight.value() == 0; });
  }

  static std::string range(std::uint64_t n) {
    return "bytes=" + std::to_string(n * kRange) + "-" + std::to_string((n + 1) * kRange - 1);
  }
  Answer get_range(std::uint64_t n, const std::string& headers = "") {
    return get("/bucket/key", "Range: " + range(n) + "\r\n" + headers);
  }
  std::string bytes_of(std::uint64_t n) const { return object_.substr(n * kRange, kRange); }
  std::uint64_t read_aheads() const {
    return cache_metrics_.read_ahead_fetched.value() + cache_metrics_.read_ahead_cached.value() +
           cache_metrics_.read_ahead_filling.value() + cache_metrics_.read_ahead_refused.value() +
           cache_metrics_.read_ahead_failed.value();
  }
  std::size_t origin_requests_for(std::uint64_t n) const {
    std::size_t count = 0;
    for (const auto& request : origin_.requests()) count += request.header("range") == range(n);
    return count;
  }

  const std::string object_ = object_of(1'000'000);
};

TEST_F(ReadAheadTest, RangesFollowingEachOtherHaveTheNextOnesCachedAhead) {
  EXPECT_EQ(get_range(0).header("x-cache"), "MISS");
  EXPECT_EQ(read_aheads(), 0u);  // one range says nothing of the next
  EXPECT_EQ(get_range(1).body, bytes_of(1));
  run_until([&] { return read_aheads() == 2; });
  EXPECT_EQ(cache_metrics_.read_ahead_fetched.value(), 2u);
  // Asked for with the client's request, pinned to the version it reads.
  for (const auto& request : origin_.requests()) {
    if (request.header("range") == range(2)) {
      EXPECT_EQ(request.header("if-match"), origin_.etag_of("/bucket/key"));
    }
  }
  for (std::uint64_t n = 2; n < 10; ++n) {
    const auto next = get_range(n);
    EXPECT_EQ(next.header("x-cache"), "HIT") << n;
    EXPECT_EQ(next.body, bytes_of(n)) << n;
    // The window slid by one range, up to the last one (9).
    run_until([&] { return read_aheads() == std::min<std::uint64_t>(n + 1, 8); });
  }
  EXPECT_EQ(cache_metrics_.read_ahead_fetched.value(), 8u);
  // Each range asked of the origin once, none past the object's end.
  for (std::uint64_t n = 0; n < 10; ++n) EXPECT_EQ(origin_requests_for(n), 1u) << n;
  EXPECT_EQ(origin_requests(), 10u);
}

TEST_F(ReadAheadTest, SignedRangesRandomRangesAndTheOffSwitchGetNone) {
  const std::string signed_range =
      "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, "
      "SignedHeaders=host;range;x-amz-date, Signature=0123\r\n";
  EXPECT_EQ(get_range(0, signed_range).body, bytes_of(0));
  EXPECT_EQ(get_range(1, signed_range).body, bytes_of(1));
  EXPECT_EQ(get_range(5).body, bytes_of(5));
  EXPECT_EQ(get_range(3).body, bytes_of(3));
  EXPECT_EQ(get_range(7).body, bytes_of(7));
  cache_.policy.read_ahead.enabled = false;
  EXPECT_EQ(get_range(8).body, bytes_of(8));
  EXPECT_EQ(read_aheads(), 0u);
  EXPECT_EQ(origin_requests(), 6u);
}

TEST_F(ReadAheadTest, AFailingReadAheadIsDroppedAndTheClientStillGetsItsBytes) {
  // The read-ahead of range 2 is cut short.
  bool cut = false;
  origin_.on_request([&](const testing::FakeOrigin::Request& request) {
    std::optional<std::size_t> fault;
    if (!cut && request.header("range") == range(2)) fault = 1000;
    cut = cut || fault.has_value();
    return fault;
  });
  get_range(0);
  EXPECT_EQ(get_range(1).body, bytes_of(1));
  run_until([&] { return read_aheads() == 2; });
  EXPECT_EQ(cache_metrics_.read_ahead_failed.value(), 1u);
  EXPECT_EQ(cache_metrics_.read_ahead_fetched.value(), 1u);
  const auto second = get_range(2);
  EXPECT_EQ(second.header("x-cache"), "PARTIAL");  // a record of the object, without range 2
  EXPECT_EQ(second.body, bytes_of(2));
  EXPECT_EQ(get_range(3).header("x-cache"), "HIT");
  run_until([&] { return read_aheads() == 4; });  // ranges 4 and 5, after ranges 2 and 3
}

TEST_F(ReadAheadTest, RangesAlreadyCachedAreNotFetchedAgain) {
  EXPECT_EQ(get_range(2).body, bytes_of(2));  // cached before anyone reads ahead
  get_range(0);
  get_range(1);
  run_until([&] { return read_aheads() == 2; });
  EXPECT_EQ(cache_metrics_.read_ahead_cached.value(), 1u);
  EXPECT_EQ(cache_metrics_.read_ahead_fetched.value(), 1u);
  EXPECT_EQ(origin_requests_for(2), 1u);
}

TEST_F(ReadAheadTest, RangesAnotherRequestFillsAreLeftToIt) {
  // Range 2's fill lease held, as by another proxy filling it.
  const auto lease = cache::FillLease::try_acquire(
      store_.layout().path_of(cache::kFillLeaseDir),
      fill_name({.bucket = "bucket", .key = "key"}, std::nullopt, range(2)));
  ASSERT_TRUE(lease);
  get_range(0);
  get_range(1);
  run_until([&] { return read_aheads() == 2; });
  EXPECT_EQ(cache_metrics_.read_ahead_filling.value(), 1u);
  EXPECT_EQ(cache_metrics_.read_ahead_fetched.value(), 1u);
  EXPECT_EQ(origin_requests_for(2), 0u);
}

}  // namespace
}  // namespace s3hc::pipeline
