# Every dependency comes from a Debian package; nothing is downloaded at build time.
find_package(PkgConfig REQUIRED)
pkg_check_modules(sodium REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
find_package(SQLite3 REQUIRED)
# OpenSSL's libcrypto: AES for FF1 tokens and HMAC-SHA256 pseudonyms.
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)
find_package(nlohmann_json 3.10 REQUIRED)
# kainjow's Mustache (header only, Debian libkainjow-mustache-dev) renders the HTML export from a
# template; it is private to the library.
find_path(KAINJOW_MUSTACHE_INCLUDE_DIR kainjow/mustache.hpp REQUIRED)
# libphonenumber (Debian libphonenumber-dev) reads phone numbers and writes them in E.164. Debian
# ships neither a CMake package nor a .pc file for it: the header and the library are looked for,
# and the library is linked by name (src/CMakeLists.txt).
find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h REQUIRED)
find_library(PHONENUMBER_LIBRARY phonenumber REQUIRED)
# libpq (Debian libpq-dev) for the PostgreSQL store; optional: CONSENTRY_BUILD_POSTGRESQL
# defaults to whether it is found.
pkg_check_modules(libpq QUIET IMPORTED_TARGET libpq)
