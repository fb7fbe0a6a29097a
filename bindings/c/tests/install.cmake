# install.cmake (ctest c_api.install, run as `cmake -P`): in the scratch prefix the install.prefix
# test installed the build tree into (fixture consentry_install), checks that the C API is there (libconsentry_c.so with its SONAME link, consentry.h,
# consentry_c.pc), then compiles examples/c/crm_job.c with exactly
#   cc crm_job.c $(pkg-config --cflags --libs consentry_c)
# and runs it against the installed library.
#
# Inputs (-D): PREFIX (the installed prefix), SOURCE_DIR, WORK_DIR, C_COMPILER, and SANITIZE (ON when the library was
# built with the sanitizers, so that the program links their run-time too) and C_COMPILER_ID.
cmake_minimum_required(VERSION 3.25)
foreach(var PREFIX SOURCE_DIR WORK_DIR C_COMPILER)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "install.cmake: -D${var}=... is required")
  endif()
endforeach()

include(${SOURCE_DIR}/tests/find_package/run_step.cmake)

set(prefix "${PREFIX}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

file(GLOB_RECURSE pc_files "${prefix}/*/consentry_c.pc")
file(GLOB_RECURSE sonames "${prefix}/*/libconsentry_c.so.0")
if(NOT EXISTS "${prefix}/include/consentry.h" OR NOT pc_files OR NOT sonames)
  message(FATAL_ERROR "the install lacks include/consentry.h, consentry_c.pc or libconsentry_c.so.0 under ${prefix}")
endif()

find_program(PKG_CONFIG_EXECUTABLE pkg-config REQUIRED)
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run_step("pkg-config --cflags --libs consentry_c" flags
         COMMAND "${PKG_CONFIG_EXECUTABLE}" --cflags --libs consentry_c OUTPUT_STRIP_TRAILING_WHITESPACE)
message(STATUS "pkg-config --cflags --libs consentry_c: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
set(sanitize_flags "")
if(SANITIZE)
  set(sanitize_flags -fsanitize=address,undefined -fno-omit-frame-pointer)
  if(C_COMPILER_ID STREQUAL "Clang")
    # clang puts the sanitizers' C++ run-time, which the library's C++ needs, only in C++ programs.
    list(APPEND sanitize_flags -fsanitize-link-c++-runtime -lstdc++)
  endif()
endif()
set(program "${WORK_DIR}/crm_job")
run_step("compiling crm_job.c with the pkg-config flags" out
         COMMAND "${C_COMPILER}" -std=c11 -Wall -Wextra -Werror -pedantic ${sanitize_flags}
                 "${SOURCE_DIR}/examples/c/crm_job.c" -o "${program}" ${flags})
run_step("pkg-config --variable=libdir" libdir
         COMMAND "${PKG_CONFIG_EXECUTABLE}" --variable=libdir consentry_c OUTPUT_STRIP_TRAILING_WHITESPACE)
set(ENV{LD_LIBRARY_PATH} "${libdir}:$ENV{LD_LIBRARY_PATH}")
run_step("running the installed crm_job" out COMMAND "${program}" "${WORK_DIR}/crm.vault")
if(NOT out MATCHES "\"consentry_export\"")
  message(FATAL_ERROR "crm_job printed no export:\n${out}")
endif()
message(STATUS "crm_job ran against ${libdir}")
