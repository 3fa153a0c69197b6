#include "pipeline/cached_body.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <random>
#include <string>

#include "cache/store/object_store.h"
#include "cache/store/page_cache.h"
#include "cache/store/upload_store.h"
#include "client_socket.h"
#include "http/client_connection.h"
#include "http/deadline.h"
#include "obs/cache_metrics.h"
#include "obs/metrics.h"
#include "temp_dir.h"
#include "util/unique_fd.h"
#include "util/wall_clock.h"

namespace s3hc::pipeline {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using Sent = CachedBody::Sent;

// Where cache file I/O runs: the event loop, or a pool (with or without sendfile from the page
// cache, as on a local and a network file system).
enum class CacheIo { kInline, kPool, kPoolAndPageCache };

// The three ways of sending cached bytes, each checked by what the client receives.
class CachedBodyTest : public ::testing::TestWithParam<CacheIo> {
 protected:
  CachedBodyTest()
      : store_(cache::CacheLayout(dir_.string()),
               {.block_size = 64 * 1024, .ram_bytes = 4 << 20, .ram_max_entry_bytes = 16 << 10}),
        uploads_(store_, nullptr),
        metrics_(registry_),
        cache_{.store = store_,
               .uploads = uploads_,
               .io = GetParam() == CacheIo::kInline ? nullptr : &pool_,
               .sendfile_from_page_cache = GetParam() == CacheIo::kPoolAndPageCache,
               .admission = nullptr,
               .fills = fills_,
               .policy = {},
               .policies = nullptr,
               .addressing = {},
               .metrics = metrics_,
               .buckets = nullptr,
               .sequential_reads = nullptr} {
    std::mt19937 generator(3);
    object_.resize(300'000);  // random: its blocks are stored raw, so sendfile can send them
    for (auto& byte : object_) byte = static_cast<char>(generator());
    cache::ObjectMeta meta;
    meta.etag = "\"v1\"";
    meta.size = object_.size();
    auto fill = store_.begin_fill({"bucket", "key"}, meta, 0, true, util::unix_now_ms());
    fill->append(object_);
    const auto record = store_.commit(*fill);
    EXPECT_TRUE(record);
    if (record) record_ = *record;
  }

  // Sends `bytes` (a whole answer after "header|", or a stretch) to a new client connection;
  // what it received.
  std::string send(s3::ByteRange bytes, Sent expected, bool stretch = false) {
    asio::io_context io;
    testing::ClientSocketPair sockets(io);
    http::DeadlineSweeper sweeper(io.get_executor(), 10ms);
    auto received = sockets.receive_until_close();
    {
      http::ClientConnection client(std::move(sockets.proxy_side), 4096, sweeper);
      http::ClientWriter writer(client, 5000ms, sent_bytes_);
      http::RelayBuffers pieces(kCachePieceBytes, 2, pieces_on_loan_);
      CachedBody body(cache_, pieces, record_, true);
      // (A named closure: a coroutine lambda must outlive its coroutine.)
      const auto answer = [&]() -> asio::awaitable<void> {
        // (if/else, not ?:: GCC 12 miscompiles co_await inside a conditional expression)
        Sent sent;
        if (stretch) {
          sent = co_await body.send_stretch(writer, bytes);
        } else {
          sent = co_await body.send(writer, "header|", bytes);
        }
        EXPECT_EQ(sent, expected);
      };
      asio::co_spawn(io, sweeper.run(), asio::detached);
      asio::co_spawn(io, answer(), [&](std::exception_ptr error) {
        io.stop();
        if (error) std::rethrow_exception(error);
      });
      io.run();
      client.shutdown_and_close();
    }
    wait_for_pool_to_let_go();
    EXPECT_EQ(pieces_on_loan_.value(), 0);  // every piece given back, however the answer went
    return received.get();
  }

  // The pool's thread may still hold an executor of `io` (it let go of the answer's coroutine
  // but not yet of the hand-off back) after io.stop(): `io` must outlive that. The pool has one
  // thread, so a task posted now runs only after it.
  void wait_for_pool_to_let_go() {
    std::promise<void> idle;
    asio::post(pool_, [&idle] { idle.set_value(); });
    idle.get_future().wait();
  }

  // Written back, then dropped (clean pages of a file nobody maps leave at once); false
  // where the file system keeps its pages anyway (tmpfs).
  bool drop_range_files_from_page_cache() const {
    bool dropped = true;
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      if (entry.path().extension() != ".rng") continue;
      const util::UniqueFd file(::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC));
      EXPECT_EQ(::fdatasync(file.get()), 0);
      EXPECT_EQ(::posix_fadvise(file.get(), 0, 0, POSIX_FADV_DONTNEED), 0);
      dropped = dropped && !cache::in_page_cache(file.get(), 0, 4096);
    }
    return dropped;
  }

  std::string header_and(s3::ByteRange bytes) const {
    return "header|" + object_.substr(bytes.first, bytes.length());
  }

  testing::TempDir dir_{"cached-body"};
  cache::ObjectStore store_;
  cache::UploadStore uploads_;
  FillRegistry fills_;
  obs::MetricsRegistry registry_;
  obs::CacheMetrics metrics_;
  asio::thread_pool pool_{1};
  CacheContext cache_;
  obs::Counter sent_bytes_;
  obs::Gauge pieces_on_loan_;
  std::string object_;
  v1::CacheRecord record_;
};

TEST_P(CachedBodyTest, LargeAnswersGoOutWholeTheFirstTimeAndAfter) {
  const s3::ByteRange all{0, object_.size() - 1};
  // The first answer verifies the blocks it reads; the next may send them from their files.
  EXPECT_EQ(send(all, Sent::kAll), header_and(all));
  EXPECT_EQ(send(all, Sent::kAll), header_and(all));
  const s3::ByteRange inner{70'001, 250'000};
  EXPECT_EQ(send(inner, Sent::kAll), header_and(inner));
  EXPECT_EQ(metrics_.served_bytes.value(), 2 * all.length() + inner.length());
  EXPECT_EQ(sent_bytes_.value(), 3 * 7 + 2 * all.length() + inner.length());
  EXPECT_EQ(metrics_.ram_hits.value(), 0u);  // too large for the RAM tier
  // Once verified, the blocks went straight from the page cache, unless the pool reads them.
  const auto from_files = GetParam() == CacheIo::kPool ? 0 : all.length() + inner.length();
  EXPECT_EQ(metrics_.sendfile_bytes.value(), from_files);
}

TEST_P(CachedBodyTest, BytesThePageCacheDoesNotHoldAreReadOnThePool) {
  const s3::ByteRange all{0, object_.size() - 1};
  EXPECT_EQ(send(all, Sent::kAll), header_and(all));  // verifies the blocks
  if (!drop_range_files_from_page_cache()) GTEST_SKIP() << "this file system keeps its pages";
  EXPECT_EQ(send(all, Sent::kAll), header_and(all));
  const auto sent_from_page_cache = metrics_.sendfile_bytes.value();
  // An event loop reads the disk itself only when it does all the cache I/O anyway.
  EXPECT_EQ(sent_from_page_cache, GetParam() == CacheIo::kInline ? all.length() : 0u);
  // That read brought the bytes into the page cache.
  EXPECT_EQ(send(all, Sent::kAll), header_and(all));
  EXPECT_EQ(metrics_.sendfile_bytes.value() - sent_from_page_cache,
            GetParam() == CacheIo::kPool ? 0u : all.length());
}

TEST_P(CachedBodyTest, SmallAnswersAreReadIntoMemoryThenServedFromIt) {
  const s3::ByteRange small{1000, 9999};
  EXPECT_EQ(send(small, Sent::kAll), header_and(small));
  EXPECT_EQ(metrics_.ram_hits.value(), 0u);
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
    if (entry.path().extension() == ".rng") fs::remove(entry.path());
  }
  EXPECT_EQ(send(small, Sent::kAll), header_and(small));  // no file needed
  EXPECT_EQ(metrics_.ram_hits.value(), 1u);
}

TEST_P(CachedBodyTest, AStretchGoesOutWithoutAHeader) {
  const s3::ByteRange stretch{5, 150'000};
  EXPECT_EQ(send(stretch, Sent::kAll, true), object_.substr(5, stretch.length()));
}

TEST_P(CachedBodyTest, NothingIsSentWhenTheFilesAreGone) {
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
    if (entry.path().extension() == ".rng") fs::remove(entry.path());
  }
  EXPECT_EQ(send({0, object_.size() - 1}, Sent::kUnreadable), "");
  EXPECT_EQ(send({0, 999}, Sent::kUnreadable), "");  // through the RAM tier
  EXPECT_EQ(send({0, 999}, Sent::kUnreadable, true), "");
  EXPECT_EQ(sent_bytes_.value(), 0u);
  EXPECT_EQ(metrics_.served_bytes.value(), 0u);
}

INSTANTIATE_TEST_SUITE_P(IoPool, CachedBodyTest,
                         ::testing::Values(CacheIo::kInline, CacheIo::kPool,
                                           CacheIo::kPoolAndPageCache),
                         [](const auto& info) {
                           switch (info.param) {
                             case CacheIo::kInline: return "Inline";
                             case CacheIo::kPool: return "OnAPool";
                             case CacheIo::kPoolAndPageCache: return "OnAPoolWithPageCache";
                           }
                           return "";
                         });

}  // namespace
}  // namespace s3hc::pipeline
