#include "cache/fleet/eviction_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cache/frequency_sketch.h"

namespace s3hc::cache {
namespace {

// Object ids are 32 hex chars; `family` keeps the test's kinds of objects apart.
std::string object_id(std::uint64_t family, std::uint64_t n) {
  char id[33];
  std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(family),
                static_cast<unsigned long long>(n));
  return id;
}

EvictionEntry accessed_at(std::int64_t ms, std::uint64_t bytes = 100) {
  return {.bytes = bytes, .last_access_ms = ms};
}

TEST(EvictionIndexTest, TotalsStayExactThroughUpsertsOverwritesAndErases) {
  EvictionIndex index;
  std::map<std::string, EvictionEntry> expected;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 20'000; ++step) {
    const auto id = object_id(0, rng() % 300);
    if (rng() % 3 == 0) {
      EXPECT_EQ(index.erase(id), expected.erase(id) == 1);
    } else {
      const EvictionEntry entry{.bytes = rng() % 1'000'000,
                                .last_access_ms = static_cast<std::int64_t>(step)};
      index.upsert(id, entry);
      expected[id] = entry;
    }
    ASSERT_EQ(index.size(), expected.size());
    std::uint64_t total = 0;
    for (const auto& [_, entry] : expected) total += entry.bytes;
    ASSERT_EQ(index.total_bytes(), total) << step;
  }
  for (const auto& [id, entry] : expected) EXPECT_EQ(index.find(id), entry);
  for (const auto& [id, _] : expected) EXPECT_TRUE(index.erase(id));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.total_bytes(), 0u);
}

TEST(EvictionIndexTest, FindAndTouch) {
  EvictionIndex index;
  EXPECT_EQ(index.find("a"), std::nullopt);
  EXPECT_FALSE(index.touch("a", 5));
  EXPECT_FALSE(index.erase("a"));
  index.upsert("a", {.bytes = 7, .last_access_ms = 1, .expires_at_ms = 9,
                     .protected_until_ms = 3});
  EXPECT_TRUE(index.touch("a", 5));
  EXPECT_EQ(index.find("a"), (EvictionEntry{.bytes = 7, .last_access_ms = 5, .expires_at_ms = 9,
                                            .protected_until_ms = 3}));
}

TEST(EvictionIndexTest, NothingToPickFromAnEmptyIndex) {
  EvictionIndex index;
  FrequencySketch sketch(10);
  std::mt19937_64 rng(1);
  EXPECT_EQ(index.pick_victim(0, EvictionPolicy::kLru, sketch, rng), std::nullopt);
  index.upsert("a", accessed_at(0));
  EXPECT_EQ(index.pick_victim(0, EvictionPolicy::kLru, sketch, rng, 0), std::nullopt);
}

TEST(EvictionIndexTest, NeverPicksProtectedEntries) {
  EvictionIndex index;
  FrequencySketch sketch(100);
  std::mt19937_64 rng(2);
  for (std::uint64_t n = 0; n < 100; ++n) {
    auto entry = accessed_at(static_cast<std::int64_t>(n));
    // The oldest and the expired are the best victims but for their protection.
    if (n % 2 == 0) entry.protected_until_ms = 1000;
    if (n % 10 == 0) entry.expires_at_ms = 1;
    index.upsert(object_id(0, n), entry);
  }
  for (const auto policy : {EvictionPolicy::kLru, EvictionPolicy::kTinyLfu}) {
    for (int round = 0; round < 1000; ++round) {
      const auto victim = index.pick_victim(500, policy, sketch, rng);
      ASSERT_TRUE(victim.has_value());
      EXPECT_FALSE(index.find(*victim)->protected_until_ms > 500) << *victim;
    }
  }
  for (std::uint64_t n = 1; n < 100; n += 2) index.erase(object_id(0, n));
  EXPECT_EQ(index.pick_victim(500, EvictionPolicy::kLru, sketch, rng, 1000), std::nullopt);
  EXPECT_EQ(index.pick_victim(500, EvictionPolicy::kLru, sketch, rng), std::nullopt);
  // Protection ends at protected_until_ms.
  EXPECT_EQ(index.pick_victim(1000, EvictionPolicy::kLru, sketch, rng, 1000), object_id(0, 0));
}

TEST(EvictionIndexTest, ExpiredEntriesGoFirstLongestExpiredFirst) {
  EvictionIndex index;
  FrequencySketch sketch(10);
  std::mt19937_64 rng(3);
  index.upsert("oldest", accessed_at(1));
  index.upsert("expires-later", {.bytes = 1, .last_access_ms = 2, .expires_at_ms = 200});
  index.upsert("expired", {.bytes = 1, .last_access_ms = 50, .expires_at_ms = 90});
  index.upsert("expired-longer", {.bytes = 1, .last_access_ms = 60, .expires_at_ms = 80});
  // Frequency does not save an expired entry either.
  for (int n = 0; n < 15; ++n) sketch.record(sketch_key("expired-longer"));
  for (const auto policy : {EvictionPolicy::kLru, EvictionPolicy::kTinyLfu}) {
    EXPECT_EQ(index.pick_victim(100, policy, sketch, rng, 100), "expired-longer");
    // Expiry at exactly now counts as expired.
    EXPECT_EQ(index.pick_victim(80, policy, sketch, rng, 100), "expired-longer");
    EXPECT_EQ(index.pick_victim(79, policy, sketch, rng, 100), "oldest");
  }
  index.erase("expired-longer");
  EXPECT_EQ(index.pick_victim(100, EvictionPolicy::kLru, sketch, rng, 100), "expired");
  index.erase("expired");
  EXPECT_EQ(index.pick_victim(100, EvictionPolicy::kLru, sketch, rng, 100), "oldest");
  EXPECT_EQ(index.pick_victim(200, EvictionPolicy::kLru, sketch, rng, 100), "expires-later");
}

TEST(EvictionIndexTest, LruWithAFullSampleIsTheGlobalOldest) {
  EvictionIndex index;
  FrequencySketch sketch(1000);
  std::mt19937_64 rng(4);
  std::vector<std::int64_t> ages(500);
  for (std::size_t n = 0; n < ages.size(); ++n) ages[n] = static_cast<std::int64_t>(n) * 7 + 3;
  std::shuffle(ages.begin(), ages.end(), rng);
  for (std::size_t n = 0; n < ages.size(); ++n) index.upsert(object_id(0, n), accessed_at(ages[n]));
  const auto oldest = std::min_element(ages.begin(), ages.end()) - ages.begin();
  EXPECT_EQ(index.pick_victim(10'000, EvictionPolicy::kLru, sketch, rng, 500),
            object_id(0, static_cast<std::uint64_t>(oldest)));
  index.touch(object_id(0, static_cast<std::uint64_t>(oldest)), 20'000);
  EXPECT_EQ(index.pick_victim(10'000, EvictionPolicy::kLru, sketch, rng, 500),
            object_id(0, static_cast<std::uint64_t>(
                             std::find(ages.begin(), ages.end(), 10) - ages.begin())));
}

TEST(EvictionIndexTest, LruSamplePicksAmongTheOldest) {
  EvictionIndex index;
  FrequencySketch sketch(1000);
  std::mt19937_64 rng(5);
  constexpr int kEntries = 1000;
  for (int n = 0; n < kEntries; ++n) index.upsert(object_id(0, n), accessed_at(n));
  // The oldest of 16 uniform draws has an expected rank of 1/17 of the population.
  double rank_sum = 0;
  constexpr int kRounds = 2000;
  for (int round = 0; round < kRounds; ++round) {
    const auto victim = index.pick_victim(kEntries, EvictionPolicy::kLru, sketch, rng);
    rank_sum += static_cast<double>(index.find(*victim)->last_access_ms);
  }
  EXPECT_LT(rank_sum / kRounds, kEntries / 12.0);
  EXPECT_GT(rank_sum / kRounds, kEntries / 25.0);
}

TEST(EvictionIndexTest, TinyLfuPicksTheLeastFrequentThenTheLeastRecent) {
  EvictionIndex index;
  FrequencySketch sketch(100);
  std::mt19937_64 rng(6);
  const std::vector<std::pair<std::string, int>> frequencies = {
      {"popular-old", 9}, {"rare-new", 1}, {"rare-newer", 1}, {"middling", 4}};
  std::int64_t now = 0;
  for (const auto& [id, frequency] : frequencies) {
    index.upsert(id, accessed_at(++now));
    for (int n = 0; n < frequency; ++n) sketch.record(sketch_key(id));
  }
  EXPECT_EQ(index.pick_victim(now, EvictionPolicy::kLru, sketch, rng, 100), "popular-old");
  EXPECT_EQ(index.pick_victim(now, EvictionPolicy::kTinyLfu, sketch, rng, 100), "rare-new");
  index.touch("rare-new", ++now);
  EXPECT_EQ(index.pick_victim(now, EvictionPolicy::kTinyLfu, sketch, rng, 100), "rare-newer");
  // A new arrival seen once is the victim: TinyLFU's admission filter.
  index.upsert("arrival", accessed_at(++now));
  sketch.record(sketch_key("arrival"));
  index.erase("rare-new");
  index.erase("rare-newer");
  EXPECT_EQ(index.pick_victim(now, EvictionPolicy::kTinyLfu, sketch, rng, 100), "arrival");
  // Unless its young window is on: then the least frequent of the older ones goes first.
  EXPECT_EQ(index.pick_victim(now, EvictionPolicy::kTinyLfu, sketch, rng, 100, 1), "middling");
  EXPECT_EQ(index.pick_victim(now + 1, EvictionPolicy::kTinyLfu, sketch, rng, 100, 1), "arrival");
  index.erase("middling");
  index.erase("popular-old");
  EXPECT_EQ(index.pick_victim(now, EvictionPolicy::kTinyLfu, sketch, rng, 100, 1), "arrival");
}

TEST(EvictionIndexTest, SerializeParseRoundTrip) {
  EvictionIndex index;
  for (std::uint64_t n = 0; n < 200; ++n) {
    index.upsert(object_id(0, n), {.bytes = n * 1000,
                                   .last_access_ms = static_cast<std::int64_t>(n) - 100,
                                   .expires_at_ms = static_cast<std::int64_t>(n % 3),
                                   .protected_until_ms = static_cast<std::int64_t>(n * n)});
  }
  index.erase(object_id(0, 17));
  index.upsert("", accessed_at(-5));  // any id round-trips, even an empty one
  const auto bytes = index.serialize();
  auto parsed = EvictionIndex::parse(bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->size(), index.size());
  EXPECT_EQ(parsed->total_bytes(), index.total_bytes());
  EXPECT_EQ(parsed->find(object_id(0, 17)), std::nullopt);
  for (std::uint64_t n = 0; n < 200; ++n) {
    EXPECT_EQ(parsed->find(object_id(0, n)), index.find(object_id(0, n)));
  }
  EXPECT_EQ(parsed->find(""), accessed_at(-5));
  EXPECT_EQ(parsed->serialize(), bytes);

  const auto empty = EvictionIndex::parse(EvictionIndex().serialize());
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(EvictionIndexTest, ParseRejectsGarbage) {
  EvictionIndex index;
  index.upsert(object_id(0, 1), accessed_at(1));
  index.upsert(object_id(0, 2), accessed_at(2));
  const auto bytes = index.serialize();
  EXPECT_FALSE(EvictionIndex::parse("").has_value());
  EXPECT_FALSE(EvictionIndex::parse("garbage, more garbage, and yet more of it").has_value());
  EXPECT_FALSE(EvictionIndex::parse(std::string(bytes.size(), '\0')).has_value());
  EXPECT_FALSE(EvictionIndex::parse(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(EvictionIndex::parse(bytes + '\0').has_value());
  EXPECT_FALSE(FrequencySketch::parse(bytes).has_value());
  EXPECT_FALSE(EvictionIndex::parse(FrequencySketch(10).serialize()).has_value());
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    auto flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    EXPECT_FALSE(EvictionIndex::parse(flipped).has_value()) << at;
  }
}

// The point of TinyLFU: on a skewed workload with one-hit scans mixed in, keeping the
// frequently asked for beats keeping the recently asked for.
constexpr std::uint64_t kObjects = 2000;
constexpr std::uint64_t kObjectBytes = 4096;
constexpr std::uint64_t kCapacityObjects = 200;
constexpr int kZipfRequests = 100'000;
constexpr int kScanEvery = 1000;
constexpr int kScanLength = 300;

// Zipf(s = 1.0) requests over kObjects, with a burst of kScanLength never repeated ids
// before every kScanEvery of them.
std::vector<std::string> zipf_trace_with_scans() {
  std::vector<double> cumulative(kObjects);
  double sum = 0;
  for (std::uint64_t rank = 0; rank < kObjects; ++rank) {
    sum += 1.0 / static_cast<double>(rank + 1);
    cumulative[rank] = sum;
  }
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0, sum);
  std::vector<std::string> trace;
  std::uint64_t scanned = 0;
  for (int request = 0; request < kZipfRequests; ++request) {
    if (request % kScanEvery == 0) {
      for (int n = 0; n < kScanLength; ++n) trace.push_back(object_id(1, scanned++));
    }
    const auto rank = std::lower_bound(cumulative.begin(), cumulative.end(), uniform(rng)) -
                      cumulative.begin();
    trace.push_back(object_id(0, std::min<std::uint64_t>(rank, kObjects - 1)));
  }
  return trace;
}

double hit_ratio(const std::vector<std::string>& trace, EvictionPolicy policy) {
  EvictionIndex index;
  FrequencySketch sketch(kCapacityObjects);
  std::mt19937_64 rng(7);
  std::size_t hits = 0;
  std::int64_t now = 0;
  for (const auto& id : trace) {
    ++now;
    sketch.record(sketch_key(id));
    if (index.touch(id, now)) {
      ++hits;
      continue;
    }
    index.upsert(id, {.bytes = kObjectBytes, .last_access_ms = now});
    while (index.total_bytes() > kCapacityObjects * kObjectBytes) {
      const auto victim = index.pick_victim(now, policy, sketch, rng);
      if (victim) index.erase(*victim);
    }
  }
  return static_cast<double>(hits) / static_cast<double>(trace.size());
}

TEST(EvictionIndexTest, TinyLfuBeatsLruOnZipfWithScans) {
  const auto trace = zipf_trace_with_scans();
  const auto lru = hit_ratio(trace, EvictionPolicy::kLru);
  const auto tiny_lfu = hit_ratio(trace, EvictionPolicy::kTinyLfu);
  std::cout << "hit ratio over " << trace.size() << " requests: LRU " << lru << ", TinyLFU "
            << tiny_lfu << "\n";
  EXPECT_GT(tiny_lfu, lru + 0.05);
}

}  // namespace
}  // namespace s3hc::cache
