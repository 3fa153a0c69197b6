// The small XML documents in S3 request and response bodies (DeleteObjects,
// CompleteMultipartUpload, ...) read into a Boost property tree, with the checks Boost's parser
// (rapidxml) leaves out. Pure functions; any thread.
#pragma once

#include <boost/property_tree/ptree.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

// An element: child elements under their names (in document order, repeats kept), attributes
// under "<xmlattr>", and all its text, entities decoded and whitespace kept, in data().
struct XmlElement {
  std::string name;
  boost::property_tree::ptree content;
};

// The root element of a well-formed document. Line ends are normalized first, as XML 1.0
// §2.11 requires ("\r\n" and a lone "\r" become "\n"; "&#13;" stays a carriage return).
// nullopt when the document is malformed; also, rapidxml being lax where S3's parser is not,
// when closing tags do not match the open ones, when a reference is not one of the five
// predefined entities or a character XML allows, when it holds a NUL, a DOCTYPE or more than
// one root element, or when elements nest deeper than any S3 document does (rapidxml
// recurses once per level; a deep body must not exhaust the stack).
std::optional<XmlElement> parse_xml_document(std::string_view body);

// The text of `element`'s only child element named `name`; nullopt when it has none, several,
// or that child contains elements itself.
std::optional<std::string> only_child_text(const boost::property_tree::ptree& element,
                                           std::string_view name);

}  // namespace s3hc::s3
