// The admission gate (http/admission.h): each limit refuses past its bound and is counted by
// reason, a released ticket makes room again, 0 means no limit, and admissions from many
// threads at once never let more requests through than the limit.
#include "http/admission.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "obs/metrics.h"

namespace s3hc::http {
namespace {

class AdmissionTest : public ::testing::Test {
 protected:
  obs::MetricsRegistry registry_;
  obs::ProxyMetrics metrics_{registry_};
};

TEST_F(AdmissionTest, RefusesPastTheConcurrencyLimitUntilATicketIsReleased) {
  AdmissionGate gate({.max_concurrent_requests = 2, .max_buffered_bytes = 0}, metrics_);
  auto first = gate.admit();
  const auto second = gate.admit();
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
  EXPECT_EQ(metrics_.requests_in_flight.value(), 2);
  EXPECT_FALSE(gate.admit());
  EXPECT_FALSE(gate.admit());
  EXPECT_EQ(metrics_.rejected_for_concurrency.value(), 2u);
  EXPECT_EQ(metrics_.rejected_for_memory.value(), 0u);
  EXPECT_EQ(metrics_.requests_in_flight.value(), 2);  // a refusal holds no place
  {
    const auto moved = std::move(first);  // the place goes with the ticket, released once
    EXPECT_EQ(metrics_.requests_in_flight.value(), 2);
  }
  EXPECT_EQ(metrics_.requests_in_flight.value(), 1);
  {
    const auto third = gate.admit();
    EXPECT_TRUE(third);
    EXPECT_FALSE(gate.admit());
  }
  EXPECT_EQ(metrics_.requests_in_flight.value(), 1);
  EXPECT_EQ(metrics_.rejected_for_concurrency.value(), 3u);
}

TEST_F(AdmissionTest, RefusesWhileBufferedBytesExceedTheLimit) {
  AdmissionGate gate({.max_concurrent_requests = 10, .max_buffered_bytes = 1000}, metrics_);
  metrics_.buffered_bytes.set(1000);  // at the limit: still room
  EXPECT_TRUE(gate.admit());
  metrics_.buffered_bytes.set(1001);
  EXPECT_FALSE(gate.admit());
  EXPECT_EQ(metrics_.rejected_for_memory.value(), 1u);
  EXPECT_EQ(metrics_.rejected_for_concurrency.value(), 0u);
  EXPECT_EQ(metrics_.requests_in_flight.value(), 0);
  metrics_.buffered_bytes.set(0);  // the buffers given back
  EXPECT_TRUE(gate.admit());
}

TEST_F(AdmissionTest, ZeroMeansNoLimit) {
  AdmissionGate gate({.max_concurrent_requests = 0, .max_buffered_bytes = 0}, metrics_);
  metrics_.buffered_bytes.set(std::int64_t{1} << 50);
  std::vector<AdmissionGate::Ticket> tickets;
  for (int i = 0; i < 10'000; ++i) tickets.push_back(gate.admit());
  EXPECT_TRUE(std::all_of(tickets.begin(), tickets.end(), [](const auto& t) { return !!t; }));
  EXPECT_EQ(metrics_.requests_in_flight.value(), 10'000);  // still counted
  tickets.clear();
  EXPECT_EQ(metrics_.requests_in_flight.value(), 0);
}

TEST_F(AdmissionTest, ConcurrentAdmissionsNeverExceedTheLimit) {
  constexpr int kLimit = 4;
  constexpr int kThreads = 8;
  constexpr int kAttempts = 2000;
  AdmissionGate gate({.max_concurrent_requests = kLimit, .max_buffered_bytes = 0}, metrics_);
  std::atomic<int> holding{0};
  std::atomic<int> most_held{0};
  std::atomic<int> admitted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        const auto ticket = gate.admit();
        if (!ticket) {
          refused.fetch_add(1);
          continue;
        }
        admitted.fetch_add(1);
        const auto now_held = holding.fetch_add(1) + 1;
        auto most = most_held.load();
        while (now_held > most && !most_held.compare_exchange_weak(most, now_held)) {
        }
        // Hold the place a while: the other threads find the gate full meanwhile.
        std::this_thread::sleep_for(std::chrono::microseconds(10));
        holding.fetch_sub(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most_held.load(), kLimit);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(admitted.load() + refused.load(), kThreads * kAttempts);
  EXPECT_EQ(metrics_.rejected_for_concurrency.value(), static_cast<std::uint64_t>(refused.load()));
  EXPECT_EQ(metrics_.requests_in_flight.value(), 0);
}

}  // namespace
}  // namespace s3hc::http
