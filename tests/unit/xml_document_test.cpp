#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "s3/xml_document.h"

namespace s3hc::s3 {
namespace {

// The text of the root's only child `name`, or "<none>".
std::string child_text(std::string_view xml, std::string_view name) {
  const auto document = parse_xml_document(xml);
  if (!document) return "<malformed>";
  return only_child_text(document->content, name).value_or("<none>");
}

TEST(XmlDocumentTest, ReadsTheRootAndItsChildren) {
  const auto document = parse_xml_document(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Root xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <A>1</A>\n  <B>2</B><B>3</B>\n"
      "</Root>\n");
  ASSERT_TRUE(document);
  EXPECT_EQ(document->name, "Root");
  EXPECT_EQ(only_child_text(document->content, "A"), "1");
  EXPECT_FALSE(only_child_text(document->content, "B"));  // two of them
  EXPECT_FALSE(only_child_text(document->content, "C"));
  EXPECT_EQ(document->content.count("B"), 2u);
}

TEST(XmlDocumentTest, DecodesReferencesAndKeepsWhitespace) {
  EXPECT_EQ(child_text("<R><K>a&amp;b&lt;c&gt;d&quot;e&apos;f</K></R>", "K"), "a&b<c>d\"e'f");
  EXPECT_EQ(child_text("<R><K>&#x41;&#66;&#xe9;&#x1F600;</K></R>", "K"),
            "AB\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(child_text("<R><K>  two  spaces  </K></R>", "K"), "  two  spaces  ");
  EXPECT_EQ(child_text("<R><K> </K></R>", "K"), " ");
  EXPECT_EQ(child_text("<R><K></K></R>", "K"), "");
  EXPECT_EQ(child_text("<R><K/></R>", "K"), "");
  EXPECT_EQ(child_text("<R><K><![CDATA[a<&>b]]></K></R>", "K"), "a<&>b");
  EXPECT_EQ(child_text("<R><K>a<!-- note -->b</K></R>", "K"), "ab");
  EXPECT_EQ(child_text("\xEF\xBB\xBF<R><K>bom</K></R>", "K"), "bom");
}

TEST(XmlDocumentTest, NormalizesLineEndsButNotCharacterReferences) {
  EXPECT_EQ(child_text("<R><K>a\r\nb\rc\n</K></R>", "K"), "a\nb\nc\n");
  EXPECT_EQ(child_text("<R><K>a&#13;&#10;b&#xD;</K></R>", "K"), "a\r\nb\r");
}

TEST(XmlDocumentTest, ChildWithElementsHasNoText) {
  EXPECT_EQ(child_text("<R><K>a<i>b</i></K></R>", "K"), "<none>");
  EXPECT_EQ(child_text("<R><K attribute=\"x\">a</K></R>", "K"), "a");
}

TEST(XmlDocumentTest, RejectsMalformedDocuments) {
  const std::vector<std::string> malformed = {"",
                                              "   ",
                                              "plain text",
                                              "<R>",
                                              "<R></S>",
                                              "<R><K>a</R></K>",
                                              "<R><K>a</K>",
                                              "</R>",
                                              "<R/><S/>",
                                              "<R></R><S></S>",
                                              "<R></R>trailing",
                                              "<R>&bogus;</R>",
                                              "<R>&amp</R>",
                                              "<R>a & b</R>",
                                              "<R>&#0;</R>",
                                              "<R>&#x1;</R>",
                                              "<R>&#xD800;</R>",
                                              "<R>&#x110000;</R>",
                                              "<R>&#X41;</R>",
                                              "<R>&#;</R>",
                                              "<R><!-- open </R>",
                                              "<R><![CDATA[ open </R>",
                                              "<!DOCTYPE R [<!ENTITY e \"x\">]><R>&e;</R>",
                                              "<R x=\"&bogus;\"/>",
                                              "<R x=\"1></R>",
                                              "<>a</>",
                                              std::string("<R>a\0b</R>", 10),
                                              std::string("<R></R>\0<S>", 11)};
  for (const auto& xml : malformed) EXPECT_FALSE(parse_xml_document(xml)) << xml;
}

TEST(XmlDocumentTest, GreaterThanInsideAttributeValuesDoesNotEndTheTag) {
  const auto document = parse_xml_document("<R a=\"x>y\" b='/'><K>k</K></R>");
  ASSERT_TRUE(document);
  EXPECT_EQ(only_child_text(document->content, "K"), "k");
}

std::string nested(std::size_t depth) {
  std::string xml;
  for (std::size_t i = 0; i < depth; ++i) xml += "<a>";
  for (std::size_t i = 0; i < depth; ++i) xml += "</a>";
  return xml;
}

TEST(XmlDocumentTest, DeepNestingIsRejectedBeforeParsing) {
  EXPECT_TRUE(parse_xml_document(nested(16)));
  EXPECT_FALSE(parse_xml_document(nested(17)));
  // Handed to rapidxml, this would overflow the stack.
  EXPECT_FALSE(parse_xml_document(nested(1'000'000)));
}

}  // namespace
}  // namespace s3hc::s3
