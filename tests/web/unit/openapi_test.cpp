// docs/openapi.yaml documents every API route of the server, and nothing more.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "web/web_face.hpp"

TEST(OpenApi, DocumentsEveryApiRoute) {
    std::ifstream in(std::string(OPENBCPM_SOURCE_DIR) + "/docs/openapi.yaml");
    ASSERT_TRUE(in) << "docs/openapi.yaml";
    std::set<std::string> documented;
    std::string line;
    bool in_paths = false;
    while (std::getline(in, line)) {
        if (line == "paths:")
            in_paths = true;
        else if (in_paths && line.size() > 3 && line.rfind("  /", 0) == 0 && line.back() == ':')
            documented.insert(line.substr(2, line.size() - 3));
    }
    std::set<std::string> served;
    for (const auto& r : openbcpm::web::route_table()) {
        if (!r.is_page && r.path != "/static/") served.insert(r.path);
    }
    EXPECT_EQ(documented, served);
}
