#include "s3/post_object.h"

#include "util/ascii.h"

namespace s3hc::s3 {
namespace {

// The value of parameter `name` in a header value such as
// `multipart/form-data; boundary="x"` or `form-data; name="key"; filename="a.txt"`.
std::optional<std::string_view> parameter(std::string_view header, std::string_view name) {
  std::optional<std::string_view> found;
  std::size_t at = header.find(';');
  while (at != std::string_view::npos && !found) {
    auto item = header.substr(at + 1);
    const auto end = item.find(';');
    item = item.substr(0, end);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const auto equals = item.find('=');
    if (equals != std::string_view::npos && util::iequals(item.substr(0, equals), name)) {
      auto value = item.substr(equals + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      found = value;
    }
    at = end == std::string_view::npos ? end : at + 1 + end;
  }
  return found;
}

}  // namespace

std::optional<std::string> post_object_key(std::string_view content_type,
                                           std::string_view body_start) {
  if (!util::starts_with_nocase(content_type, "multipart/form-data")) return std::nullopt;
  const auto boundary = parameter(content_type, "boundary");
  if (!boundary || boundary->empty()) return std::nullopt;
  const std::string delimiter = "--" + std::string(*boundary);
  std::optional<std::string> key;
  std::optional<std::string_view> filename;
  auto at = body_start.find(delimiter);
  while (at != std::string_view::npos) {
    const auto headers_start = at + delimiter.size() + 2;  // past the delimiter's CRLF
    const auto headers_end = body_start.find("\r\n\r\n", headers_start);
    if (headers_start > body_start.size() || headers_end == std::string_view::npos) break;
    const auto headers = body_start.substr(headers_start, headers_end - headers_start);
    const auto content_start = headers_end + 4;
    const auto next = body_start.find("\r\n" + delimiter, content_start);
    // The part's Content-Disposition (the only header a form field carries, as a rule).
    std::string_view disposition;
    for (std::size_t line = 0; line < headers.size();) {
      const auto line_end = std::min(headers.find("\r\n", line), headers.size());
      const auto text = headers.substr(line, line_end - line);
      if (util::starts_with_nocase(text, "content-disposition:")) disposition = text;
      line = line_end + 2;
    }
    const auto name = parameter(disposition, "name");
    if (name && util::iequals(*name, "key") && next != std::string_view::npos) {
      key = std::string(body_start.substr(content_start, next - content_start));
    }
    if (name && util::iequals(*name, "file")) {
      filename = parameter(disposition, "filename");
      break;  // the file is the last field S3 reads
    }
    if (next == std::string_view::npos) break;
    at = next + 2;
  }
  if (!key) return std::nullopt;
  constexpr std::string_view kFilename = "${filename}";
  if (const auto slot = key->find(kFilename); slot != std::string::npos) {
    if (!filename) return std::nullopt;
    key->replace(slot, kFilename.size(), *filename);
  }
  return key;
}

}  // namespace s3hc::s3
