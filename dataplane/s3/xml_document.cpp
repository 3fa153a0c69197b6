#include "s3/xml_document.h"

#include <boost/property_tree/xml_parser.hpp>
#include <charconv>
#include <cstdint>
#include <sstream>
#include <vector>

namespace s3hc::s3 {
namespace {

namespace pt = boost::property_tree;

// S3's documents nest three levels deep (Delete > Object > Key); this leaves room to spare.
constexpr std::size_t kMaxDepth = 16;

std::string normalize_line_ends(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
      continue;
    }
    out += '\n';
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

// The Char production of XML 1.0: no NUL, no other C0 control but tab, LF and CR.
bool is_xml_char(std::uint32_t code) {
  return code == 0x9 || code == 0xA || code == 0xD || (code >= 0x20 && code <= 0xD7FF) ||
         (code >= 0xE000 && code <= 0xFFFD) || (code >= 0x10000 && code <= 0x10FFFF);
}

// Whether `text`, which starts at '&', starts with a reference XML defines. rapidxml copies
// an unknown one verbatim and encodes any number, even &#0;.
bool starts_with_valid_reference(std::string_view text) {
  const auto semicolon = text.find(';');
  if (semicolon == std::string_view::npos) return false;
  const auto name = text.substr(1, semicolon - 1);
  if (name == "amp" || name == "lt" || name == "gt" || name == "apos" || name == "quot") {
    return true;
  }
  if (!name.starts_with('#')) return false;
  auto digits = name.substr(1);
  int base = 10;
  if (digits.starts_with('x')) {
    base = 16;
    digits.remove_prefix(1);
  }
  std::uint32_t code = 0;
  const auto* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, code, base);
  return !digits.empty() && ec == std::errc{} && ptr == end && is_xml_char(code);
}

std::string_view tag_name(std::string_view xml, std::size_t start) {
  const auto end = xml.find_first_of(" \t\n/>", start);
  return xml.substr(start, (end == std::string_view::npos ? xml.size() : end) - start);
}

// Moves `at` past the first `terminator` at or after `from`; false when there is none.
bool skip_past(std::string_view xml, std::size_t from, std::string_view terminator,
               std::size_t& at) {
  const auto found = xml.find(terminator, from);
  if (found == std::string_view::npos) return false;
  at = found + terminator.size();
  return true;
}

// What rapidxml does not check: that each closing tag closes the element open, that
// references are valid, and the depth. A tag-level scan, not a parser: rapidxml still parses.
bool tags_and_references_are_sound(std::string_view xml) {
  std::vector<std::string_view> open;
  std::size_t at = 0;
  while (at < xml.size()) {
    if (xml[at] == '&') {
      if (!starts_with_valid_reference(xml.substr(at))) return false;
      ++at;
      continue;
    }
    if (xml[at] != '<') {
      ++at;
      continue;
    }
    const auto markup = xml.substr(at);
    if (markup.starts_with("<!--")) {
      if (!skip_past(xml, at + 4, "-->", at)) return false;
    } else if (markup.starts_with("<![CDATA[")) {
      if (!skip_past(xml, at + 9, "]]>", at)) return false;
    } else if (markup.starts_with("<?")) {  // the XML declaration or a processing instruction
      if (!skip_past(xml, at + 2, "?>", at)) return false;
    } else if (markup.starts_with("<!")) {
      return false;  // a DOCTYPE: S3 sends none, and rapidxml would skip its declarations
    } else if (markup.starts_with("</")) {
      const auto name = tag_name(xml, at + 2);
      if (open.empty() || open.back() != name) return false;
      open.pop_back();
      at += 2 + name.size();
      while (at < xml.size() && (xml[at] == ' ' || xml[at] == '\t' || xml[at] == '\n')) ++at;
      if (at == xml.size() || xml[at] != '>') return false;
      ++at;
    } else {
      const auto name = tag_name(xml, at + 1);
      if (name.empty()) return false;
      at += 1 + name.size();
      char quote = 0;  // inside an attribute value, '>' does not end the tag
      for (; at < xml.size() && (quote != 0 || xml[at] != '>'); ++at) {
        const char c = xml[at];
        if (c == '&' && !starts_with_valid_reference(xml.substr(at))) return false;
        if (quote == 0 && (c == '"' || c == '\'')) {
          quote = c;
        } else if (c == quote) {
          quote = 0;
        }
      }
      if (at == xml.size()) return false;
      const bool self_closing = xml[at - 1] == '/';
      ++at;
      if (!self_closing) {
        open.push_back(name);
        if (open.size() > kMaxDepth) return false;
      }
    }
  }
  return open.empty();
}

}  // namespace

std::optional<XmlElement> parse_xml_document(std::string_view body) {
  // rapidxml reads up to the first NUL, and XML allows none.
  if (body.find('\0') != std::string_view::npos) return std::nullopt;
  const auto xml = normalize_line_ends(body);
  if (!tags_and_references_are_sound(xml)) return std::nullopt;
  pt::ptree document;
  try {
    std::istringstream stream(xml);
    pt::read_xml(stream, document, pt::xml_parser::no_comments);
  } catch (const pt::xml_parser_error&) {
    return std::nullopt;
  }
  if (document.size() != 1) return std::nullopt;
  auto& [name, content] = document.front();
  return XmlElement{name, std::move(content)};
}

std::optional<std::string> only_child_text(const pt::ptree& element, std::string_view name) {
  const std::string key(name);
  if (element.count(key) != 1) return std::nullopt;
  const auto& child = element.find(key)->second;
  for (const auto& grandchild : child) {
    if (grandchild.first != "<xmlattr>") return std::nullopt;
  }
  return child.data();
}

}  // namespace s3hc::s3
