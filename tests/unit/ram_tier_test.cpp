#include "cache/store/ram_tier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace s3hc::cache {
namespace {

std::string object_name(int n) { return RamTier::identity("bucket", std::to_string(n)); }

v1::CacheRecord version(std::uint64_t generation, std::string etag = "\"e1\"",
                        std::uint64_t size = 1 << 20) {
  v1::CacheRecord record;
  record.set_bucket("bucket");
  record.set_generation(generation);
  record.set_etag(std::move(etag));
  record.set_size(size);
  return record;
}

// ETags that name their generation, so that a record served can be checked.
std::string etag_of(std::uint64_t generation) {
  std::string etag = "\"e";
  etag.append(std::to_string(generation)).push_back('"');
  return etag;
}

// The record as the RAM tier holds it (stamp and check time are the callers' business).
KnownRecord shared(v1::CacheRecord record) {
  return KnownRecord{.record = std::make_shared<const v1::CacheRecord>(std::move(record)),
                     .stamp = {},
                     .checked_at_unix_ms = 0,
                     .change_mark = {}};
}

// The object's bytes as version `generation` has them: any byte served can be checked.
char byte_at(int object, std::uint64_t generation, std::uint64_t offset) {
  return static_cast<char>('a' + (object * 7 + generation * 3 + offset) % 26);
}

std::shared_ptr<const std::string> payload(int object, std::uint64_t generation,
                                           std::uint64_t first, std::size_t length) {
  auto bytes = std::make_shared<std::string>(length, '\0');
  for (std::size_t i = 0; i < length; ++i) (*bytes)[i] = byte_at(object, generation, first + i);
  return bytes;
}

bool holds_bytes(const RamTier& tier, int object, const v1::CacheRecord& record,
                 std::uint64_t first, std::uint64_t last) {
  return tier.bytes(object_name(object), record, first, last).has_value();
}

RamTierOptions one_shard(std::size_t capacity) {
  return {.capacity_bytes = capacity, .shards = 1};
}

TEST(RamTierTest, HoldsRecordsAndCountsHitsAndMisses) {
  RamTier tier(one_shard(1 << 20));
  EXPECT_FALSE(tier.record(object_name(1)));
  tier.put_record(object_name(1), shared(version(4)));
  const auto held = tier.record(object_name(1));
  ASSERT_TRUE(held);
  EXPECT_EQ(held->record->generation(), 4u);
  EXPECT_FALSE(tier.record(object_name(2)));
  const auto stats = tier.stats();
  EXPECT_EQ(stats.record_hits, 1u);
  EXPECT_EQ(stats.record_misses, 2u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_GT(stats.bytes, 0u);
}

TEST(RamTierTest, ServesBytesWithinALargerHeldRange) {
  RamTier tier(one_shard(1 << 20));
  const auto record = version(1);
  tier.put_bytes(object_name(1), record, 100, payload(1, 1, 100, 1000));  // bytes 100..1099

  const auto part = tier.bytes(object_name(1), record, 150, 199);
  ASSERT_TRUE(part.has_value());
  EXPECT_EQ(part->view(), payload(1, 1, 150, 50)->substr());
  const auto whole = tier.bytes(object_name(1), record, 100, 1099);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->length, 1000u);
  EXPECT_EQ(whole->data.get(), part->data.get()) << "a hit must not copy the bytes";

  EXPECT_FALSE(holds_bytes(tier, 1, record, 99, 150));    // starts before the range
  EXPECT_FALSE(holds_bytes(tier, 1, record, 1000, 1100)); // runs past its end
  EXPECT_FALSE(holds_bytes(tier, 2, record, 150, 199));   // another object
  EXPECT_EQ(tier.stats().byte_hits, 2u);
  EXPECT_EQ(tier.stats().byte_misses, 3u);
}

TEST(RamTierTest, NewerRecordDropsBytesOfOlderGenerations) {
  RamTier tier(one_shard(1 << 20));
  const auto old_version = version(1);
  tier.put_record(object_name(1), shared(old_version));
  tier.put_bytes(object_name(1), old_version, 0, payload(1, 1, 0, 500));
  ASSERT_TRUE(holds_bytes(tier, 1, old_version, 0, 499));
  ASSERT_EQ(tier.stats().entries, 2u);

  const auto new_version = version(2);
  tier.put_record(object_name(1), shared(new_version));
  EXPECT_FALSE(holds_bytes(tier, 1, old_version, 0, 499));
  EXPECT_FALSE(holds_bytes(tier, 1, new_version, 0, 499));
  EXPECT_EQ(tier.record(object_name(1))->record->generation(), 2u);
  EXPECT_EQ(tier.stats().entries, 1u);

  // Bytes read with the replaced record come too late to be kept.
  tier.put_bytes(object_name(1), old_version, 0, payload(1, 1, 0, 500));
  EXPECT_EQ(tier.stats().entries, 1u);
}

TEST(RamTierTest, OtherVersionsMissAndANewerGenerationDropsOlderBytes) {
  RamTier tier(one_shard(1 << 20));
  tier.put_bytes(object_name(1), version(5), 0, payload(1, 5, 0, 100));

  EXPECT_FALSE(holds_bytes(tier, 1, version(4), 0, 99));
  EXPECT_FALSE(holds_bytes(tier, 1, version(5, "\"other\""), 0, 99));
  EXPECT_FALSE(holds_bytes(tier, 1, version(5, "\"e1\"", 999), 0, 99));
  EXPECT_TRUE(holds_bytes(tier, 1, version(5), 0, 99)) << "older lookups drop nothing";

  EXPECT_FALSE(holds_bytes(tier, 1, version(6), 0, 99));
  EXPECT_EQ(tier.stats().entries, 0u) << "a lookup of generation 6 drops generation 5";
  EXPECT_EQ(tier.stats().bytes, 0u);
  EXPECT_FALSE(holds_bytes(tier, 1, version(5), 0, 99));
}

TEST(RamTierTest, RecordOfARestartedGenerationReplacesTheHeldOne) {
  // The object was deleted from the shared directory and cached again: its generations
  // restarted, and its generation 1 is newer than the generation 7 held.
  RamTier tier(one_shard(1 << 20));
  tier.put_record(object_name(1), shared(version(7, "\"old\"")));
  tier.put_bytes(object_name(1), version(7, "\"old\""), 0, payload(1, 7, 0, 100));

  tier.put_record(object_name(1), shared(version(1, "\"new\"")));
  EXPECT_EQ(tier.record(object_name(1))->record->etag(), "\"new\"");
  EXPECT_EQ(tier.stats().entries, 1u);
  tier.put_bytes(object_name(1), version(1, "\"new\""), 0, payload(1, 1, 0, 100));
  EXPECT_TRUE(holds_bytes(tier, 1, version(1, "\"new\""), 0, 99));
}

TEST(RamTierTest, InvalidateDropsRecordAndBytes) {
  RamTier tier(one_shard(1 << 20));
  const auto record = version(3);
  tier.put_record(object_name(1), shared(record));
  tier.put_bytes(object_name(1), record, 0, payload(1, 3, 0, 100));
  tier.put_bytes(object_name(1), record, 1000, payload(1, 3, 1000, 100));
  tier.put_record(object_name(2), shared(record));
  ASSERT_EQ(tier.stats().entries, 4u);

  tier.invalidate(object_name(1));
  EXPECT_FALSE(tier.record(object_name(1)));
  EXPECT_FALSE(holds_bytes(tier, 1, record, 0, 99));
  EXPECT_FALSE(holds_bytes(tier, 1, record, 1000, 1099));
  EXPECT_TRUE(tier.record(object_name(2)));
  EXPECT_EQ(tier.stats().entries, 1u);

  tier.invalidate(object_name(2));
  EXPECT_EQ(tier.stats().bytes, 0u) << "the accounting returns to zero";
}

TEST(RamTierTest, KeepsNoRangeLongerThanMaxEntryBytes) {
  RamTier tier({.capacity_bytes = 4 << 20, .max_entry_bytes = 64 << 10, .shards = 1});
  const auto record = version(1);
  tier.put_bytes(object_name(1), record, 0, payload(1, 1, 0, (64 << 10) + 1));
  EXPECT_EQ(tier.stats().entries, 0u);
  tier.put_bytes(object_name(2), record, 0, payload(2, 1, 0, 64 << 10));
  EXPECT_TRUE(holds_bytes(tier, 2, record, 0, (64 << 10) - 1));
  EXPECT_FALSE(holds_bytes(tier, 1, record, 0, 0));
}

TEST(RamTierTest, FewerShardsWhereEachCouldNotHoldTheLongestEntries) {
  // Sixteen shards of 1 MiB could never keep a 4 MiB range: one shard of 16 MiB does, as
  // does the one shard of a tier barely larger than that range.
  RamTier tier({.capacity_bytes = 16 << 20, .max_entry_bytes = 4 << 20, .shards = 16});
  const auto record = version(1, "\"e1\"", 16 << 20);
  tier.put_bytes(object_name(1), record, 0, payload(1, 1, 0, 4 << 20));
  EXPECT_TRUE(holds_bytes(tier, 1, record, 0, (4 << 20) - 1));
  RamTier small({.capacity_bytes = (4 << 20) + 4096, .max_entry_bytes = 4 << 20, .shards = 16});
  small.put_bytes(object_name(1), record, 0, payload(1, 1, 0, 4 << 20));
  EXPECT_TRUE(holds_bytes(small, 1, record, 0, (4 << 20) - 1));
}

TEST(RamTierTest, ARangeHeldWithinAnotherIsNotKeptTwice) {
  RamTier tier(one_shard(1 << 20));
  const auto record = version(1);
  tier.put_bytes(object_name(1), record, 100, payload(1, 1, 100, 100));
  tier.put_bytes(object_name(1), record, 300, payload(1, 1, 300, 100));
  tier.put_bytes(object_name(1), record, 0, payload(1, 1, 0, 1000));
  EXPECT_EQ(tier.stats().entries, 1u) << "the larger range replaces the two within it";
  tier.put_bytes(object_name(1), record, 500, payload(1, 1, 500, 10));
  EXPECT_EQ(tier.stats().entries, 1u) << "already held";
  EXPECT_TRUE(holds_bytes(tier, 1, record, 120, 350));
}

TEST(RamTierTest, CapacityIsNeverExceededUnderRandomPuts) {
  constexpr std::size_t kCapacity = 64 << 10;
  RamTier tier({.capacity_bytes = kCapacity, .max_entry_bytes = 8 << 10, .shards = 4});
  std::mt19937_64 rng(7);
  std::uint64_t most = 0;
  for (int op = 0; op < 20000; ++op) {
    const int object = static_cast<int>(rng() % 200);
    const auto record = version(1 + rng() % 3);
    switch (rng() % 5) {
      case 0:
        tier.put_record(object_name(object), shared(record));
        break;
      case 1:
      case 2: {
        const auto first = rng() % 4096;
        const auto length = 1 + rng() % (10 << 10);  // some beyond max_entry_bytes
        tier.put_bytes(object_name(object), record, first,
                       payload(object, record.generation(), first, length));
        break;
      }
      case 3:
        tier.record(object_name(object));
        break;
      default:
        if (rng() % 8 == 0) tier.invalidate(object_name(object));
    }
    const auto bytes = tier.stats().bytes;
    ASSERT_LE(bytes, kCapacity) << "after operation " << op;
    most = std::max(most, bytes);
  }
  EXPECT_GT(most, kCapacity / 2) << "the tier held little: the test proves nothing";
  for (int object = 0; object < 200; ++object) tier.invalidate(object_name(object));
  EXPECT_EQ(tier.stats().bytes, 0u);
  EXPECT_EQ(tier.stats().entries, 0u);
}

// Requests for an object: each looks its record up (one access) and puts the bytes on a miss.
void request(RamTier& tier, int object, int times, std::size_t length) {
  const auto record = version(1);
  for (int i = 0; i < times; ++i) {
    tier.record(object_name(object));
    if (!holds_bytes(tier, object, record, 0, length - 1)) {
      tier.put_bytes(object_name(object), record, 0, payload(object, 1, 0, length));
    }
  }
}

TEST(RamTierTest, AScanOfOneHitObjectsDoesNotFlushTheHotSet) {
  constexpr std::size_t kCapacity = 1 << 20;
  constexpr std::size_t kLength = 4 << 10;
  RamTier tier(one_shard(kCapacity));
  constexpr int kHot = 100;  // about 40% of the capacity
  for (int object = 0; object < kHot; ++object) request(tier, object, 10, kLength);

  const int scan = static_cast<int>(10 * kCapacity / kLength);
  for (int object = kHot; object < kHot + scan; ++object) request(tier, object, 1, kLength);

  int survived = 0;
  for (int object = 0; object < kHot; ++object) {
    if (holds_bytes(tier, object, version(1), 0, kLength - 1)) ++survived;
  }
  EXPECT_GE(survived, kHot * 8 / 10);
  EXPECT_GT(tier.stats().admissions_rejected, 0u);
  EXPECT_LE(tier.stats().bytes, kCapacity);
}

TEST(RamTierTest, ObjectsAskedForMoreOftenDisplaceLessPopularOnes) {
  constexpr std::size_t kCapacity = 1 << 20;
  constexpr std::size_t kLength = 4 << 10;
  RamTier tier(one_shard(kCapacity));
  for (int object = 0; object < 300; ++object) request(tier, object, 3, kLength);  // fills it

  // Asked for more often than anything held: admitted, the first time the tier is asked to.
  for (int object = 1000; object < 1050; ++object) {
    for (int i = 0; i < 5; ++i) tier.record(object_name(object));
    request(tier, object, 1, kLength);
  }
  int admitted = 0;
  for (int object = 1000; object < 1050; ++object) {
    if (holds_bytes(tier, object, version(1), 0, kLength - 1)) ++admitted;
  }
  EXPECT_EQ(admitted, 50);
}

TEST(RamTierTest, ZeroCapacityHoldsNothing) {
  RamTier tier({.capacity_bytes = 0});
  tier.put_record(object_name(1), shared(version(1)));
  tier.put_bytes(object_name(1), version(1), 0, payload(1, 1, 0, 10));
  EXPECT_FALSE(tier.record(object_name(1)));
  EXPECT_FALSE(holds_bytes(tier, 1, version(1), 0, 9));
  EXPECT_EQ(tier.stats().entries, 0u);
}

TEST(RamTierTest, ConcurrentUseHonoursCapacityAndServesOnlyTheRightBytes) {
  constexpr std::size_t kCapacity = 256 << 10;
  RamTier tier({.capacity_bytes = kCapacity, .max_entry_bytes = 16 << 10, .shards = 4});
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> over_capacity{0};
  std::atomic<std::uint64_t> wrong_bytes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (std::uint64_t op = 0; !stop.load(std::memory_order_relaxed); ++op) {
        const int object = static_cast<int>(rng() % 64);
        const auto generation = 1 + rng() % 3;
        const auto record = version(generation, etag_of(generation));
        const auto first = rng() % 8192;
        const auto length = 1 + rng() % (12 << 10);
        switch (rng() % 5) {
          case 0:
            tier.put_record(object_name(object), shared(record));
            break;
          case 1:
            tier.put_bytes(object_name(object), record, first,
                           payload(object, generation, first, length));
            break;
          case 2: {
            const auto held = tier.bytes(object_name(object), record, first, first + length - 1);
            if (!held) break;
            const auto view = held->view();
            for (std::size_t i = 0; i < view.size(); ++i) {
              if (view[i] != byte_at(object, generation, first + i)) {
                ++wrong_bytes;
                break;
              }
            }
            break;
          }
          case 3: {
            const auto held = tier.record(object_name(object));
            if (held && held->record->etag() != etag_of(held->record->generation())) {
              ++wrong_bytes;
            }
            break;
          }
          default:
            tier.invalidate(object_name(object));
        }
        if (op % 64 == 0 && tier.stats().bytes > kCapacity) ++over_capacity;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(over_capacity.load(), 0u);
  EXPECT_EQ(wrong_bytes.load(), 0u);
  const auto stats = tier.stats();
  EXPECT_LE(stats.bytes, kCapacity);
  EXPECT_GT(stats.byte_hits + stats.record_hits, 0u) << "nothing was ever served";
}

}  // namespace
}  // namespace s3hc::cache
