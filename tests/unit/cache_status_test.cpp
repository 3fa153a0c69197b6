#include "pipeline/cache_status.h"

#include <gtest/gtest.h>

namespace s3hc::pipeline {
namespace {

TEST(CacheStatusTest, EachStatusHasItsXCacheWord) {
  EXPECT_EQ(x_cache_value(CacheStatus::kHit), "HIT");
  EXPECT_EQ(x_cache_value(CacheStatus::kRevalidated), "REVALIDATED");
  EXPECT_EQ(x_cache_value(CacheStatus::kPartial), "PARTIAL");
  EXPECT_EQ(x_cache_value(CacheStatus::kCoalesced), "COALESCED");
  EXPECT_EQ(x_cache_value(CacheStatus::kMiss), "MISS");
  EXPECT_EQ(x_cache_value(CacheStatus::kBypass), "BYPASS");
}

// RFC 9211: a hit carries `hit`, anything forwarded `fwd` with the origin's status.
TEST(CacheStatusTest, CacheStatusFollowsRfc9211) {
  auto hit = from_cache(CacheStatus::kHit);
  EXPECT_EQ(cache_status_value(hit), "s3hc; hit");
  hit.ttl_seconds = 42;
  EXPECT_EQ(cache_status_value(hit), "s3hc; hit; ttl=42");
  EXPECT_EQ(cache_status_value(from_cache(CacheStatus::kRevalidated, 304)),
            "s3hc; fwd=stale; fwd-status=304");
  EXPECT_EQ(cache_status_value(from_cache(CacheStatus::kPartial, 206)),
            "s3hc; fwd=partial; fwd-status=206");
  EXPECT_EQ(cache_status_value(from_cache(CacheStatus::kCoalesced)), "s3hc; fwd=uri-miss; collapsed");
  EXPECT_EQ(cache_status_value(from_origin(CacheStatus::kMiss, ForwardReason::kMiss, 206, true)),
            "s3hc; fwd=miss; fwd-status=206; stored");
  EXPECT_EQ(cache_status_value(from_origin(CacheStatus::kMiss, ForwardReason::kUriMiss, 403, false)),
            "s3hc; fwd=uri-miss; fwd-status=403");
  EXPECT_EQ(cache_status_value(
                from_origin(CacheStatus::kBypass, ForwardReason::kBypass, 200, false, "SSE-C")),
            "s3hc; fwd=bypass; fwd-status=200; detail=\"SSE-C\"");
  EXPECT_EQ(cache_status_value(from_origin(CacheStatus::kBypass, ForwardReason::kRequest, 200, true)),
            "s3hc; fwd=request; fwd-status=200; stored");
}

}  // namespace
}  // namespace s3hc::pipeline
