// store_location.cpp: what a vault location names (an SQLite file or a PostgreSQL URI), and the
// location as messages may show it.
#include <string>
#include <string_view>

#include "consentry/extension/store.hpp"

namespace consentry {

bool is_postgres_url(std::string_view location) noexcept {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string redacted_location(std::string_view location) {
  if (!is_postgres_url(location)) return std::string(location);
  std::string out(location);
  // The user information: scheme://user:password@host...
  const std::size_t start = out.find("://") + 3;
  const std::size_t authority_end = out.find_first_of("/?", start);
  const std::size_t at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
  if (at != std::string::npos && at >= start) {
    const std::size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // A password parameter: ?password=... or &password=...
  const std::size_t query = out.find('?');
  for (std::size_t p = query; p != std::string::npos && p < out.size();) {
    const std::size_t name = p + 1;
    std::size_t end = out.find('&', name);
    if (end == std::string::npos) end = out.size();
    if (std::string_view(out).substr(name, end - name).starts_with("password=")) {
      const std::size_t value = name + 9;
      out.replace(value, end - value, "***");
      end = value + 3;
    }
    p = end < out.size() ? end : std::string::npos;
  }
  return out;
}

}  // namespace consentry
