// lattice_search.cpp: optimal full-domain generalisation. The quasi-identifiers are encoded as
// integer codes once, identical rows are merged, and every hierarchy level gets a code map, so
// that checking a lattice node is one pass over the distinct rows with integer keys. The search
// settles the lattice with binary searches along upward paths, tagging by monotonicity (the
// generalisations of an anonymous node are anonymous, the specialisations of one that is not are
// not), then finds the node of least metric (discernibility, loss, NCP, AECS, non-uniform
// entropy) with lower bounds that prune generalisations of nodes already too costly. Where a
// model is not monotone every node is checked. One file over ~900 lines on purpose: the encoding,
// the node check, the metrics and the search share the encoded rows and their invariants, and
// read best together.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>

#include "local_recoding.hpp"
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
  std::size_t raw_classes = 0;       ///< classes of the table's rows, suppressed or not
  std::size_t released_classes = 0;  ///< classes that pass
};

/// ColumnLoss holds one quasi-identifier's per-cell losses by level, and their sums (non-uniform
/// entropy's too) over the table's rows (the loss of a node without suppression, which bounds every node's
/// from below).
struct ColumnLoss {
  std::vector<std::vector<double>> share;  ///< [level][label] leaves under / leaves (ARX Loss)
  std::vector<std::vector<double>> ncp;    ///< [level][label] (leaves under - 1) / (leaves - 1)
  std::vector<double> total_share, total_ncp, total_entropy;  ///< [level] over the rows
};

/// NodeScores are the metrics of a node other than DM.
struct NodeScores {
  double loss = 0, ncp = 0, aecs = 0, entropy = 0;

  /// of gives the value of `m` (not discernibility).
  double of(Metric m) const {
    switch (m) {
      case Metric::loss: return loss;
      case Metric::ncp: return ncp;
      case Metric::aecs: return aecs;
      case Metric::entropy: return entropy;
      case Metric::discernibility: break;
    }
    return 0;
  }
};

/// column_loss builds the tables of one column from the rows' leaf codes.
ColumnLoss column_loss(const LevelColumn& col, const std::vector<std::uint32_t>& leaf) {
  ColumnLoss out;
  std::vector<double> freq(col.leaves, 0.0);
  for (std::uint32_t x : leaf) freq[x] += 1.0;
  out.share.resize(col.levels);
  out.ncp.resize(col.levels);
  out.total_share.assign(col.levels, 0.0);
  out.total_ncp.assign(col.levels, 0.0);
  out.total_entropy.assign(col.levels, 0.0);
  const double domain = static_cast<double>(col.leaves);
  for (std::size_t j = 0; j < col.levels; ++j) {
    const std::size_t labels = col.labels[j].size();
    std::vector<double> label_freq(labels, 0.0);
    for (std::size_t x = 0; x < col.leaves; ++x) label_freq[col.to_level[j][x]] += freq[x];
    out.share[j].resize(labels);
    out.ncp[j].resize(labels);
    for (std::size_t g = 0; g < labels; ++g) {
      out.share[j][g] = static_cast<double>(col.leaves_under[j][g]) / domain;
      out.ncp[j][g] = hierarchy_ncp(col.leaves_under[j][g], col.leaves);
    }
    // Non-uniform entropy: each row of leaf x under label g costs log2(f(g) / f(x)) bits.
    for (std::size_t x = 0; x < col.leaves; ++x) {
      if (freq[x] == 0) continue;
      const std::uint32_t g = col.to_level[j][x];
      out.total_share[j] += freq[x] * out.share[j][g];
      out.total_ncp[j] += freq[x] * out.ncp[j][g];
      out.total_entropy[j] += freq[x] * std::log2(label_freq[g] / freq[x]);
    }
  }
  return out;
}

/// Encoded is the table as the search sees it: distinct rows of leaf codes (column-major), with
/// their sensitive code and multiplicity, and the row -> distinct row map.
class Encoded {
 public:
  Encoded(std::vector<LevelColumn> columns, const AnonymityConfig& config, const ClassModel& model,
          std::size_t rows)
      : cols_(std::move(columns)), config_(config), model_(model), rows_(rows) {
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
    sample_distinct_ = count_.size();
    pop_count_.assign(count_.size(), 0);
  }

  /// add_population appends the population's rows (leaf codes), merged, with no sample count.
  void add_population(const std::vector<std::vector<std::uint32_t>>& leaf, std::size_t rows) {
    const std::size_t q = cols_.size();
    std::vector<std::uint64_t> keys(rows, 0);
    std::uint64_t bound = 1;
    for (std::size_t c = 0; c < q; ++c) {
      const std::uint64_t radix = std::max<std::uint64_t>(1, cols_[c].leaves);
      if (bound > std::numeric_limits<std::uint64_t>::max() / radix) bound = densify(keys);
      for (std::size_t r = 0; r < rows; ++r) keys[r] = keys[r] * radix + leaf[c][r];
      bound *= radix;
    }
    KeyTable table;
    table.reset(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint32_t id = table.id(keys[r]);
      if (id + sample_distinct_ == count_.size()) {
        for (std::size_t c = 0; c < q; ++c) tuple_[c].push_back(leaf[c][r]);
        count_.push_back(0);
        pop_count_.push_back(0);
      }
      ++pop_count_[sample_distinct_ + id];
    }
    population_ = true;
  }

  /// sample_exceeds_population returns a row of the table whose quasi-identifier values occur
  /// more often in the table than in the population, or nothing.
  std::optional<std::size_t> sample_exceeds_population() {
    const std::vector<std::uint32_t> bottom(cols_.size(), 0);
    check(bottom);
    for (std::size_t r = 0; r < rows_; ++r) {
      const std::uint32_t e = class_of_[row_tuple_[r]];
      if (size_[e] > pop_size_[e]) return r;
    }
    return std::nullopt;
  }

  std::size_t distinct() const noexcept { return sample_distinct_; }
  const std::vector<LevelColumn>& columns() const noexcept { return cols_; }
  std::size_t max_suppressed() const noexcept { return max_suppressed_; }
  std::size_t rows() const noexcept { return rows_; }

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
    pop_size_.clear();
    for (std::size_t d = 0; d < d_count; ++d) {
      const std::uint32_t id = classes_.id(keys_[d]);
      if (id == size_.size()) {
        size_.push_back(0);
        pop_size_.push_back(0);
      }
      size_[id] += count_[d];
      pop_size_[id] += pop_count_[d];
      class_of_[d] = id;
    }
    const std::size_t n_classes = size_.size();
    const std::size_t min_size = model_.min_size();
    passes_.assign(n_classes, 1);
    for (std::size_t e = 0; e < n_classes; ++e) passes_[e] = size_[e] >= min_size ? 1 : 0;
    if (!sens_.empty()) {
      if (!config_.t && config_.diversity != DiversityMeasure::recursive) {
        diversity(n_classes);
      } else {
        class_models(n_classes);
      }
    }
    if (population_) presence(n_classes);
    NodeResult out;
    std::uint64_t kept_dm = 0;
    std::size_t kept_rows = 0;
    for (std::size_t e = 0; e < n_classes; ++e) {
      const std::uint64_t s = size_[e];
      if (s == 0) continue;  // a class of the population alone
      ++out.raw_classes;
      out.raw_dm += s * s;
      if (passes_[e]) {
        kept_dm += s * s;
        kept_rows += s;
        ++out.released_classes;
      } else {
        out.suppressed += s;
      }
    }
    out.dm = kept_dm + static_cast<std::uint64_t>(out.suppressed) * rows_;
    out.anonymous = out.suppressed <= max_suppressed_ && out.suppressed < rows_;
    if (out.anonymous && config_.max_average_risk) {
      out.anonymous = static_cast<double>(out.released_classes) <=
                      *config_.max_average_risk * static_cast<double>(kept_rows) + 1e-9;
    }
    if (keep) {
      keep->resize(d_count);
      for (std::size_t d = 0; d < d_count; ++d) (*keep)[d] = passes_[class_of_[d]];
    }
    if (class_sizes) {
      class_sizes->clear();
      for (std::size_t e = 0; e < n_classes; ++e) {
        if (passes_[e] && size_[e] > 0) class_sizes->push_back(size_[e]);
      }
    }
    return out;
  }

  /// scores computes every metric but DM for the node last checked (its classes are still in the
  /// scratch), from the column tables: per column the node's loss without suppression plus what
  /// suppressed rows add, so that a score is never below its bound, rounding included.
  NodeScores scores(const std::vector<std::uint32_t>& levels, const NodeResult& r,
                    const std::vector<ColumnLoss>& loss) {
    const std::size_t q = cols_.size();
    const double n = static_cast<double>(rows_);
    NodeScores out;
    std::vector<double> share(q), ncp(q), entropy(q);
    for (std::size_t c = 0; c < q; ++c) {
      share[c] = loss[c].total_share[levels[c]];
      ncp[c] = loss[c].total_ncp[levels[c]];
      entropy[c] = loss[c].total_entropy[levels[c]];
    }
    if (r.suppressed > 0) {
      for (std::size_t c = 0; c < q; ++c) {
        const auto& map = cols_[c].to_level[levels[c]];
        const auto& sh = loss[c].share[levels[c]];
        const auto& nc = loss[c].ncp[levels[c]];
        double add_share = 0, add_ncp = 0;
        held_.assign(cols_[c].labels[levels[c]].size(), 0);
        for (std::size_t d = 0; d < sample_distinct_; ++d) {
          if (passes_[class_of_[d]]) continue;
          const std::uint32_t label = map[tuple_[c][d]];
          const double k = count_[d];
          add_share += k * (1.0 - sh[label]);
          add_ncp += k * (1.0 - nc[label]);
          held_[label] += count_[d];
        }
        // The suppressed rows, generalised together: the entropy of their labels among them.
        const double s = static_cast<double>(r.suppressed);
        double add_entropy = s * std::log2(s);
        for (std::uint32_t g : held_) {
          if (g > 0) add_entropy -= static_cast<double>(g) * std::log2(static_cast<double>(g));
        }
        share[c] += add_share;
        ncp[c] += add_ncp;
        entropy[c] += std::max(0.0, add_entropy);
      }
    }
    out.loss = combine_loss(share);
    double ncp_sum = 0, entropy_sum = 0;
    for (std::size_t c = 0; c < q; ++c) {
      ncp_sum += ncp[c];
      entropy_sum += entropy[c];
    }
    out.ncp = ncp_sum / (n * static_cast<double>(q));
    out.entropy = entropy_sum;
    out.aecs = n / static_cast<double>(r.released_classes + (r.suppressed > 0 ? 1 : 0));
    return out;
  }

  /// bound_scores is the least each metric can be at `levels` or above it, without checking:
  /// the node's loss as if nothing were suppressed (0 for AECS, which has none).
  NodeScores bound_scores(const std::vector<std::uint32_t>& levels,
                          const std::vector<ColumnLoss>& loss) const {
    const std::size_t q = cols_.size();
    std::vector<double> share(q);
    double ncp = 0, entropy = 0;
    for (std::size_t c = 0; c < q; ++c) {
      share[c] = loss[c].total_share[levels[c]];
      ncp += loss[c].total_ncp[levels[c]];
      entropy += loss[c].total_entropy[levels[c]];
    }
    NodeScores out;
    out.loss = combine_loss(share);
    out.ncp = ncp / (static_cast<double>(rows_) * static_cast<double>(q));
    out.entropy = entropy;
    out.aecs = 0;
    return out;
  }

  /// combine_loss normalises each column's sum of shares by ARX's bounds (N / |domain| when every
  /// cell is a leaf, N when every cell is the whole domain) and takes their geometric mean.
  double combine_loss(const std::vector<double>& share) const {
    const double n = static_cast<double>(rows_);
    double product = 1.0;
    const double exponent = 1.0 / static_cast<double>(cols_.size());
    for (std::size_t c = 0; c < cols_.size(); ++c) {
      const double domain = static_cast<double>(cols_[c].leaves);
      const double lo = n / domain;
      double v = domain > 1 ? (share[c] - lo) / (n - lo) : 0.0;
      v = std::max(0.0, v);
      product *= std::pow(1.0 + v, exponent);
    }
    return product - 1.0;
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
    const std::size_t d_count = sample_distinct_;
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

  /// pair_counts fills pair_class_, pair_code_ and pair_count_: one entry per class and sensitive
  /// value present in it.
  void pair_counts() {
    pairs_.reset(sample_distinct_);
    pair_class_.clear();
    pair_code_.clear();
    pair_count_.clear();
    for (std::size_t d = 0; d < sample_distinct_; ++d) {
      const std::uint64_t key = static_cast<std::uint64_t>(class_of_[d]) * sens_distinct_ + sens_[d];
      const std::uint32_t id = pairs_.id(key);
      if (id == pair_count_.size()) {
        pair_count_.push_back(0);
        pair_class_.push_back(class_of_[d]);
        pair_code_.push_back(sens_[d]);
      }
      pair_count_[id] += count_[d];
    }
  }

  /// class_models clears passes_ for the classes the class model refuses (recursive diversity,
  /// t-closeness), handing it each class's sensitive counts.
  void class_models(std::size_t n_classes) {
    pair_counts();
    // Counting sort of the pairs by class.
    offset_.assign(n_classes + 1, 0);
    for (std::uint32_t e : pair_class_) ++offset_[e + 1];
    for (std::size_t e = 0; e < n_classes; ++e) offset_[e + 1] += offset_[e];
    grouped_.resize(pair_class_.size());
    fill_ = offset_;
    for (std::size_t p = 0; p < pair_class_.size(); ++p)
      grouped_[fill_[pair_class_[p]]++] = SensitiveCount{pair_code_[p], pair_count_[p]};
    for (std::size_t e = 0; e < n_classes; ++e) {
      if (!passes_[e] || size_[e] == 0) continue;
      const std::span<const SensitiveCount> counts(grouped_.data() + offset_[e], offset_[e + 1] - offset_[e]);
      if (!model_.accepts(counts, size_[e])) passes_[e] = 0;
    }
  }

  /// presence clears passes_ for the classes whose share of their population lies outside
  /// [delta_min, delta_max].
  void presence(std::size_t n_classes) {
    for (std::size_t e = 0; e < n_classes; ++e) {
      if (!passes_[e] || size_[e] == 0) continue;
      const double delta =
          pop_size_[e] == 0 ? 2.0 : static_cast<double>(size_[e]) / static_cast<double>(pop_size_[e]);
      if (delta < config_.delta_min - 1e-12 || delta > config_.delta_max + 1e-12) passes_[e] = 0;
    }
  }

  std::vector<LevelColumn> cols_;
  const AnonymityConfig& config_;
  const ClassModel& model_;
  std::size_t rows_;
  std::size_t max_suppressed_ = 0;
  std::size_t sens_distinct_ = 0;
  bool fits_ = true;
  std::vector<std::vector<std::uint32_t>> tuple_;  ///< [column][distinct row] -> leaf code
  std::vector<std::uint32_t> sens_;
  std::vector<std::uint32_t> count_;
  std::vector<std::uint32_t> row_tuple_;
  std::vector<std::uint32_t> pop_count_;  ///< per distinct row: rows of the population
  std::size_t sample_distinct_ = 0;       ///< distinct rows of the table; the population's follow
  bool population_ = false;
  // Scratch of check().
  std::vector<std::uint64_t> keys_;
  KeyTable classes_, pairs_;
  std::vector<std::uint32_t> class_of_;
  std::vector<std::size_t> size_, pop_size_;
  std::vector<char> passes_;
  std::vector<std::uint32_t> pair_class_, pair_code_, pair_count_, distinct_, held_;
  std::vector<std::size_t> offset_, fill_;
  std::vector<SensitiveCount> grouped_;
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
  /// Search for `metric`; `loss` holds the column tables the metrics other than DM need.
  Search(Encoded& enc, const Lattice& lattice, Metric metric, const std::vector<ColumnLoss>& loss)
      : enc_(enc),
        lattice_(lattice),
        metric_(metric),
        loss_(loss),
        tag_(lattice.size(), Tag::unknown),
        evaluated_(lattice.size(), 0),
        raw_(lattice.size(), 0),
        dm_(lattice.size(), 0) {
    if (metric_ != Metric::discernibility) {
      score_.assign(lattice.size(), 0.0);
      raw_bound_.assign(lattice.size(), 0.0);
    }
  }

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

  /// optimum_by_score returns the anonymous node of least metric (not DM; ties as optimum). A
  /// node's bound is the largest of its metric without suppression (from the column tables, no
  /// check needed), for AECS N / its classes once checked, and its specialisations' bounds: every
  /// metric only grows with generalisation when suppression is left aside, and suppression only
  /// adds to it. A node whose bound reaches the best score is not checked.
  std::optional<std::uint64_t> optimum_by_score(const std::vector<std::uint32_t>& order) {
    std::vector<double> bound(lattice_.size(), 0.0);
    std::optional<std::uint64_t> best;
    double best_score = 0;
    std::vector<std::uint32_t> levels;
    for (std::uint32_t n : order) {
      lattice_.levels(n, levels);
      double lb = enc_.bound_scores(levels, loss_).of(metric_);
      if (evaluated_[n]) lb = std::max(lb, raw_bound_[n]);
      lattice_.for_each_down(n, [&](std::uint64_t p) { lb = std::max(lb, bound[p]); });
      if (tag_[n] == Tag::anonymous) {
        if (!evaluated_[n] && !(best && lb >= best_score)) {
          evaluate(n);
          lb = std::max(lb, raw_bound_[n]);
        }
        if (evaluated_[n] && (!best || score_[n] < best_score)) {
          best = n;
          best_score = score_[n];
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
    if (metric_ != Metric::discernibility) {
      score_[n] = enc_.scores(levels_, r, loss_).of(metric_);
      raw_bound_[n] = metric_ == Metric::aecs && r.raw_classes > 0
                          ? static_cast<double>(enc_.rows()) / static_cast<double>(r.raw_classes)
                          : 0.0;
    }
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
  Metric metric_;
  const std::vector<ColumnLoss>& loss_;
  std::vector<double> score_, raw_bound_;
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

/// recode_locally lowers the cells of a release class by class (local_recode, with the class
/// model deciding each class), rewrites its quasi-identifier cells, and recomputes its classes and
/// metrics from each cell's own level. Suppressed rows keep the node's levels and cost as before.
result<void> recode_locally(const std::vector<std::vector<std::uint32_t>>& leaves,
                            const std::vector<const Hierarchy*>& used, const Encoded& enc,
                            const std::vector<ColumnLoss>& loss, const ClassModel& model,
                            const std::vector<std::uint32_t>& levels, const std::vector<char>& released,
                            const Columns& columns, std::size_t k, Anonymised& out) {
  const std::size_t q = used.size();
  const std::size_t n = released.size();
  std::vector<RecodeColumn> recode(q);
  for (std::size_t c = 0; c < q; ++c) recode[c] = RecodeColumn{used[c], leaves[c]};
  const ClassAcceptable acceptable = [&model](std::span<const std::uint32_t> rows) {
    return model.accepts_rows(rows);
  };
  auto cells = local_recode(recode, levels, released, acceptable);
  if (!cells) return std::move(cells).err();

  const auto& cols = enc.columns();
  AnonymityReport& rep = out.report;
  const std::size_t suppressed = rep.suppressed;
  std::vector<double> share(q, 0.0);
  double ncp = 0, entropy = 0;
  rep.recoded_cells = 0;
  for (std::size_t c = 0; c < q; ++c) {
    const LevelColumn& col = cols[c];
    // Rows per leaf and per label, over the input, for the non-uniform entropy.
    std::vector<double> freq(col.leaves, 0.0);
    for (std::uint32_t x : leaves[c]) freq[x] += 1.0;
    std::vector<std::vector<double>> under(col.levels);
    for (std::size_t j = 0; j < col.levels; ++j) {
      under[j].assign(col.labels[j].size(), 0.0);
      for (std::size_t x = 0; x < col.leaves; ++x) under[j][col.to_level[j][x]] += freq[x];
    }
    std::vector<std::uint32_t> suppressed_labels(col.labels[levels[c]].size(), 0);
    for (std::size_t r = 0; r < n; ++r) {
      const std::uint32_t x = leaves[c][r];
      const std::uint32_t level = (*cells)[c][r];
      const std::uint32_t label = col.to_level[level][x];
      entropy += std::log2(under[level][label] / freq[x]);
      if (!released[r]) {
        share[c] += 1.0;
        ncp += 1.0;
        ++suppressed_labels[label];
        continue;
      }
      share[c] += loss[c].share[level][label];
      ncp += loss[c].ncp[level][label];
      if (level < levels[c]) ++rep.recoded_cells;
    }
    if (suppressed > 0) {
      const double s = static_cast<double>(suppressed);
      double part = s * std::log2(s);
      for (std::uint32_t g : suppressed_labels) {
        if (g > 0) part -= static_cast<double>(g) * std::log2(static_cast<double>(g));
      }
      entropy += std::max(0.0, part);
    }
  }
  // The release's cells and classes: rows equal in every column's (level, label).
  std::map<std::vector<std::uint64_t>, std::size_t> class_size;
  std::size_t at = 0;
  std::vector<std::uint64_t> key(q);
  for (std::size_t r = 0; r < n; ++r) {
    if (!released[r]) continue;
    std::vector<std::string>& row = out.data.rows[at++];
    for (std::size_t c = 0; c < q; ++c) {
      const std::uint32_t level = (*cells)[c][r];
      const std::uint32_t label = cols[c].to_level[level][leaves[c][r]];
      row[columns.quasi[c]].assign(cols[c].labels[level][label]);
      key[c] = (static_cast<std::uint64_t>(level) << 32) | label;
    }
    ++class_size[key];
  }
  std::vector<std::size_t> sizes;
  for (const auto& [cell_key, size] : class_size) sizes.push_back(size);
  summarise(sizes, k, rep);
  rep.loss.ncp = ncp / (static_cast<double>(n) * static_cast<double>(q));
  rep.loss.loss = enc.combine_loss(share);
  rep.loss.entropy = entropy;
  return {};
}

}  // namespace

result<Anonymised> lattice_anonymise(const Dataset& data, const Hierarchies& hierarchies,
                                     const AnonymityConfig& config, const Columns& columns,
                                     const ClassModel& model) {
  std::vector<const Hierarchy*> used;
  auto leaves = leaf_codes(data, hierarchies, config.quasi_identifiers, columns.quasi, used);
  if (!leaves) return std::move(leaves).err();
  std::optional<std::vector<std::vector<std::uint32_t>>> population_leaves;
  if (config.population) {
    std::vector<std::size_t> at;
    for (const std::string& name : config.quasi_identifiers)
      at.push_back(*config.population->column_index(name));
    std::vector<const Hierarchy*> population_used;
    auto p = leaf_codes(*config.population, hierarchies, config.quasi_identifiers, at, population_used);
    if (!p) return std::move(p).err();
    population_leaves = std::move(p).value();
  }
  const SensitiveCodes& sens = model.sensitive();
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
  std::vector<ColumnLoss> loss;
  for (std::size_t c = 0; c < cols.size(); ++c) loss.push_back(column_loss(cols[c], (*leaves)[c]));
  Encoded enc(std::move(cols), config, model, data.rows.size());
  enc.add_rows(*leaves, sens.code, sens.distinct);
  if (population_leaves) {
    enc.add_population(*population_leaves, config.population->rows.size());
    if (auto r = enc.sample_exceeds_population())
      return make_error(errc::bad_input,
                        data.where(*r) + ": the row's quasi-identifiers occur more often in " + data.source +
                            " than in the population " + config.population->source +
                            " (the table must be a sample of it)");
  }
  Search search(enc, lattice, config.metric, loss);
  const std::vector<std::uint32_t> order = lattice.by_height();
  // Every model is monotone without suppression; with it, only k-anonymity, the highest risk and
  // distinct l-diversity are. Where it does not hold, every node is checked.
  const bool without_suppression = enc.max_suppressed() == 0;
  const bool monotone = without_suppression ||
                        (model.monotone_with_suppression() && !config.max_average_risk && !config.population);
  search.settle(order, monotone);
  const std::optional<std::uint64_t> best =
      config.metric == Metric::discernibility ? search.optimum(order) : search.optimum_by_score(order);
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
  rep.metric = config.metric;
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
  const NodeScores chosen_scores = enc.scores(levels, chosen, loss);
  rep.loss.loss = chosen_scores.loss;
  rep.loss.entropy = chosen_scores.entropy;

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
  if (config.local_recoding) {
    std::vector<char> released(data.rows.size());
    for (std::size_t r = 0; r < data.rows.size(); ++r) released[r] = keep[enc.row_tuple(r)];
    auto recoded = recode_locally(*leaves, used, enc, loss, model, levels, released, columns, config.k, out);
    if (!recoded) return std::move(recoded).err();
  }
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
