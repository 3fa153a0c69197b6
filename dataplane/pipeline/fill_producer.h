// A fill as its own producer, apart from every client: it reads the origin's answer at the
// origin's pace into the cache (bounded by the disk, never by a client's socket) and publishes
// each piece to the fill's readers (fill_progress.h) once the cache holds it, the way Varnish
// separates the backend fetch from delivery. The request that started the fill is one reader
// among others.
//
// A client that hangs up does not cancel a fill: with no reader left, the fill goes on when
// the rule of AbandonedFills (cache_policy.h) lets it (a small object, or one mostly fetched already) and
// stops otherwise, committing nothing. A fill that fails (the origin resets, stalls past its
// timeout, or sends fewer bytes than announced) commits nothing either; its readers' answers
// end early, which S3 clients recover from by retrying.
//
// Thread-safety: the producer runs on the worker thread of the request that started it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "pipeline/cache_context.h"
#include "pipeline/cache_fill.h"
#include "pipeline/fill_progress.h"
#include "pipeline/origin_body.h"

namespace s3hc::pipeline {

// Reads `body` (one origin answer's, or a parallel fill's: ranged_body.h) into `fill` to its
// end (or failure, or abandonment) and ends `progress`. When `name` is not empty, the fill is
// in cache.fills under it until then.
boost::asio::awaitable<void> produce_fill(CacheContext& cache, OriginContext& origin,
                                          std::unique_ptr<BodySource> body,
                                          std::unique_ptr<CacheFill> fill,
                                          std::shared_ptr<FillProgress> progress,
                                          std::string name);

}  // namespace s3hc::pipeline
