// Relay buffers (http/relay_buffers.h): every buffer on loan is counted in the gauge admission
// judges by, however the lease ends (destroyed, assigned over, moved away), and a buffer from
// the free list counts like a new one.
#include "http/relay_buffers.h"

#include <gtest/gtest.h>

#include <utility>

namespace s3hc::http {
namespace {

TEST(RelayBuffersTest, BuffersOnLoanAreCountedUntilGivenBack) {
  obs::Gauge on_loan;
  RelayBuffers buffers(4096, 1, on_loan);
  {
    auto first = buffers.take();
    EXPECT_EQ(first.span().size(), 4096u);
    EXPECT_EQ(on_loan.value(), 4096);
    auto second = buffers.take();
    EXPECT_EQ(on_loan.value(), 2 * 4096);
    first = std::move(second);  // the buffer assigned over goes back
    EXPECT_EQ(on_loan.value(), 4096);
    const auto moved = std::move(first);  // moving a lease moves no count
    EXPECT_EQ(on_loan.value(), 4096);
  }
  EXPECT_EQ(on_loan.value(), 0);
  {
    const auto reused = buffers.take();  // from the free list
    EXPECT_EQ(on_loan.value(), 4096);
  }
  EXPECT_EQ(on_loan.value(), 0);
}

}  // namespace
}  // namespace s3hc::http
