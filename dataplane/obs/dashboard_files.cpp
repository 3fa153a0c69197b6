#include "obs/dashboard_files.h"

#include <array>
#include <utility>

namespace s3hc::obs {

namespace {

std::string_view content_type_of(std::string_view name) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

}  // namespace

std::optional<PageFile> dashboard_page(std::string_view path) {
  constexpr std::string_view kPrefix = "/dashboard/";
  std::string_view name;
  if (path == "/") {
    name = "index.html";
  } else if (path.starts_with(kPrefix)) {
    name = path.substr(kPrefix.size());
  } else {
    return std::nullopt;
  }
  // Names are compared whole against the embedded list: nothing else can be reached.
  for (const auto& file : dashboard_files()) {
    if (file.name == name) return PageFile{file.bytes, content_type_of(name)};
  }
  return std::nullopt;
}

}  // namespace s3hc::obs
