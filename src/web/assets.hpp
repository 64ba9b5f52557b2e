// The front-end files (web/), embedded in the binary at build time.
#pragma once

#include <string_view>

namespace openbcpm::web {

struct Asset {
    std::string_view path;          // "/static/app.css", or a page's path ("/", "/network")
    std::string_view content_type;  // with charset for text
    std::string_view body;
    std::string_view etag;  // quoted content hash
};

// nullptr when there is no such asset.
const Asset* find_asset(std::string_view path);

}  // namespace openbcpm::web
