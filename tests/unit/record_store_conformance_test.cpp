// One conformance suite for every way a proxy reads and writes the shared records: the plain
// RecordStore, and the MirroredRecordStore in strict mode with and without a local mirror.
// Whatever one proxy holds in front of the shared directory, two proxies on one directory
// must see each other's changes at once and never lose one another's update (the pattern of
// Envoy's http_cache_implementation_test_common.h: one suite, one factory per implementation).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cache/store/mirrored_record_store.h"
#include "cache/store/record_store.h"
#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

// One proxy's access to the shared records, whatever stands in front of them.
class RecordAccess {
 public:
  virtual ~RecordAccess() = default;
  virtual std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key) = 0;
  // What the shared directory holds now, for replace().
  virtual SharedRecord current(std::string_view bucket, std::string_view key) = 0;
  // Compare-and-swap: false, with nothing written, when the record is no longer `current`.
  virtual bool replace(v1::CacheRecord& record, const SharedRecord& current) = 0;
  virtual bool remove(std::string_view bucket, std::string_view key) = 0;
};

class SharedAccess final : public RecordAccess {
 public:
  explicit SharedAccess(const std::string& root) : store_(CacheLayout(root)) {}
  std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key) override {
    return store_.load(bucket, key);
  }
  SharedRecord current(std::string_view bucket, std::string_view key) override {
    return store_.load_current(bucket, key);
  }
  bool replace(v1::CacheRecord& record, const SharedRecord& current) override {
    return store_.replace(record, current).has_value();
  }
  bool remove(std::string_view bucket, std::string_view key) override {
    return store_.remove(bucket, key);
  }

 private:
  RecordStore store_;
};

class MirroredAccess final : public RecordAccess {
 public:
  // `mirror_dir` empty: no mirror.
  MirroredAccess(const std::string& root, const std::string& mirror_dir)
      : store_(RecordStore(CacheLayout(root)),
               mirror_dir.empty() ? nullptr : MetadataMirror::open(mirror_dir)) {}
  std::optional<v1::CacheRecord> load(std::string_view bucket, std::string_view key) override {
    const auto known = store_.load(bucket, key, util::unix_now_ms());
    if (!known) return std::nullopt;
    return *known->record;
  }
  SharedRecord current(std::string_view bucket, std::string_view key) override {
    return store_.shared().load_current(bucket, key);
  }
  bool replace(v1::CacheRecord& record, const SharedRecord& current) override {
    return store_.replace(record, current, util::unix_now_ms()).has_value();
  }
  bool remove(std::string_view bucket, std::string_view key) override {
    return store_.remove(bucket, key);
  }

 private:
  MirroredRecordStore store_;
};

struct Implementation {
  std::string name;
  // A proxy on the shared directory `root`; `local` is that proxy's own local directory.
  std::function<std::unique_ptr<RecordAccess>(const std::string& root, const fs::path& local)>
      open;
};

const Implementation kImplementations[] = {
    {"RecordStore",
     [](const std::string& root, const fs::path&) {
       return std::make_unique<SharedAccess>(root);
     }},
    {"MirroredStrict",
     [](const std::string& root, const fs::path& local) {
       return std::make_unique<MirroredAccess>(root, (local / "mirror").string());
     }},
    {"MirroredWithoutMirror",
     [](const std::string& root, const fs::path&) {
       return std::make_unique<MirroredAccess>(root, "");
     }},
};

class RecordStoreConformanceTest : public ::testing::TestWithParam<Implementation> {
 protected:
  static v1::CacheRecord record(const std::string& etag, const std::string& key = "key") {
    v1::CacheRecord r;
    r.set_bucket("bucket");
    r.set_key(key);
    r.set_etag(etag);
    r.set_size(42);
    return r;
  }

  // Stores `etag` through `proxy`, whatever the record is now.
  static v1::CacheRecord store(RecordAccess& proxy, const std::string& etag) {
    auto r = record(etag);
    while (!proxy.replace(r, proxy.current("bucket", "key"))) {
    }
    return r;
  }

  static std::string etag_seen(RecordAccess& proxy, const std::string& key = "key") {
    const auto loaded = proxy.load("bucket", key);
    return loaded ? loaded->etag() : "<none>";
  }

  s3hc::testing::TempDir shared_{"conformance-shared"};
  s3hc::testing::TempDir local_a_{"conformance-a"};
  s3hc::testing::TempDir local_b_{"conformance-b"};
  std::unique_ptr<RecordAccess> a_ = GetParam().open(shared_.string(), local_a_.path());
  std::unique_ptr<RecordAccess> b_ = GetParam().open(shared_.string(), local_b_.path());
};

TEST_P(RecordStoreConformanceTest, StoresLoadsAndCountsGenerations) {
  EXPECT_EQ(etag_seen(*a_), "<none>");
  EXPECT_EQ(store(*a_, "\"v1\"").generation(), 1u);
  EXPECT_EQ(store(*a_, "\"v2\"").generation(), 2u);
  const auto loaded = a_->load("bucket", "key");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->etag(), "\"v2\"");
  EXPECT_EQ(loaded->generation(), 2u);
  EXPECT_EQ(loaded->size(), 42u);
}

TEST_P(RecordStoreConformanceTest, AWriteThroughOneProxyIsSeenThroughTheOtherAtOnce) {
  store(*a_, "\"v1\"");
  EXPECT_EQ(etag_seen(*b_), "\"v1\"");  // b now holds v1, wherever it keeps it
  for (int round = 2; round < 20; ++round) {
    const auto etag = "\"v" + std::to_string(round) + "\"";
    store(*a_, etag);
    EXPECT_EQ(etag_seen(*b_), etag);
    EXPECT_EQ(etag_seen(*a_), etag);
  }
}

TEST_P(RecordStoreConformanceTest, ARemoveThroughOneProxyIsSeenThroughTheOtherAtOnce) {
  store(*a_, "\"v1\"");
  EXPECT_EQ(etag_seen(*b_), "\"v1\"");
  EXPECT_TRUE(a_->remove("bucket", "key"));
  EXPECT_EQ(etag_seen(*b_), "<none>");
  EXPECT_FALSE(b_->remove("bucket", "key"));
}

TEST_P(RecordStoreConformanceTest, ReplaceRefusesWhatAnotherProxyChangedMeanwhile) {
  store(*a_, "\"v1\"");
  const auto seen_by_a = a_->current("bucket", "key");
  store(*b_, "\"theirs\"");
  auto mine = record("\"mine\"");
  EXPECT_FALSE(a_->replace(mine, seen_by_a));
  EXPECT_EQ(etag_seen(*a_), "\"theirs\"");
  EXPECT_TRUE(a_->replace(mine, a_->current("bucket", "key")));
  EXPECT_EQ(etag_seen(*b_), "\"mine\"");
  EXPECT_EQ(b_->load("bucket", "key")->generation(), 3u);
}

TEST_P(RecordStoreConformanceTest, OnlyOneOfTwoCreatorsOfANewRecordWins) {
  const auto none = a_->current("bucket", "key");
  EXPECT_FALSE(none.stamp);
  auto first = record("\"first\"");
  auto second = record("\"second\"");
  EXPECT_TRUE(a_->replace(first, none));
  EXPECT_FALSE(b_->replace(second, none));
  EXPECT_EQ(etag_seen(*b_), "\"first\"");
}

TEST_P(RecordStoreConformanceTest, ARecordOfAnotherObjectAtThePathIsAMiss) {
  // As after a hash collision: the file at this object's path holds another object's record.
  store(*a_, "\"v1\"");
  auto other = record("\"other\"", "other-key");
  while (!a_->replace(other, a_->current("bucket", "other-key"))) {
  }
  const CacheLayout layout(shared_.string());
  fs::copy_file(layout.record_path("bucket", "other-key"), layout.record_path("bucket", "key"),
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(etag_seen(*b_), "<none>");
  EXPECT_EQ(etag_seen(*a_), "<none>");
  EXPECT_EQ(etag_seen(*a_, "other-key"), "\"other\"");
}

INSTANTIATE_TEST_SUITE_P(Implementations, RecordStoreConformanceTest,
                         ::testing::ValuesIn(kImplementations),
                         [](const ::testing::TestParamInfo<Implementation>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace s3hc::cache
