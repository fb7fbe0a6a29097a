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
# libpq (Debian libpq-dev) for the PostgreSQL store; optional: CONSENTRY_BUILD_POSTGRESQL
# defaults to whether it is found.
pkg_check_modules(libpq QUIET IMPORTED_TARGET libpq)
