// An S3 origin in memory for unit tests of the pipelines: an http::UpstreamConnector whose
// connections lead to an in-process HTTP/1.1 server (socket_pair.h; nothing listens) that
// answers GetObject and HeadObject from the objects it holds as S3 would (Range, If-Match,
// If-None-Match; 404 NoSuchKey) and records every request it receives.
//
// Thread-safety: none; everything runs on the test's io_context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "http/deadline.h"
#include "http/endpoint.h"
#include "http/upstream_connector.h"

namespace s3hc::testing {

class FakeOrigin final : public http::UpstreamConnector {
 public:
  // A request as the origin received it; header names in lower case.
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;

    bool has(const std::string& name) const { return headers.contains(name); }
    std::string header(const std::string& name) const {
      const auto found = headers.find(name);
      return found == headers.end() ? std::string() : found->second;
    }
  };

  FakeOrigin(boost::asio::io_context& io, http::DeadlineSweeper& sweeper);

  // Stores a new version of /bucket/key (a new ETag); `body` empty for an empty object.
  void put(const std::string& path, std::string body);
  void remove(const std::string& path);
  // Requests for objects in `bucket` get 404 NoSuchBucket.
  void remove_bucket(const std::string& bucket) { missing_buckets_.insert(bucket); }
  std::string etag_of(const std::string& path) const;

  // From now on each response body stops after `bytes` until release(): a fill in progress.
  void hold_bodies_after(std::size_t bytes);
  void release();

  // Called with each request before it is answered (a test may change an object then); a
  // value cuts that answer's body after so many bytes and closes the connection.
  using Fault = std::function<std::optional<std::size_t>(const Request&)>;
  void on_request(Fault fault) { fault_ = std::move(fault); }

  const std::vector<Request>& requests() const { return requests_; }
  std::size_t connections() const { return connections_; }

  boost::asio::awaitable<std::unique_ptr<http::UpstreamConnection>> connect(
      boost::system::error_code& ec) override;

  // A connector whose connections lead here, for an http::OriginRouter's factory; endpoints()
  // lists the origin each was made for.
  std::unique_ptr<http::UpstreamConnector> connector_for(const http::UpstreamUrl& origin);
  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  struct Object {
    std::string body;
    std::string etag;
  };
  struct Answer {
    std::string header;
    std::string body;
  };

  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);
  Answer answer(const Request& request) const;
  Answer answer_object(const Request& request, const Object& object) const;
  boost::asio::awaitable<void> send_body(boost::asio::ip::tcp::socket& socket,
                                         const std::string& body);

  boost::asio::io_context& io_;
  http::DeadlineSweeper& sweeper_;
  std::map<std::string, Object> objects_;
  std::set<std::string> missing_buckets_;
  int versions_ = 0;
  std::optional<std::size_t> hold_after_;
  boost::asio::steady_timer released_;  // expires when release() is called
  Fault fault_;
  std::vector<Request> requests_;
  std::size_t connections_ = 0;
  std::vector<std::string> endpoints_;
};

}  // namespace s3hc::testing
