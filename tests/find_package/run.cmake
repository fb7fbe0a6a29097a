# run.cmake proves that an installed consentry can be used by a downstream project. It runs as
# `cmake -P` in one of three steps (see tests/CMakeLists.txt):
#
#   STEP=install      cmake --install the build tree into WORK_DIR/prefix
#   STEP=find_package configure, build and run tests/find_package with CMAKE_PREFIX_PATH=prefix
#   STEP=pkg_config   compile and run the same program with the flags of the README's pkg-config
#                     command (`pkg-config --static --cflags --libs consentry`)
#   STEP=headers      compile every installed header on its own against the prefix: each tier's
#                     headers stand alone, and none needs a header that is not installed
#
# Inputs (-D): STEP, CONSENTRY_BINARY_DIR, CONSUMER_SOURCE_DIR, WORK_DIR, GENERATOR, CXX_COMPILER,
# README (for STEP=pkg_config), and optionally BUILD_TYPE and SANITIZE (ON when the library was built with the sanitizers, so
# that the consumer links their run-time libraries too).
cmake_minimum_required(VERSION 3.25)

foreach(var STEP CONSENTRY_BINARY_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(sanitize_flags "")
if(SANITIZE)
  set(sanitize_flags -fsanitize=address,undefined -fno-omit-frame-pointer)
endif()

include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
  run_step("cmake --install" out COMMAND "${CMAKE_COMMAND}" --install "${CONSENTRY_BINARY_DIR}" --prefix "${prefix}")
  foreach(required include/consentry/vault.hpp include/consentry/consentry.hpp
                   include/consentry/extension.hpp include/consentry/extension/store.hpp
                   include/consentry/extension/key_provider.hpp)
    if(NOT EXISTS "${prefix}/${required}")
      message(FATAL_ERROR "the install has no ${required}")
    endif()
  endforeach()
  # Plumbing stays in src/: sealing and the keyring are not part of the API.
  foreach(internal include/consentry/aead.hpp include/consentry/keyring.hpp include/crypto)
    if(EXISTS "${prefix}/${internal}")
      message(FATAL_ERROR "the install has ${internal}, which is internal")
    endif()
  endforeach()
  file(GLOB_RECURSE configs "${prefix}/*/consentryConfig.cmake")
  file(GLOB_RECURSE pc_files "${prefix}/*/consentry.pc")
  if(NOT configs OR NOT pc_files)
    message(FATAL_ERROR "the install lacks consentryConfig.cmake or consentry.pc under ${prefix}")
  endif()
  message(STATUS "installed into ${prefix}")

elseif(STEP STREQUAL "find_package")
  set(build "${WORK_DIR}/find_package-build")
  file(REMOVE_RECURSE "${build}")
  set(configure_args -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
                     "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_PREFIX_PATH=${prefix}")
  if(BUILD_TYPE)
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
  endif()
  if(SANITIZE)
    list(JOIN sanitize_flags " " flags)
    list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}")
  endif()
  run_step("configuring the downstream project" out COMMAND "${CMAKE_COMMAND}" ${configure_args})
  run_step("building the downstream project" out COMMAND "${CMAKE_COMMAND}" --build "${build}")
  run_step("running the downstream program" out COMMAND "${build}/consumer")
  message(STATUS "find_package(consentry): ${out}")

elseif(STEP STREQUAL "pkg_config")
  find_program(PKG_CONFIG_EXECUTABLE pkg-config REQUIRED)
  file(GLOB_RECURSE pc_files "${prefix}/*/consentry.pc")
  if(NOT pc_files)
    message(FATAL_ERROR "no consentry.pc under ${prefix}; run the install step first")
  endif()
  list(GET pc_files 0 pc_file)
  get_filename_component(pc_dir "${pc_file}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")

  # The installed .pc must point into the prefix it was installed to, not where the build
  # tree was configured to install.
  run_step("pkg-config --variable=includedir" includedir
           COMMAND "${PKG_CONFIG_EXECUTABLE}" --variable=includedir consentry
           OUTPUT_STRIP_TRAILING_WHITESPACE)
  file(REAL_PATH "${prefix}/include" expected_includedir)
  if(EXISTS "${includedir}")
    file(REAL_PATH "${includedir}" includedir)
  endif()
  if(NOT includedir STREQUAL expected_includedir)
    message(FATAL_ERROR "consentry.pc gives includedir '${includedir}', expected '${expected_includedir}'")
  endif()

  # The command is the README's own line, so the README cannot show one that does not link.
  if("${README}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -DREADME=... is required for STEP=pkg_config")
  endif()
  file(STRINGS "${README}" readme_lines REGEX "^PKG_CONFIG_PATH=[^ ]+ pkg-config .* consentry$")
  list(LENGTH readme_lines readme_count)
  if(NOT readme_count EQUAL 1)
    message(FATAL_ERROR "README.md should hold exactly one 'PKG_CONFIG_PATH=... pkg-config ... consentry' line, found ${readme_count}")
  endif()
  string(REGEX REPLACE "^PKG_CONFIG_PATH=[^ ]+ pkg-config " "" readme_args "${readme_lines}")
  separate_arguments(readme_args UNIX_COMMAND "${readme_args}")
  run_step("pkg-config ${readme_args} (README.md)" flags
           COMMAND "${PKG_CONFIG_EXECUTABLE}" ${readme_args}
           OUTPUT_STRIP_TRAILING_WHITESPACE)
  message(STATUS "pkg-config ${readme_args}: ${flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(program "${WORK_DIR}/pkg_config_consumer")
  run_step("compiling with the pkg-config flags" out
           COMMAND "${CXX_COMPILER}" ${sanitize_flags} "${CONSUMER_SOURCE_DIR}/main.cpp" -o "${program}" ${flags})
  # A shared libconsentry is found at run time through the prefix's libdir.
  run_step("pkg-config --variable=libdir" libdir
           COMMAND "${PKG_CONFIG_EXECUTABLE}" --variable=libdir consentry
           OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")
  run_step("running the pkg-config program" out COMMAND "${program}")
  message(STATUS "pkg-config: ${out}")

elseif(STEP STREQUAL "headers")
  file(GLOB_RECURSE headers RELATIVE "${prefix}/include" "${prefix}/include/consentry/*.hpp")
  if(NOT headers)
    message(FATAL_ERROR "no headers under ${prefix}/include/consentry; run the install step first")
  endif()
  list(LENGTH headers count)
  set(unit "${WORK_DIR}/one_header.cpp")
  foreach(header IN LISTS headers)
    file(WRITE "${unit}" "#include <${header}>\n")
    run_step("compiling ${header} on its own" out
             COMMAND "${CXX_COMPILER}" -std=c++20 -fsyntax-only -Wall -Werror -I "${prefix}/include" "${unit}")
  endforeach()
  message(STATUS "${count} installed headers compile on their own")

else()
  message(FATAL_ERROR "run.cmake: unknown STEP '${STEP}'")
endif()
