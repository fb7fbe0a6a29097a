// postgres_absent.cpp: the PostgreSQL entry points of a build without the PostgreSQL store
// (CONSENTRY_BUILD_POSTGRESQL off): they refuse with a clear error.
#include "consentry/extension/store.hpp"

namespace consentry {
namespace {

error absent() {
  return make_error(errc::invalid_argument,
                    "this build of consentry has no PostgreSQL store (build it with "
                    "CONSENTRY_BUILD_POSTGRESQL=ON and libpq)");
}

}  // namespace

result<std::unique_ptr<Store>> open_postgres_store(std::string_view, StoreMode) {
  return absent();
}

result<void> drop_postgres_vault(std::string_view) {
  return absent();
}

}  // namespace consentry
