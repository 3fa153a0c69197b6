#include "s3/error_response.h"

#include <boost/beast/http/field.hpp>
#include <random>

#include "s3/xml_document.h"

namespace s3hc::s3 {

namespace http = boost::beast::http;

std::string new_request_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto bits = generator();
  std::string id(16, '0');
  for (auto& digit : id) {
    digit = kHex[bits & 0xF];
    bits >>= 4;
  }
  return id;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0; drop them rather than emit bad XML.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
          out += c;
        }
    }
  }
  return out;
}

std::string error_xml(const ErrorKind& kind, std::string_view resource,
                      std::string_view request_id) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  xml += kind.code;
  xml += "</Code><Message>";
  xml += xml_escape(kind.message);
  xml += "</Message><Resource>";
  xml += xml_escape(resource);
  xml += "</Resource><RequestId>";
  xml += request_id;
  xml += "</RequestId></Error>";
  return xml;
}

std::optional<std::string> error_code_of(std::string_view xml) {
  const auto document = parse_xml_document(xml);
  if (!document || document->name != "Error") return std::nullopt;
  return only_child_text(document->content, "Code");
}

http::response<http::string_body> error_response(const ErrorKind& kind, std::string_view resource,
                                                 bool keep_alive) {
  const auto request_id = new_request_id();
  http::response<http::string_body> response{kind.status, 11};
  response.set(http::field::content_type, "application/xml");
  response.set("x-amz-request-id", request_id);
  response.set(http::field::server, "s3hc");
  response.body() = error_xml(kind, resource, request_id);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

}  // namespace s3hc::s3
