// One client's answer from a fill of this process (fill_progress.h), the fill's starter and
// every request that joined it alike: the header, then the body at this client's own pace,
// from the fill's window in memory while it keeps up, from the fill's cache file when it
// falls behind. The answer's last bytes go out only once the fill has ended (committed, where
// it could be): a request the client sends after its answer then finds them in the cache.
//
// Thread-safety: one per answer, on the client connection's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "cache/store/range_file.h"
#include "http/client_writer.h"
#include "http/relay_buffers.h"
#include "obs/metrics.h"
#include "pipeline/cache_context.h"
#include "pipeline/fill_progress.h"
#include "s3/object_address.h"

namespace s3hc::pipeline {

class FillReader {
 public:
  // `pieces`: the worker's recycled buffers for bytes read back from the cache file;
  // `object`: the object filled (named in logs).
  FillReader(CacheContext& cache, http::RelayBuffers& pieces, const s3::ObjectAddress& object,
             const FillProgress::Reader& fill)
      : cache_(cache), pieces_(pieces), object_(object), fill_(fill) {}

  // Sends `header` then the fill's body, counting its bytes in `served` when given. nullopt,
  // with nothing sent, when the fill ended (or cannot be read) before its first byte: answer
  // otherwise. Else whether the whole body went out.
  boost::asio::awaitable<std::optional<bool>> send(http::ClientWriter& client,
                                                   std::string_view header,
                                                   obs::Counter* served);

 private:
  // Bytes the fill's window no longer holds, from its cache file (opened, or opened again
  // for blocks written since): up to into.size() of them from object offset `first`, as far
  // as the file's complete blocks go. The bytes read; 0 when none can be.
  boost::asio::awaitable<std::size_t> read_behind(std::uint64_t first, std::span<char> into);

  CacheContext& cache_;
  http::RelayBuffers& pieces_;
  const s3::ObjectAddress& object_;
  const FillProgress::Reader& fill_;
  std::optional<cache::RangeFileReader> file_;  // opened once this reader falls behind
};

}  // namespace s3hc::pipeline
