#include "web/http_parse.hpp"

#include <gtest/gtest.h>

using namespace openbcpm::web;

TEST(PercentDecode, DecodesEscapesAndPlus) {
    EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
    EXPECT_EQ(percent_decode("a%20b+c", false), "a b+c");
    EXPECT_EQ(percent_decode("%24%25%2f", false), "$%/");
}

TEST(PercentDecode, RefusesBrokenEscapes) {
    EXPECT_FALSE(percent_decode("%", true));
    EXPECT_FALSE(percent_decode("%2", true));
    EXPECT_FALSE(percent_decode("%zz", true));
    EXPECT_FALSE(percent_decode("abc%4", true));
}

TEST(Urlencoded, ParsesPairsInOrder) {
    auto f = parse_urlencoded("username=admin&password=dX2oO8%24A%25e94SVoX&empty=&flag");
    ASSERT_TRUE(f);
    ASSERT_EQ(f->size(), 4u);
    EXPECT_EQ(field(*f, "password"), "dX2oO8$A%e94SVoX");
    EXPECT_EQ(field(*f, "empty"), "");
    EXPECT_EQ(field(*f, "flag"), "");
    EXPECT_FALSE(field(*f, "missing"));
}

TEST(Urlencoded, LimitsTheNumberOfFields) {
    std::string body;
    for (size_t i = 0; i <= kMaxFields; ++i)
        body += "a=1&";
    EXPECT_FALSE(parse_urlencoded(body));
}

TEST(Target, SplitsPathAndQuery) {
    auto t = parse_target("/api/events?limit=20&after=5#x");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/api/events");
    EXPECT_EQ(field(t->query, "limit"), "20");
    EXPECT_EQ(field(t->query, "after"), "5");
}

TEST(Target, RefusesOtherFormsAndDotSegments) {
    EXPECT_FALSE(parse_target("http://example/"));
    EXPECT_FALSE(parse_target("*"));
    EXPECT_FALSE(parse_target(""));
    EXPECT_FALSE(parse_target("/static/../openbcpm.db"));
    EXPECT_FALSE(parse_target("/static/%2e%2e/x"));
    EXPECT_FALSE(parse_target("/a%00b"));
}

TEST(Cookies, ParsesAndSkipsMalformedPairs) {
    auto c = parse_cookies("a=1; bcpm_session=\"abc\";junk; =x;  b = 2 ");
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0], (std::pair<std::string, std::string>{"a", "1"}));
    EXPECT_EQ(c[1], (std::pair<std::string, std::string>{"bcpm_session", "abc"}));
    EXPECT_EQ(c[2], (std::pair<std::string, std::string>{"b", "2"}));
}

TEST(ContentType, MediaTypeAndParameters) {
    EXPECT_EQ(media_type("Multipart/Form-Data; boundary=xyz"), "multipart/form-data");
    EXPECT_EQ(content_type_param("multipart/form-data; boundary=\"a;b\"", "boundary"), "a;b");
    EXPECT_EQ(content_type_param("multipart/form-data; charset=utf-8; BOUNDARY=x1", "boundary"),
              "x1");
    EXPECT_FALSE(content_type_param("text/plain", "boundary"));
}

TEST(Multipart, ParsesFieldsAndFiles) {
    const std::string body =
        "preamble\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"mode\"\r\n\r\n"
        "https-own\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"bdt.ini\"\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "// c\r\n1.2.3.4,47808,255.255.255.255\r\n\r\n--XyZ--\r\nepilogue";
    auto parts = parse_multipart(body, "XyZ");
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].name, "mode");
    EXPECT_EQ((*parts)[0].data, "https-own");
    EXPECT_FALSE((*parts)[0].filename);
    const Part* f = find_part(*parts, "file");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->filename, "bdt.ini");
    EXPECT_EQ(f->content_type, "text/plain");
    EXPECT_EQ(f->data, "// c\r\n1.2.3.4,47808,255.255.255.255\r\n");
}

TEST(Multipart, RefusesMalformedBodies) {
    EXPECT_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
                                 "b"));  // no close
    EXPECT_FALSE(parse_multipart("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
                                 "b"));  // no disposition
    EXPECT_FALSE(parse_multipart(
        "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--", "b"));
    EXPECT_FALSE(parse_multipart("no delimiter at all", "b"));
    EXPECT_FALSE(parse_multipart("--b--", ""));
    EXPECT_FALSE(parse_multipart("--b--", std::string(71, 'b')));
    auto empty = parse_multipart("--b--\r\n", "b");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(Json, AcceptsObjectsOnlyAndLimitsDepth) {
    auto j = parse_json_object(R"({"name":"Modbus_Address","value":"7"})");
    ASSERT_TRUE(j);
    EXPECT_EQ((*j)["value"], "7");
    EXPECT_FALSE(parse_json_object("[1,2]"));
    EXPECT_FALSE(parse_json_object("{\"a\":"));
    EXPECT_FALSE(parse_json_object(""));
    std::string deep;
    for (int i = 0; i < 40; ++i)
        deep += "{\"a\":";
    deep += "1";
    for (int i = 0; i < 40; ++i)
        deep += "}";
    EXPECT_FALSE(parse_json_object(deep));
}

TEST(Tokens, ConstantTimeCompare) {
    EXPECT_TRUE(equal_tokens("abc", "abc"));
    EXPECT_FALSE(equal_tokens("abc", "abd"));
    EXPECT_FALSE(equal_tokens("abc", "ab"));
    EXPECT_FALSE(equal_tokens("", ""));
}

TEST(DecodeBody, DispatchesOnTheMediaType) {
    using K = DecodedBody::Kind;
    EXPECT_EQ(decode_body("", "").kind, K::Empty);
    EXPECT_EQ(decode_body("text/plain", "x").kind, K::Unsupported);
    auto form = decode_body("application/x-www-form-urlencoded; charset=UTF-8", "a=1&csrf=t");
    ASSERT_EQ(form.kind, K::Form);
    EXPECT_EQ(field(form.form, "csrf"), "t");
    EXPECT_EQ(decode_body("application/x-www-form-urlencoded", "a=%G1").kind, K::Malformed);
    auto json = decode_body("Application/JSON", R"({"speed":2})");
    ASSERT_EQ(json.kind, K::Json);
    EXPECT_EQ(json.json["speed"], 2);
    EXPECT_EQ(decode_body("application/json", "[]").kind, K::Malformed);
    auto mp =
        decode_body("multipart/form-data; boundary=zz",
                    "--zz\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\nhttp\r\n--zz--");
    ASSERT_EQ(mp.kind, K::Multipart);
    EXPECT_EQ(mp.parts.at(0).data, "http");
    EXPECT_EQ(decode_body("multipart/form-data", "--zz--").kind, K::Malformed);  // no boundary
}
