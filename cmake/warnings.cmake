# Warnings on, and treated as errors, for our own targets. GCC 12 reports
# -Wrestrict false positives inside std::string at -O3 (GCC bug 105329): off.
function(openbcpm_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
    $<$<CXX_COMPILER_ID:GNU>:-Wduplicated-cond -Wlogical-op -Wno-restrict>
  )
endfunction()
