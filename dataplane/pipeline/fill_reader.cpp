#include "pipeline/fill_reader.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <memory>

#include "pipeline/cache_read.h"

namespace s3hc::pipeline {

namespace asio = boost::asio;

namespace {

// A reader waiting for a fill's next bytes is woken by the producer; this only bounds the
// wait should a wake-up ever be missed.
constexpr std::chrono::milliseconds kFillReaderWakeBound{1000};

}  // namespace

asio::awaitable<std::optional<bool>> FillReader::send(http::ClientWriter& client,
                                                      std::string_view header,
                                                      obs::Counter* served) {
  const auto executor = co_await asio::this_coro::executor;
  // Cancelled from the producer's thread (through this thread's queue) when bytes arrive.
  const auto wake = std::make_shared<asio::steady_timer>(executor);
  const auto total = fill_->bytes().length();
  http::RelayBuffers::Lease behind;
  // Until bytes past `offset` come, or the fill ends.
  const auto wait_past = [&](std::uint64_t offset) -> asio::awaitable<void> {
    wake->expires_after(kFillReaderWakeBound);
    const bool waits = fill_->wake_after(offset, [executor, weak = std::weak_ptr(wake)] {
      asio::post(executor, [weak] {
        if (const auto timer = weak.lock()) timer->cancel();
      });
    });
    if (waits) co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
  };
  std::uint64_t sent = 0;  // body bytes
  while (sent < total) {
    const auto next = fill_->next(sent);
    std::string_view bytes;
    if (next.piece) {
      bytes = std::string_view(*next.piece).substr(next.from);
    } else if (next.behind) {
      if (!behind) behind = pieces_.take();
      const auto room = std::min<std::uint64_t>(behind.span().size(), total - sent);
      const auto read =
          co_await read_behind(fill_->bytes().first + sent, behind.span().first(room));
      if (read == 0) {
        // (The fill kept no file, or it is unreadable: its bytes are nowhere else.)
        if (header.empty()) co_return false;
        co_return std::nullopt;
      }
      bytes = std::string_view(behind.span().data(), read);
    } else if (next.ended) {
      if (!header.empty()) co_return std::nullopt;  // nothing sent: answer otherwise
      co_return false;  // the origin's answer broke off: the client sees a short body
    } else {
      co_await wait_past(sent);
      continue;
    }
    if (sent + bytes.size() == total && !fill_->next(total).ended) {
      co_await wait_past(total);
      continue;
    }
    if (!co_await client.write(header, bytes)) co_return false;
    header = {};
    sent += bytes.size();
    if (served) served->inc(bytes.size());
  }
  co_return true;
}

asio::awaitable<std::size_t> FillReader::read_behind(std::uint64_t first, std::span<char> into) {
  std::size_t read = 0;
  co_await read_cache(cache_, object_.bucket, object_.key, [&] {
    if (!file_ || file_->range().last < first) {
      // Blocks written since the file was opened: open it again with them.
      file_.reset();
      if (const auto written = fill_->unfinished_file()) {
        if (auto opened = cache::RangeFileReader::open_unfinished(*written)) {
          file_.emplace(std::move(*opened));
        }
      }
    }
    if (!file_ || file_->range().last < first) return false;
    const s3::ByteRange wanted{first, std::min(file_->range().last, first + into.size() - 1)};
    if (!file_->read_into(wanted, into.data())) return false;
    read = static_cast<std::size_t>(wanted.length());
    return true;
  });
  co_return read;
}

}  // namespace s3hc::pipeline
