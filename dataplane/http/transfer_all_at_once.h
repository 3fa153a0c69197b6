// A completion condition for asio::async_write that hands the socket everything still to send
// at each write_some. asio's default (transfer_all) hands it at most 64 KiB per call, so a
// 1 MiB answer costs 17 sendmsg calls where one would do (the socket's send buffer still bounds
// each call, and a partial write is simply continued).
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <limits>

namespace s3hc::http {

struct TransferAllAtOnce {
  std::size_t operator()(const boost::system::error_code& error, std::size_t) const {
    return error ? 0 : std::numeric_limits<std::size_t>::max();
  }
};

inline constexpr TransferAllAtOnce transfer_all_at_once{};

}  // namespace s3hc::http
