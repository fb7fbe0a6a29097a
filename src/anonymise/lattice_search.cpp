// lattice_search.cpp: optimal full-domain generalisation. The quasi-identifiers are encoded as
// integer codes once, identical rows are merged, and every hierarchy level gets a code map, so
// that checking a lattice node is one pass over the distinct rows with integer keys. The search
// settles the lattice with binary searches along upward paths, tagging by monotonicity (the
// generalisations of an anonymous node are anonymous, the specialisations of one that is not are
// not), then finds the node of least discernibility with a lower bound that prunes
// generalisations of nodes already too costly. One file over ~600 lines on purpose: the encoding,
// the node check and the search share the encoded rows and their invariants, and read best
// together.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "privacy_model.hpp"

namespace consentry::detail {
namespace {

/// kMaxNodes bounds the lattice (the product of the hierarchies' level counts).
constexpr std::uint64_t kMaxNodes = std::uint64_t{1} << 22;

/// LevelColumn is one quasi-identifier's hierarchy as codes: leaf (row of the hierarchy) to the
/// code of its label at each level, each label's text and how many leaves it covers.
struct LevelColumn {
  const Hierarchy* hierarchy = nullptr;
  std::size_t leaves = 0;
  std::size_t levels = 0;
  std::vector<std::vector<std::uint32_t>> to_level;      ///< [level][leaf] -> code
  std::vector<std::vector<std::string_view>> labels;     ///< [level][code] -> label
  std::vector<std::vector<std::uint32_t>> leaves_under;  ///< [level][code] -> leaves
};

LevelColumn encode_levels(const Hierarchy& h) {
  LevelColumn col;
  col.hierarchy = &h;
  col.leaves = h.rows.size();
  col.levels = h.levels();
  col.to_level.resize(col.levels);
  col.labels.resize(col.levels);
  col.leaves_under.resize(col.levels);
  for (std::size_t j = 0; j < col.levels; ++j) {
    std::unordered_map<std::string_view, std::uint32_t> codes;
    col.to_level[j].resize(col.leaves);
    for (std::size_t leaf = 0; leaf < col.leaves; ++leaf) {
      const std::string_view label = h.rows[leaf][j];
      auto [it, added] = codes.emplace(label, static_cast<std::uint32_t>(codes.size()));
      if (added) {
        col.labels[j].push_back(label);
        col.leaves_under[j].push_back(0);
      }
      col.to_level[j][leaf] = it->second;
      ++col.leaves_under[j][it->second];
    }
  }
  return col;
}

/// KeyTable assigns dense ids to 64-bit keys (open addressing); clear() is O(1) by generation.
class KeyTable {
 public:
  void reset(std::size_t expected) {
    std::size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    if (cap != keys_.size()) {
      keys_.assign(cap, 0);
      ids_.assign(cap, 0);
      stamp_.assign(cap, 0);
      generation_ = 0;
      mask_ = cap - 1;
      shift_ = 64 - static_cast<unsigned>(std::countr_zero(cap));
    }
    if (++generation_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      generation_ = 1;
    }
    size_ = 0;
  }
  std::uint32_t id(std::uint64_t key) {
    std::size_t at = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
    while (true) {
      if (stamp_[at] != generation_) {
        stamp_[at] = generation_;
        keys_[at] = key;
        ids_[at] = static_cast<std::uint32_t>(size_);
        return static_cast<std::uint32_t>(size_++);
      }
      if (keys_[at] == key) return ids_[at];
      at = (at + 1) & mask_;
    }
  }
  std::size_t size() const noexcept { return size_; }

 private:
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> ids_;
  std::vector<std::uint32_t> stamp_;
  std::uint32_t generation_ = 0;
  std::size_t mask_ = 0;
  unsigned shift_ = 60;
  std::size_t size_ = 0;
};

/// NodeResult is what checking one node found.
struct NodeResult {
  bool anonymous = false;
  std::uint64_t raw_dm = 0;  ///< sum of |E|^2 over all classes, suppressed or not
  std::uint64_t dm = 0;      ///< discernibility with suppressed rows costing N each
  std::size_t suppressed = 0;
};

/// Encoded is the table as the search sees it: distinct rows of leaf codes (column-major), with
/// their sensitive code and multiplicity, and the row -> distinct row map.
class Encoded {
 public:
  Encoded(std::vector<LevelColumn> columns, const AnonymityConfig& config, std::size_t rows)
      : cols_(std::move(columns)), config_(config), rows_(rows) {
    max_suppressed_ =
        static_cast<std::size_t>(std::floor(config.max_suppression * static_cast<double>(rows) + 1e-9));
    // Keys are built as mixed-radix numbers; when the radices' product could overflow 64 bits the
    // partial keys are renumbered densely on the way.
    std::uint64_t product = 1;
    fits_ = true;
    for (const auto& c : cols_) {
      const std::uint64_t r = std::max<std::uint64_t>(1, c.leaves);
      if (product > std::numeric_limits<std::uint64_t>::max() / r) fits_ = false;
      product = fits_ ? product * r : product;
    }
  }

  /// add_rows merges identical rows (leaf codes and sensitive code).
  void add_rows(const std::vector<std::vector<std::uint32_t>>& leaf, const std::vector<std::uint32_t>& sens,
                std::size_t sens_distinct) {
    const std::size_t q = cols_.size();
    sens_distinct_ = sens_distinct;
    const bool diverse = !sens.empty();
    std::vector<std::uint64_t> keys;
    row_keys(leaf, keys, diverse ? &sens : nullptr);
    KeyTable table;
    table.reset(rows_);
    tuple_.assign(q, {});
    row_tuple_.resize(rows_);
    for (std::size_t r = 0; r < rows_; ++r) {
      const std::uint32_t id = table.id(keys[r]);
      if (id == count_.size()) {
        for (std::size_t c = 0; c < q; ++c) tuple_[c].push_back(leaf[c][r]);
        if (diverse) sens_.push_back(sens[r]);
        count_.push_back(0);
      }
      ++count_[id];
      row_tuple_[r] = id;
    }
  }

  std::size_t distinct() const noexcept { return count_.size(); }
  const std::vector<LevelColumn>& columns() const noexcept { return cols_; }
  std::size_t max_suppressed() const noexcept { return max_suppressed_; }

  /// check computes the classes of `levels` and whether they meet k (and l) within the limit.
  /// `keep`, when given, receives per distinct row whether its class is released, and
  /// `class_sizes` the sizes of the released classes.
  NodeResult check(const std::vector<std::uint32_t>& levels, std::vector<char>* keep = nullptr,
                   std::vector<std::size_t>* class_sizes = nullptr) {
    const std::size_t d_count = count_.size();
    tuple_keys(levels);
    classes_.reset(d_count);
    class_of_.resize(d_count);
    size_.clear();
    for (std::size_t d = 0; d < d_count; ++d) {
      const std::uint32_t id = classes_.id(keys_[d]);
      if (id == size_.size()) size_.push_back(0);
      size_[id] += count_[d];
      class_of_[d] = id;
    }
    const std::size_t n_classes = size_.size();
    passes_.assign(n_classes, 1);
    for (std::size_t e = 0; e < n_classes; ++e) passes_[e] = size_[e] >= config_.k ? 1 : 0;
    if (!sens_.empty() && config_.l > 1) diversity(n_classes);
    NodeResult out;
    std::uint64_t kept_dm = 0;
    for (std::size_t e = 0; e < n_classes; ++e) {
      const std::uint64_t s = size_[e];
      out.raw_dm += s * s;
      if (passes_[e]) {
        kept_dm += s * s;
      } else {
        out.suppressed += s;
      }
    }
    out.dm = kept_dm + static_cast<std::uint64_t>(out.suppressed) * rows_;
    out.anonymous = out.suppressed <= max_suppressed_ && out.suppressed < rows_;
    if (keep) {
      keep->resize(d_count);
      for (std::size_t d = 0; d < d_count; ++d) (*keep)[d] = passes_[class_of_[d]];
    }
    if (class_sizes) {
      class_sizes->clear();
      for (std::size_t e = 0; e < n_classes; ++e) {
        if (passes_[e]) class_sizes->push_back(size_[e]);
      }
    }
    return out;
  }

  std::uint32_t tuple(std::size_t c, std::size_t d) const { return tuple_[c][d]; }
  std::uint32_t row_tuple(std::size_t r) const { return row_tuple_[r]; }
  std::uint32_t count(std::size_t d) const { return count_[d]; }

 private:
  /// row_keys builds a key per input row from leaf codes (and the sensitive code).
  void row_keys(const std::vector<std::vector<std::uint32_t>>& leaf, std::vector<std::uint64_t>& keys,
                const std::vector<std::uint32_t>* sens) {
    keys.assign(rows_, 0);
    std::uint64_t bound = 1;  // every key is below bound
    auto fold = [&](const std::vector<std::uint32_t>& codes, std::uint64_t radix) {
      if (radix == 0) radix = 1;
      if (bound > std::numeric_limits<std::uint64_t>::max() / radix) bound = densify(keys);
      for (std::size_t r = 0; r < rows_; ++r) keys[r] = keys[r] * radix + codes[r];
      bound *= radix;
    };
    for (std::size_t c = 0; c < cols_.size(); ++c) fold(leaf[c], cols_[c].leaves);
    if (sens) fold(*sens, sens_distinct_);
  }

  /// tuple_keys builds a key per distinct row from its codes at `levels`.
  void tuple_keys(const std::vector<std::uint32_t>& levels) {
    const std::size_t d_count = count_.size();
    keys_.assign(d_count, 0);
    std::uint64_t bound = 1;
    for (std::size_t c = 0; c < cols_.size(); ++c) {
      const auto& map = cols_[c].to_level[levels[c]];
      const std::uint64_t radix = std::max<std::uint64_t>(1, cols_[c].labels[levels[c]].size());
      if (!fits_ && bound > std::numeric_limits<std::uint64_t>::max() / radix) bound = densify(keys_);
      const std::uint32_t* codes = tuple_[c].data();
      std::uint64_t* k = keys_.data();
      const std::uint32_t* m = map.data();
      for (std::size_t d = 0; d < d_count; ++d) k[d] = k[d] * radix + m[codes[d]];
      bound *= radix;
    }
  }

  /// densify renumbers keys 0..distinct-1 and returns the new bound.
  std::uint64_t densify(std::vector<std::uint64_t>& keys) {
    KeyTable t;
    t.reset(keys.size());
    for (auto& k : keys) k = t.id(k);
    return std::max<std::uint64_t>(1, t.size());
  }

  /// diversity clears passes_ for the classes that are not l-diverse.
  void diversity(std::size_t n_classes) {
    const std::size_t d_count = count_.size();
    pairs_.reset(d_count);
    pair_class_.clear();
    pair_count_.clear();
    for (std::size_t d = 0; d < d_count; ++d) {
      const std::uint64_t key = static_cast<std::uint64_t>(class_of_[d]) * sens_distinct_ + sens_[d];
      const std::uint32_t id = pairs_.id(key);
      if (id == pair_count_.size()) {
        pair_count_.push_back(0);
        pair_class_.push_back(class_of_[d]);
      }
      pair_count_[id] += count_[d];
    }
    if (config_.diversity == DiversityMeasure::distinct) {
      distinct_.assign(n_classes, 0);
      for (std::uint32_t e : pair_class_) ++distinct_[e];
      for (std::size_t e = 0; e < n_classes; ++e) {
        if (distinct_[e] < config_.l) passes_[e] = 0;
      }
      return;
    }
    // H = log n - (1/n) sum c log c, compared with log l.
    clogc_.assign(n_classes, 0.0);
    for (std::size_t p = 0; p < pair_count_.size(); ++p) {
      const double c = pair_count_[p];
      clogc_[pair_class_[p]] += c * std::log(c);
    }
    const double target = std::log(static_cast<double>(config_.l)) - kEntropySlack;
    for (std::size_t e = 0; e < n_classes; ++e) {
      const double n = static_cast<double>(size_[e]);
      if (std::log(n) - clogc_[e] / n < target) passes_[e] = 0;
    }
  }

  std::vector<LevelColumn> cols_;
  const AnonymityConfig& config_;
  std::size_t rows_;
  std::size_t max_suppressed_ = 0;
  std::size_t sens_distinct_ = 0;
  bool fits_ = true;
  std::vector<std::vector<std::uint32_t>> tuple_;  ///< [column][distinct row] -> leaf code
  std::vector<std::uint32_t> sens_;
  std::vector<std::uint32_t> count_;
  std::vector<std::uint32_t> row_tuple_;
  // Scratch of check().
  std::vector<std::uint64_t> keys_;
  KeyTable classes_, pairs_;
  std::vector<std::uint32_t> class_of_;
  std::vector<std::size_t> size_;
  std::vector<char> passes_;
  std::vector<std::uint32_t> pair_class_, pair_count_, distinct_;
  std::vector<double> clogc_;
};

/// Lattice numbers the nodes in mixed radix, column 0 most significant, so that index order is
/// the lexicographic order of the level vectors.
class Lattice {
 public:
  explicit Lattice(const std::vector<LevelColumn>& cols) {
    const std::size_t q = cols.size();
    top_.resize(q);
    mult_.resize(q);
    std::uint64_t m = 1;
    for (std::size_t c = q; c-- > 0;) {
      mult_[c] = m;
      top_[c] = static_cast<std::uint32_t>(cols[c].levels - 1);
      m = m > kMaxNodes ? m : m * cols[c].levels;
    }
    size_ = m;
  }
  std::uint64_t size() const noexcept { return size_; }
  std::size_t columns() const noexcept { return top_.size(); }
  std::uint32_t level(std::uint64_t node, std::size_t c) const {
    return static_cast<std::uint32_t>((node / mult_[c]) % (top_[c] + 1));
  }
  void levels(std::uint64_t node, std::vector<std::uint32_t>& out) const {
    out.resize(top_.size());
    for (std::size_t c = 0; c < top_.size(); ++c) out[c] = level(node, c);
  }
  std::uint32_t height(std::uint64_t node) const {
    std::uint32_t h = 0;
    for (std::size_t c = 0; c < top_.size(); ++c) h += level(node, c);
    return h;
  }
  /// for_each_up calls f(successor) for each direct generalisation of `node`.
  template <class F>
  void for_each_up(std::uint64_t node, F&& f) const {
    for (std::size_t c = 0; c < top_.size(); ++c) {
      if (level(node, c) < top_[c]) f(node + mult_[c]);
    }
  }
  /// for_each_down calls f(predecessor) for each direct specialisation of `node`.
  template <class F>
  void for_each_down(std::uint64_t node, F&& f) const {
    for (std::size_t c = 0; c < top_.size(); ++c) {
      if (level(node, c) > 0) f(node - mult_[c]);
    }
  }
  /// by_height lists the nodes by height, then index.
  std::vector<std::uint32_t> by_height() const {
    std::uint32_t max_height = 0;
    for (auto t : top_) max_height += t;
    std::vector<std::uint32_t> start(max_height + 2, 0);
    std::vector<std::uint32_t> h(size_);
    for (std::uint64_t n = 0; n < size_; ++n) {
      h[n] = height(n);
      ++start[h[n] + 1];
    }
    for (std::size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    std::vector<std::uint32_t> order(size_);
    for (std::uint64_t n = 0; n < size_; ++n) order[start[h[n]]++] = static_cast<std::uint32_t>(n);
    return order;
  }

 private:
  std::vector<std::uint32_t> top_;
  std::vector<std::uint64_t> mult_;
  std::uint64_t size_ = 1;
};

enum class Tag : std::uint8_t { unknown, anonymous, not_anonymous };

/// Search holds the per-node state of one search.
class Search {
 public:
  Search(Encoded& enc, const Lattice& lattice)
      : enc_(enc),
        lattice_(lattice),
        tag_(lattice.size(), Tag::unknown),
        evaluated_(lattice.size(), 0),
        raw_(lattice.size(), 0),
        dm_(lattice.size(), 0) {}

  /// settle tags every node anonymous or not, checking as few as the monotonicity allows
  /// (every node when `monotone` is false).
  void settle(const std::vector<std::uint32_t>& order, bool monotone) {
    if (!monotone) {
      for (std::uint32_t n : order) tag_[n] = evaluate(n).anonymous ? Tag::anonymous : Tag::not_anonymous;
      return;
    }
    std::vector<std::uint64_t> path;
    for (std::uint32_t start : order) {
      if (tag_[start] != Tag::unknown) continue;
      path.assign(1, start);
      for (;;) {
        std::uint64_t next = path.back();
        lattice_.for_each_up(path.back(), [&](std::uint64_t s) {
          if (next == path.back() && tag_[s] == Tag::unknown) next = s;
        });
        if (next == path.back()) break;
        path.push_back(next);
      }
      // Binary search for the lowest anonymous node of the path.
      std::size_t lo = 0, hi = path.size();
      while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        const std::uint64_t m = path[mid];
        if (tag_[m] == Tag::unknown) {
          if (evaluate(m).anonymous) {
            tag_up(m);
          } else {
            tag_down(m);
          }
        }
        if (tag_[m] == Tag::anonymous) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
    }
  }

  /// optimum returns the anonymous node of least discernibility (ties: lower height, then lower
  /// index), or nothing. A node's raw discernibility bounds from below that of every
  /// generalisation of it, so a node whose bound already reaches the best is not evaluated.
  std::optional<std::uint64_t> optimum(const std::vector<std::uint32_t>& order) {
    std::vector<std::uint64_t> bound(lattice_.size(), 0);
    std::optional<std::uint64_t> best;
    std::uint64_t best_dm = 0;
    for (std::uint32_t n : order) {
      std::uint64_t lb = evaluated_[n] ? raw_[n] : 0;
      lattice_.for_each_down(n, [&](std::uint64_t p) { lb = std::max(lb, bound[p]); });
      if (tag_[n] == Tag::anonymous) {
        if (!evaluated_[n] && !(best && lb >= best_dm)) {
          evaluate(n);
          lb = std::max(lb, raw_[n]);
        }
        if (evaluated_[n] && (!best || dm_[n] < best_dm)) {
          best = n;
          best_dm = dm_[n];
        }
      }
      bound[n] = lb;
    }
    return best;
  }

  std::size_t checked() const noexcept { return checked_; }

 private:
  NodeResult evaluate(std::uint64_t n) {
    lattice_.levels(n, levels_);
    NodeResult r = enc_.check(levels_);
    evaluated_[n] = 1;
    raw_[n] = r.raw_dm;
    dm_[n] = r.dm;
    ++checked_;
    return r;
  }
  void tag_up(std::uint64_t n) { spread(n, Tag::anonymous, true); }
  void tag_down(std::uint64_t n) { spread(n, Tag::not_anonymous, false); }
  void spread(std::uint64_t n, Tag t, bool up) {
    tag_[n] = t;
    stack_.assign(1, n);
    while (!stack_.empty()) {
      const std::uint64_t at = stack_.back();
      stack_.pop_back();
      auto visit = [&](std::uint64_t s) {
        if (tag_[s] == Tag::unknown) {
          tag_[s] = t;
          stack_.push_back(s);
        }
      };
      if (up) {
        lattice_.for_each_up(at, visit);
      } else {
        lattice_.for_each_down(at, visit);
      }
    }
  }

  Encoded& enc_;
  const Lattice& lattice_;
  std::vector<Tag> tag_;
  std::vector<char> evaluated_;
  std::vector<std::uint64_t> raw_, dm_;
  std::vector<std::uint64_t> stack_;
  std::vector<std::uint32_t> levels_;
  std::size_t checked_ = 0;
};

/// leaf_codes maps every quasi-identifier cell to the row of its hierarchy.
result<std::vector<std::vector<std::uint32_t>>> leaf_codes(const Dataset& data,
                                                           const Hierarchies& hierarchies,
                                                           const std::vector<std::string>& names,
                                                           const std::vector<std::size_t>& quasi,
                                                           std::vector<const Hierarchy*>& used) {
  std::vector<std::vector<std::uint32_t>> out(quasi.size());
  used.assign(quasi.size(), nullptr);
  for (std::size_t c = 0; c < quasi.size(); ++c) {
    auto h = hierarchies.find(names[c]);
    if (h == hierarchies.end() || h->second.rows.empty())
      return make_error(errc::bad_input, "quasi-identifier column '" + names[c] +
                                             "' has no hierarchy (the lattice search needs one per column)");
    used[c] = &h->second;
    std::unordered_map<std::string_view, std::uint32_t> leaf;
    for (std::size_t i = 0; i < h->second.rows.size(); ++i)
      leaf.emplace(h->second.rows[i][0], static_cast<std::uint32_t>(i));
    out[c].resize(data.rows.size());
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      auto it = leaf.find(data.rows[r][quasi[c]]);
      if (it == leaf.end())
        return make_error(errc::bad_input, data.where(r) + ": column '" + names[c] +
                                               "': the value is not in " + h->second.source);
      out[c][r] = it->second;
    }
  }
  return out;
}

}  // namespace

result<Anonymised> lattice_anonymise(const Dataset& data, const Hierarchies& hierarchies,
                                     const AnonymityConfig& config, const Columns& columns) {
  std::vector<const Hierarchy*> used;
  auto leaves = leaf_codes(data, hierarchies, config.quasi_identifiers, columns.quasi, used);
  if (!leaves) return std::move(leaves).err();
  const SensitiveCodes sens = encode_sensitive(data, columns, config);
  if (config.l > 1 && sens.distinct < config.l)
    return unreachable(config,
                       "the sensitive column has only " + std::to_string(sens.distinct) + " distinct values");

  std::vector<LevelColumn> cols;
  for (const Hierarchy* h : used) cols.push_back(encode_levels(*h));
  const Lattice lattice(cols);
  if (lattice.size() > kMaxNodes)
    return make_error(errc::bad_input, "the generalisation lattice has more than " +
                                           std::to_string(kMaxNodes) +
                                           " nodes; use fewer quasi-identifiers or shallower hierarchies");

  const auto started = std::chrono::steady_clock::now();
  Encoded enc(std::move(cols), config, data.rows.size());
  enc.add_rows(*leaves, sens.code, sens.distinct);
  Search search(enc, lattice);
  const std::vector<std::uint32_t> order = lattice.by_height();
  // k-anonymity and distinct l-diversity are monotone with suppression; entropy l-diversity is
  // monotone only without it, so with suppression every node is checked.
  const bool monotone =
      !(config.l > 1 && config.diversity == DiversityMeasure::entropy && enc.max_suppressed() > 0);
  search.settle(order, monotone);
  const std::optional<std::uint64_t> best = search.optimum(order);
  const auto finished = std::chrono::steady_clock::now();
  if (!best) {
    const std::size_t n = data.rows.size();
    std::string why = "even the most general node leaves too many rows in classes that fail (limit " +
                      std::to_string(enc.max_suppressed()) + " of " + std::to_string(n) + " rows)";
    return unreachable(config, why);
  }

  std::vector<std::uint32_t> levels;
  lattice.levels(*best, levels);
  std::vector<char> keep;
  std::vector<std::size_t> class_sizes;
  const NodeResult chosen = enc.check(levels, &keep, &class_sizes);

  Anonymised out;
  AnonymityReport& rep = out.report;
  rep.method = AnonymityMethod::lattice;
  rep.quasi_identifiers = config.quasi_identifiers;
  rep.rows = data.rows.size();
  rep.suppressed = chosen.suppressed;
  rep.nodes = static_cast<std::size_t>(lattice.size());
  rep.nodes_checked = search.checked();
  rep.nodes_pruned = rep.nodes - rep.nodes_checked;
  rep.search_time = std::chrono::duration_cast<std::chrono::nanoseconds>(finished - started);
  const auto& enc_cols = enc.columns();
  for (std::size_t c = 0; c < enc_cols.size(); ++c) {
    rep.levels.push_back(levels[c]);
    rep.max_levels.push_back(enc_cols[c].levels - 1);
  }
  summarise(class_sizes, config.k, rep);

  // The release, and the NCP of its cells (suppressed rows count 1 per cell).
  const std::size_t q = enc_cols.size();
  std::vector<double> ncp_of_tuple(enc.distinct(), 0.0);
  for (std::size_t d = 0; d < enc.distinct(); ++d) {
    double s = 0;
    for (std::size_t c = 0; c < q; ++c) {
      const auto& col = enc_cols[c];
      const std::uint32_t code = col.to_level[levels[c]][enc.tuple(c, d)];
      s += hierarchy_ncp(col.leaves_under[levels[c]][code], col.leaves);
    }
    ncp_of_tuple[d] = s;
  }
  double ncp_sum = static_cast<double>(chosen.suppressed) * static_cast<double>(q);
  out.data.source = data.source;
  out.data.columns = data.columns;
  out.data.rows.reserve(data.rows.size() - chosen.suppressed);
  out.data.lines.reserve(data.rows.size() - chosen.suppressed);
  std::vector<char> is_quasi(data.columns.size(), 0);
  for (std::size_t c : columns.quasi) is_quasi[c] = 1;
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    const std::uint32_t d = enc.row_tuple(r);
    if (!keep[d]) continue;
    ncp_sum += ncp_of_tuple[d];
    // Quasi-identifier cells are built from their labels only, never copied first.
    std::vector<std::string>& row = out.data.rows.emplace_back(data.columns.size());
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (!is_quasi[i]) row[i] = data.rows[r][i];
    }
    for (std::size_t c = 0; c < q; ++c) {
      const auto& col = enc_cols[c];
      row[columns.quasi[c]].assign(col.labels[levels[c]][col.to_level[levels[c]][enc.tuple(c, d)]]);
    }
    out.data.lines.push_back(data.line_of(r));
  }
  rep.loss.ncp = ncp_sum / (static_cast<double>(rep.rows) * static_cast<double>(q));
  return out;
}

}  // namespace consentry::detail

namespace consentry {

result<Dataset> generalise(const Dataset& data, const Hierarchies& hierarchies,
                           const std::vector<std::string>& quasi_identifiers,
                           const std::vector<std::size_t>& levels) {
  AnonymityConfig config;
  config.quasi_identifiers = quasi_identifiers;
  config.k = 1;
  auto columns = detail::check_config(data, config);
  if (!columns) return std::move(columns).err();
  if (levels.size() != quasi_identifiers.size())
    return make_error(errc::bad_input, "one level per quasi-identifier is needed");
  std::vector<const Hierarchy*> used;
  auto leaves = detail::leaf_codes(data, hierarchies, quasi_identifiers, columns->quasi, used);
  if (!leaves) return std::move(leaves).err();
  for (std::size_t c = 0; c < used.size(); ++c) {
    if (levels[c] >= used[c]->levels())
      return make_error(errc::bad_input, "level " + std::to_string(levels[c]) + " of column '" +
                                             quasi_identifiers[c] + "' is above the top of " +
                                             used[c]->source);
  }
  Dataset out = data;
  for (std::size_t r = 0; r < out.rows.size(); ++r) {
    for (std::size_t c = 0; c < used.size(); ++c)
      out.rows[r][columns->quasi[c]] = used[c]->rows[(*leaves)[c][r]][levels[c]];
  }
  return out;
}

}  // namespace consentry
