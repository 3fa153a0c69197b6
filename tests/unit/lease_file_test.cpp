#include "cache/fleet/lease_file.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "temp_dir.h"
#include "util/wall_clock.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The default options, which every test uses.
constexpr std::int64_t kDuration = 10000;
constexpr std::int64_t kGrace = 2000;
// Simulated wall-clock ms.
constexpr std::int64_t kStart = 1'000'000;


std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

class LeaseFileTest : public ::testing::Test {
 protected:
  // Nothing but the lease file is left in the directory: no temp files, no claims.
  void expect_only_the_lease() const {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      if (!entry.is_directory()) files.push_back(entry.path().string());
    }
    EXPECT_EQ(files, std::vector<std::string>{path_});
  }

  s3hc::testing::TempDir dir_{"lease-file-test"};
  const std::string path_ = (dir_.path() / "fleet" / "maintenance.lease").string();
};

TEST_F(LeaseFileTest, AcquiresAFreeLease) {
  LeaseFile a(path_, "a");
  EXPECT_EQ(a.token(), 0u);
  const auto token = a.acquire(kStart);
  ASSERT_TRUE(token);
  EXPECT_EQ(*token, static_cast<std::uint64_t>(kStart));  // seeded from the clock
  EXPECT_EQ(a.token(), *token);
  EXPECT_EQ(read_text(path_), "s3hc-lease 1\nowner a\ntoken 1000000\nexpires_ms 1010000\n");
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"a", *token, kStart + kDuration}));
  EXPECT_TRUE(a.held(kStart));
  EXPECT_TRUE(a.held(kStart + kDuration - 1));
  EXPECT_FALSE(a.held(kStart + kDuration));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, RefusesAnotherOwnerWhileLive) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  const auto token = a.acquire(kStart);
  ASSERT_TRUE(token);
  EXPECT_FALSE(b.acquire(kStart));
  EXPECT_FALSE(b.acquire(kStart + kDuration - 1));
  EXPECT_FALSE(b.held(kStart));
  EXPECT_EQ(b.token(), 0u);
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"a", *token, kStart + kDuration}));
  EXPECT_TRUE(a.held(kStart + 1));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, RenewalKeepsTheTokenAndExtends) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  const auto token = a.acquire(kStart);
  ASSERT_TRUE(token);
  EXPECT_EQ(a.acquire(kStart + 6000), token);
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"a", *token, kStart + 6000 + kDuration}));
  EXPECT_TRUE(a.held(kStart + 6000 + kDuration - 1));
  // A renewal with an earlier clock does not shorten the lease.
  EXPECT_EQ(a.acquire(kStart + 1000), token);
  EXPECT_EQ(LeaseFile::read(path_)->expires_at_ms, kStart + 6000 + kDuration);
  // Past the first expiry and grace, the renewed lease still keeps others out.
  EXPECT_FALSE(b.acquire(kStart + kDuration + kGrace + 1));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, TakesOverOnlyAfterExpiryAndGrace) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  const auto old_token = a.acquire(kStart);
  ASSERT_TRUE(old_token);
  const auto expiry = kStart + kDuration;
  EXPECT_FALSE(b.acquire(expiry));           // expired, within the grace
  EXPECT_FALSE(b.acquire(expiry + kGrace));  // the boundary itself
  const auto token = b.acquire(expiry + kGrace + 1);
  ASSERT_TRUE(token);
  EXPECT_GT(*token, *old_token);
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"b", *token, expiry + kGrace + 1 + kDuration}));
  EXPECT_TRUE(b.held(expiry + kGrace + 1));
  EXPECT_FALSE(a.held(expiry + kGrace + 1));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, ReleaseLetsAnotherAcquireAtOnce) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  const auto old_token = a.acquire(kStart);
  ASSERT_TRUE(old_token);
  a.release(kStart + 1000);
  // The token stays, so that the next holder's is larger.
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"a", *old_token, 0}));
  EXPECT_FALSE(a.held(kStart + 1000));
  const auto token = b.acquire(kStart + 1000);
  ASSERT_TRUE(token);
  EXPECT_GT(*token, *old_token);
  EXPECT_TRUE(b.held(kStart + 1000));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, OwnLeaseAcquiredAgainAfterReleaseOrLapseGetsANewToken) {
  LeaseFile a(path_, "a");
  const auto first = a.acquire(kStart);
  ASSERT_TRUE(first);
  a.release(kStart);
  const auto second = a.acquire(kStart);  // same instant: only the token's +1 makes it larger
  ASSERT_TRUE(second);
  EXPECT_GT(*second, *first);
  // Lapsed (expired, within the grace): ours to take again, no grace to wait for.
  const auto third = a.acquire(kStart + kDuration);
  ASSERT_TRUE(third);
  EXPECT_GT(*third, *second);
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"a", *third, kStart + 2 * kDuration}));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, AHolderWhoseLeaseWasTakenOverHasLostIt) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  ASSERT_TRUE(a.acquire(kStart));
  const auto takeover = kStart + kDuration + kGrace + 1;
  const auto b_token = b.acquire(takeover);
  ASSERT_TRUE(b_token);
  EXPECT_FALSE(a.held(takeover));
  EXPECT_FALSE(a.acquire(takeover + 1000));
  // Releasing what it no longer holds leaves the new holder's lease alone.
  a.release(takeover + 1000);
  const LeaseState b_lease{"b", *b_token, takeover + kDuration};
  EXPECT_EQ(LeaseFile::read(path_), b_lease);
  EXPECT_TRUE(b.held(takeover + 1000));
  // Until the new lease has expired too, grace included.
  EXPECT_FALSE(a.acquire(takeover + kDuration + kGrace));
  const auto a_token = a.acquire(takeover + kDuration + kGrace + 1);
  ASSERT_TRUE(a_token);
  EXPECT_GT(*a_token, *b_token);
  EXPECT_FALSE(b.held(takeover + kDuration + kGrace + 1));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, AnUnparseableLeaseIsHeldWhileYoung) {
  for (const std::string text : {"", "garbage", "s3hc-lease 1\nowner a\n"}) {
    write_text(path_, text);
    fs::last_write_time(path_, fs::file_time_type::clock::now() - 5s);
    LeaseFile b(path_, "b");
    EXPECT_FALSE(b.acquire(util::unix_now_ms())) << text;
    EXPECT_FALSE(b.held(util::unix_now_ms())) << text;
    EXPECT_FALSE(LeaseFile::read(path_)) << text;
    EXPECT_EQ(read_text(path_), text);
  }
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, AnUnparseableLeaseIsTakenOverOnceOld) {
  for (const std::string text : {"", "garbage"}) {
    write_text(path_, text);
    // Older than duration + grace (12 s).
    fs::last_write_time(path_, fs::file_time_type::clock::now() - 13s);
    LeaseFile b(path_, "b");
    const auto now = util::unix_now_ms();
    const auto token = b.acquire(now);
    ASSERT_TRUE(token) << text;
    EXPECT_GE(*token, static_cast<std::uint64_t>(now));  // nothing to count on but the clock
    EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"b", *token, now + kDuration}));
    EXPECT_TRUE(b.held(now));
  }
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, ParsesOnlyTheExactFormat) {
  write_text(path_, "s3hc-lease 1\nowner host-1:42\ntoken 7\nexpires_ms 0\n");
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"host-1:42", 7, 0}));
  for (const std::string text : {
           "s3hc-lease 1\nowner a\ntoken 07\nexpires_ms 5\n",
           "s3hc-lease 1\nowner a\ntoken +7\nexpires_ms 5\n",
           "s3hc-lease 1\nowner a\ntoken 0\nexpires_ms 5\n",
           "s3hc-lease 1\nowner a\ntoken 7\nexpires_ms -5\n",
           "s3hc-lease 1\nowner a\ntoken 7\nexpires_ms 5",
           "s3hc-lease 1\nowner a\ntoken 7\nexpires_ms 5\nextra\n",
           "s3hc-lease 1\nowner \ntoken 7\nexpires_ms 5\n",
           "s3hc-lease 1\r\nowner a\r\ntoken 7\r\nexpires_ms 5\r\n",
           "s3hc-lease 2\nowner a\ntoken 7\nexpires_ms 5\n",
           "s3hc-lease 1\ntoken 7\nowner a\nexpires_ms 5\n",
           "s3hc-lease 1\nowner a\ntoken 18446744073709551616\nexpires_ms 5\n",
       }) {
    write_text(path_, text);
    EXPECT_FALSE(LeaseFile::read(path_)) << text;
  }
  EXPECT_FALSE(LeaseFile::read((dir_.path() / "none").string()));
  EXPECT_THROW(LeaseFile(path_, ""), std::invalid_argument);
  EXPECT_THROW(LeaseFile(path_, "two\nlines"), std::invalid_argument);
  EXPECT_THROW(LeaseFile(path_, "a", LeaseOptions{.duration = 0ms}), std::invalid_argument);
}

TEST_F(LeaseFileTest, RecreatesADeletedDirectory) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  const auto a_token = a.acquire(kStart);
  ASSERT_TRUE(a_token);
  fs::remove_all(dir_.path() / "fleet");
  EXPECT_FALSE(a.held(kStart));
  const auto b_token = b.acquire(kStart + 1000);
  ASSERT_TRUE(b_token);
  // b never saw a's token: the clock keeps the new one larger.
  EXPECT_GT(*b_token, *a_token);
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"b", *b_token, kStart + 1000 + kDuration}));
  EXPECT_FALSE(a.acquire(kStart + 1000));
  expect_only_the_lease();
}

TEST_F(LeaseFileTest, AClaimLeftByADeadProcessBlocksChangesOnlyUntilItIsAbandoned) {
  LeaseFile a(path_, "a");
  LeaseFile b(path_, "b");
  ASSERT_TRUE(a.acquire(kStart));
  // The claim a contender that died mid-takeover leaves: named by the XXH3-64 of the version
  // it claimed (the header's protocol).
  const auto bytes = read_text(path_);
  char key[17];
  std::snprintf(key, sizeof(key), "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  const auto claimed = kStart + 5000;
  write_text(path_ + ".tmp.claim-" + key + "-0",
             "s3hc-lease-claim 1\nowner dead\nclaimed_ms " + std::to_string(claimed) + "\n");
  // Nobody may replace the claimed version meanwhile, not even its holder.
  EXPECT_FALSE(a.acquire(kStart + 6000));
  const auto abandoned = claimed + kDuration + kGrace;
  EXPECT_FALSE(b.acquire(abandoned));
  EXPECT_EQ(read_text(path_), bytes);
  const auto token = b.acquire(abandoned + 1);
  ASSERT_TRUE(token);
  EXPECT_EQ(LeaseFile::read(path_), (LeaseState{"b", *token, abandoned + 1 + kDuration}));
  expect_only_the_lease();  // the dead claim went with b's own
}

TEST_F(LeaseFileTest, ContendersAtOneInstantHaveOneWinnerPerRound) {
  constexpr int kContenders = 8;
  constexpr int kRounds = 200;
  LeaseFile first(path_, "first");
  ASSERT_TRUE(first.acquire(kStart));
  std::vector<std::unique_ptr<LeaseFile>> contenders;
  for (int i = 0; i < kContenders; ++i) {
    contenders.push_back(std::make_unique<LeaseFile>(path_, "contender-" + std::to_string(i)));
  }
  // Each round starts past the expiry and grace of the lease the round before left.
  const auto now_of = [](int round) { return kStart + (round + 1) * (kDuration + kGrace + 1); };

  std::vector<std::optional<std::uint64_t>> won(kContenders);
  std::atomic<int> errors{0};
  std::barrier start(kContenders + 1);
  std::barrier finish(kContenders + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kContenders; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < kRounds; ++round) {
        start.arrive_and_wait();
        try {
          won[i] = contenders[i]->acquire(now_of(round));
        } catch (const std::exception&) {
          won[i].reset();
          ++errors;
        }
        finish.arrive_and_wait();
      }
    });
  }

  int rounds_with_one_winner = 0;
  int rounds_with_a_larger_token = 0;
  int rounds_the_file_agrees = 0;
  std::uint64_t last_token = first.token();
  for (int round = 0; round < kRounds; ++round) {
    start.arrive_and_wait();
    finish.arrive_and_wait();
    int winners = 0;
    int winner = 0;
    for (int i = 0; i < kContenders; ++i) {
      if (won[i]) {
        ++winners;
        winner = i;
      }
    }
    if (winners != 1) continue;
    ++rounds_with_one_winner;
    const auto token = *won[winner];
    rounds_with_a_larger_token += token > last_token ? 1 : 0;
    last_token = token;
    const LeaseState expected{"contender-" + std::to_string(winner), token,
                              now_of(round) + kDuration};
    rounds_the_file_agrees += LeaseFile::read(path_) == expected ? 1 : 0;
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(rounds_with_one_winner, kRounds);
  EXPECT_EQ(rounds_with_a_larger_token, kRounds);
  EXPECT_EQ(rounds_the_file_agrees, kRounds);
  expect_only_the_lease();
}

}  // namespace
}  // namespace s3hc::cache
