// libFuzzer target: the web face's own request parsing. The input is a raw
// HTTP request, read with the limits the server uses; its target, cookies and
// body then go through our parsers exactly as in WebServer::handle. When the
// bytes are not a request at all, the first byte picks one parser to feed the
// rest to directly, so each parser also sees unframed input.
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "web/bdt.hpp"
#include "web/http_parse.hpp"

namespace {

using namespace openbcpm::web;
namespace http = boost::beast::http;

std::string_view sv(boost::beast::string_view s) {
    return {s.data(), s.size()};
}

void consume(const DecodedBody& d) {
    // Touch what handlers read, so that every decoded field is materialised.
    for (const Part& p : d.parts) {
        if (p.filename) (void)parse_bdt_ini(p.data);
    }
    (void)field(d.form, "csrf");
    if (d.kind == DecodedBody::Kind::Json) (void)d.json.dump();
}

void direct(uint8_t selector, std::string_view rest) {
    switch (selector % 7) {
        case 0:
            (void)parse_urlencoded(rest);
            break;
        case 1:
            (void)parse_target(rest);
            break;
        case 2:
            (void)parse_cookies(rest);
            break;
        case 3: {
            // "boundary\n body"
            const size_t nl = rest.find('\n');
            if (nl != std::string_view::npos)
                (void)parse_multipart(rest.substr(nl + 1), rest.substr(0, nl));
            break;
        }
        case 4:
            (void)parse_json_object(rest);
            break;
        case 5:
            (void)parse_bdt_ini(rest);
            break;
        case 6: {
            const size_t nl = rest.find('\n');
            if (nl != std::string_view::npos)
                consume(decode_body(rest.substr(0, nl), rest.substr(nl + 1)));
            break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(1024 * 1024);
    parser.header_limit(16 * 1024);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (!ec && parser.is_done()) {
        const auto& req = parser.get();
        (void)parse_target(sv(req.target()));
        (void)parse_cookies(sv(req[http::field::cookie]));
        consume(decode_body(sv(req[http::field::content_type]), req.body()));
        return 0;
    }
    if (size > 0) direct(data[0], input.substr(1));
    return 0;
}
