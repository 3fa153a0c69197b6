// OTLP/HTTP over plain HTTP/1.1: each export is one POST on a new connection (an export every
// few seconds gains nothing from keep-alive, and a fresh connection never finds one the
// collector has closed). The collector's name is resolved by the system resolver (a collector
// is often "localhost"). Owned and used by one executor (the exporter's thread).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>

#include "http/endpoint.h"
#include "obs/otlp_transport.h"

namespace s3hc::obs {

// What a collector's answer with this status means (OTLP/HTTP): 2xx delivered; 429, 502, 503
// and 504 retryable; anything else is a request the collector will never take.
OtlpPostResult result_of_status(unsigned status);

class OtlpHttpTransport final : public OtlpTransport {
 public:
  // `endpoint` is an http:// URL with its path. Each post ends within `timeout`, resolution,
  // connection, request and answer together (a system resolver that hangs past it is waited
  // for: it cannot be interrupted).
  OtlpHttpTransport(boost::asio::any_io_executor executor, http::HttpUrl endpoint,
                    std::chrono::milliseconds timeout);

  boost::asio::awaitable<OtlpPostResult> post(std::string body) override;
  void cancel() override;

 private:
  boost::asio::awaitable<OtlpPostResult> exchange(boost::beast::tcp_stream& stream,
                                                  std::string body);

  boost::asio::any_io_executor executor_;
  http::HttpUrl endpoint_;
  std::chrono::milliseconds timeout_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream* in_flight_ = nullptr;  // the post's connection, while there is one
};

}  // namespace s3hc::obs
