// One client connection's life: read request headers one after another (keep-alive and
// pipelining), reject what cannot be parsed with an S3-style error, refuse what the admission
// gate does not let in (503 SlowDown), hand the rest to the RequestHandler. Runs on the
// io_context that accepted the socket.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <cstddef>

#include "http/admission.h"
#include "http/deadline.h"
#include "http/request_handler.h"
#include "obs/access_log.h"
#include "obs/proxy_metrics.h"

namespace s3hc::http {

struct SessionOptions {
  std::size_t max_header_bytes;
  std::size_t read_buffer_bytes;
  std::chrono::milliseconds idle_timeout;  // between requests
  std::chrono::milliseconds io_timeout;    // inside a request, and for each write
  // Set at shutdown: connections close after their current response instead of waiting
  // for another request.
  const std::atomic<bool>* draining;
  // Every request takes a ticket here before its handler sees it (process-wide).
  AdmissionGate* admission;
  // Each answered request gets a line here; null: no access log.
  obs::AccessLog* access_log = nullptr;
};

// The sweeper must belong to the socket's io_context thread.
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket,
                                         RequestHandler& handler, const SessionOptions& options,
                                         DeadlineSweeper& sweeper, obs::ProxyMetrics& metrics);

}  // namespace s3hc::http
