// hierarchy.cpp: generalisation hierarchies, parsed and checked to form a tree.
#include <map>
#include <unordered_map>

#include "consentry/anonymise/dataset.hpp"

namespace consentry {

result<Hierarchy> parse_hierarchy(std::string_view text, char delimiter, std::string source) {
  std::vector<std::size_t> lines;
  auto records = parse_records(text, delimiter, source, lines);
  if (!records) return std::move(records).err();
  auto bad = [&](std::size_t line, const std::string& what) {
    return make_error(errc::bad_input, source + ":" + std::to_string(line) + ": " + what);
  };
  if (records->empty()) return bad(1, "the hierarchy has no rows");
  const std::size_t depth = records->front().size();
  // parent[j] maps a label at level j to its generalisation at level j + 1 and the line that said so.
  std::vector<std::unordered_map<std::string, std::pair<std::string, std::size_t>>> parent(depth);
  std::unordered_map<std::string, std::size_t> leaves;
  for (std::size_t r = 0; r < records->size(); ++r) {
    const auto& row = (*records)[r];
    if (row.size() != depth)
      return bad(lines[r], "the row has " + std::to_string(row.size()) + " levels, the first row " +
                               std::to_string(depth));
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (row[j].empty()) return bad(lines[r], "level " + std::to_string(j) + " is empty");
    }
    auto [at, fresh] = leaves.emplace(row[0], lines[r]);
    if (!fresh)
      return bad(lines[r],
                 "the value at level 0 is listed again (first on line " + std::to_string(at->second) + ")");
    for (std::size_t j = 1; j + 1 < depth; ++j) {
      auto [p, added] = parent[j].emplace(row[j], std::make_pair(row[j + 1], lines[r]));
      if (!added && p->second.first != row[j + 1])
        return bad(lines[r], "the label at level " + std::to_string(j) +
                                 " has a different generalisation at level " + std::to_string(j + 1) +
                                 " than on line " + std::to_string(p->second.second));
    }
  }
  Hierarchy h;
  h.source = std::move(source);
  h.rows = std::move(*records);
  h.lines = std::move(lines);
  return h;
}

}  // namespace consentry
