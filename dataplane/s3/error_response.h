// S3-style XML error responses for failures the proxy itself detects (bad input, upstream down),
// shaped like S3's own so SDKs parse and retry them as usual. Pure functions; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/status.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

// One kind of error: its HTTP status and S3 error code.
struct ErrorKind {
  boost::beast::http::status status;
  std::string_view code;
  std::string_view message;
};

namespace errors {
inline constexpr ErrorKind kBadRequest{boost::beast::http::status::bad_request, "BadRequest",
                                       "The request could not be parsed."};
inline constexpr ErrorKind kHeaderTooLarge{
    boost::beast::http::status::bad_request, "RequestHeaderSectionTooLarge",
    "Your request header section exceeds the maximum allowed size."};
inline constexpr ErrorKind kRequestTimeout{
    boost::beast::http::status::bad_request, "RequestTimeout",
    "Your socket connection to the server was not read from or written to within the timeout "
    "period."};
inline constexpr ErrorKind kServiceUnavailable{boost::beast::http::status::service_unavailable,
                                               "ServiceUnavailable",
                                               "The proxy could not reach the origin."};
inline constexpr ErrorKind kOriginUnresolved{boost::beast::http::status::service_unavailable,
                                             "ServiceUnavailable",
                                             "The proxy could not resolve the origin's name."};
// S3's own answer when it is asked too much; SDKs back off and retry it.
inline constexpr ErrorKind kSlowDown{boost::beast::http::status::service_unavailable, "SlowDown",
                                     "Please reduce your request rate."};
inline constexpr ErrorKind kBadGateway{boost::beast::http::status::bad_gateway, "BadGateway",
                                       "The origin closed the connection or sent an invalid "
                                       "response."};
inline constexpr ErrorKind kGatewayTimeout{boost::beast::http::status::gateway_timeout,
                                           "GatewayTimeout",
                                           "The origin did not answer in time."};
inline constexpr ErrorKind kEndpointRefused{
    boost::beast::http::status::forbidden, "AccessDenied",
    "The proxy does not forward requests to this endpoint (upstream.allowed_hosts)."};
inline constexpr ErrorKind kNoSuchKey{boost::beast::http::status::not_found, "NoSuchKey",
                                      "The specified key does not exist."};
inline constexpr ErrorKind kPreconditionFailed{
    boost::beast::http::status::precondition_failed, "PreconditionFailed",
    "At least one of the pre-conditions you specified did not hold"};
}  // namespace errors

// A random 16-hex-digit id, as S3 puts in x-amz-request-id.
std::string new_request_id();

// XML-escapes text for element content.
std::string xml_escape(std::string_view text);

// The XML document S3 sends for an error.
std::string error_xml(const ErrorKind& kind, std::string_view resource,
                      std::string_view request_id);

// The <Code> of an S3 error document; nullopt when `xml` is not one.
std::optional<std::string> error_code_of(std::string_view xml);

// A complete response carrying error_xml, with Content-Type, x-amz-request-id and the
// requested keep-alive. HTTP version 1.1.
boost::beast::http::response<boost::beast::http::string_body> error_response(
    const ErrorKind& kind, std::string_view resource, bool keep_alive);

}  // namespace s3hc::s3
