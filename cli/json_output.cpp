// json_output.cpp: compact JSON on stdout that cannot drive the terminal.
#include "json_output.hpp"

#include <cstdio>
#include <iostream>
#include <string>

namespace consentry::cli {

void print_json(const nlohmann::ordered_json& j) {
  const std::string text = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // The dump is valid UTF-8 with the C0 controls escaped; DEL and the C1 controls (U+0080 to
  // U+009F, which some terminals obey) are escaped too. They occur only inside strings, whose
  // values stay exactly what they were.
  std::string out;
  out.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c == 0x7f || c1) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c1 ? static_cast<unsigned char>(text[++i]) : c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  std::cout << out << '\n';
}

}  // namespace consentry::cli
