# precompiled_headers.cmake: the headers that the library, the command, the C API and the tests
# include in most of their files, parsed once per target instead of once per file. Every file
# then sees these headers, which can change which function a call finds (HACKING.md).
#
# On by default with clang, whose precompiled header is read lazily: with it and line tables only
# (the clang presets), the clang-asan build's library took 23 % less CPU time and its command and
# tests 31 % less. Off with gcc, which loads the whole precompiled header (125 MB with debug
# information) into every file and gained nothing (its library and command took a sixth more).
# The gcc build, without them, is the one that proves every file includes what it uses.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(CONSENTRY_PRECOMPILED_HEADERS_DEFAULT ON)
else()
  set(CONSENTRY_PRECOMPILED_HEADERS_DEFAULT OFF)
endif()
option(CONSENTRY_PRECOMPILED_HEADERS "Precompile the standard, JSON, CLI11 and doctest headers"
       ${CONSENTRY_PRECOMPILED_HEADERS_DEFAULT})

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
