# Turns a text file into a C++ source defining a string_view function, so that
# text assets (the default config) ship inside the binary.
# Usage: cmake -DINPUT=... -DOUTPUT=... -DNAME=... -P embed.cmake
file(READ "${INPUT}" content)
set(delim "openbcpm_embed")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace openbcpm {\nstd::string_view ${NAME}() {\n    static constexpr std::string_view text = R\"${delim}(${content})${delim}\";\n    return text;\n}\n}  // namespace openbcpm\n")
