# precompiled_headers.cmake: the headers that the library, the command, the C API and the tests
# include in most of their files, parsed once per target instead of once per file. About half
# of what compiling a test file costs is parsing these; the build's output does not change.
#
# CONSENTRY_PRECOMPILED_HEADERS=OFF builds without them, as the ThreadSanitizer preset does, so
# that one build in CI still proves every file includes what it uses.
option(CONSENTRY_PRECOMPILED_HEADERS "Precompile the standard, JSON, CLI11 and doctest headers" ON)

set(CONSENTRY_PRECOMPILED_STANDARD_HEADERS
    <algorithm> <array> <atomic> <chrono> <cstddef> <cstdint> <filesystem> <fstream> <functional>
    <map> <memory> <mutex> <optional> <set> <span> <sstream> <string> <string_view> <unordered_map>
    <utility> <vector>)

# consentry_precompile_headers(TARGET [HEADER...]) precompiles the standard headers above and
# each HEADER (e.g. <nlohmann/json.hpp>) for TARGET's own files; nothing when the option is off.
function(consentry_precompile_headers target)
  if(CONSENTRY_PRECOMPILED_HEADERS)
    target_precompile_headers(${target} PRIVATE ${CONSENTRY_PRECOMPILED_STANDARD_HEADERS} ${ARGN})
  endif()
endfunction()
