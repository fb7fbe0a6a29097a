// class_model.cpp: the models decided class by class: k (raised by a highest-risk bound),
// l-diversity and t-closeness with its three earth mover's distances (Li, Li and
// Venkatasubramanian 2007).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "privacy_model.hpp"

namespace consentry::detail {

result<ClassModel> ClassModel::make(const Dataset& data, const Hierarchies& hierarchies,
                                    const AnonymityConfig& config, const Columns& columns) {
  ClassModel m;
  m.config_ = &config;
  m.min_size_ = config.k;
  if (config.max_highest_risk) {
    // The least size whose risk 1/size is at most r; the slack keeps 1/0.2 at 5.
    const double need = std::ceil(1.0 / *config.max_highest_risk - 1e-9);
    m.min_size_ = std::max(m.min_size_, static_cast<std::size_t>(std::max(1.0, need)));
  }
  m.sens_ = encode_sensitive(data, columns, config);
  if (!config.t) return m;

  const std::size_t distinct = m.sens_.distinct;
  const double n = static_cast<double>(data.rows.size());
  m.global_.resize(distinct);
  for (std::size_t v = 0; v < distinct; ++v) m.global_[v] = static_cast<double>(m.sens_.total[v]) / n;
  // The first row of each code, to read its text and name its line.
  std::vector<std::size_t> first(distinct, data.rows.size());
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    auto& f = first[m.sens_.code[r]];
    if (f == data.rows.size()) f = r;
  }
  const std::string& name = config.sensitive;
  if (config.closeness == ClosenessDistance::ordered) {
    std::vector<std::pair<double, std::uint32_t>> values;
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      auto v = parse_number(data.rows[r][columns.sensitive]);
      if (!v)
        return make_error(errc::bad_input, data.where(r) + ": column '" + name +
                                               "': not a number (ordered t-closeness needs a numeric "
                                               "sensitive column)");
    }
    for (std::size_t v = 0; v < distinct; ++v)
      values.emplace_back(*parse_number(data.rows[first[v]][columns.sensitive]),
                          static_cast<std::uint32_t>(v));
    std::sort(values.begin(), values.end());
    m.rank_.resize(distinct);
    // Texts that are the same number ("5" and "5.0") share a rank.
    std::uint32_t rank = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0 && values[i].first != values[i - 1].first) ++rank;
      m.rank_[values[i].second] = rank;
    }
    m.extra_.assign(static_cast<std::size_t>(rank) + 1, 0.0);
  } else if (config.closeness == ClosenessDistance::hierarchical) {
    auto h = hierarchies.find(name);
    if (h == hierarchies.end() || h->second.rows.empty())
      return make_error(errc::bad_input,
                        "hierarchical t-closeness needs a hierarchy of the sensitive column '" + name + "'");
    const Hierarchy& hier = h->second;
    std::unordered_map<std::string_view, std::size_t> leaf;
    for (std::size_t i = 0; i < hier.rows.size(); ++i) leaf.emplace(hier.rows[i][0], i);
    // Level 0 labels are the codes; each higher level gets its own dense labels.
    const std::size_t levels = hier.levels();
    std::vector<std::size_t> leaf_of(distinct);
    for (std::size_t v = 0; v < distinct; ++v) {
      auto it = leaf.find(data.rows[first[v]][columns.sensitive]);
      if (it == leaf.end())
        return make_error(errc::bad_input, data.where(first[v]) + ": column '" + name +
                                               "': the value is not in " + hier.source);
      leaf_of[v] = it->second;
    }
    std::vector<std::uint32_t> below(distinct);
    std::iota(below.begin(), below.end(), 0U);
    std::size_t below_size = distinct;
    for (std::size_t j = 1; j < levels; ++j) {
      std::unordered_map<std::string_view, std::uint32_t> labels;
      std::vector<std::uint32_t> parent(below_size);
      std::vector<std::uint32_t> next(distinct);
      for (std::size_t v = 0; v < distinct; ++v) {
        auto [it, added] =
            labels.emplace(hier.rows[leaf_of[v]][j], static_cast<std::uint32_t>(labels.size()));
        parent[below[v]] = it->second;
        next[v] = it->second;
      }
      m.parent_.push_back(std::move(parent));
      below = std::move(next);
      below_size = labels.size();
    }
    if (below_size > 1)
      return make_error(errc::bad_input, hier.source +
                                             ": hierarchical t-closeness needs one label at the top "
                                             "level (such as '*') over every value of the column");
    m.extra_.assign(distinct, 0.0);
  } else {
    m.extra_.assign(distinct, 0.0);
  }
  return m;
}

bool ClassModel::monotone_with_suppression() const noexcept {
  if (config_->t) return false;
  return config_->l <= 1 || config_->diversity == DiversityMeasure::distinct;
}

double ClassModel::distance(std::span<const SensitiveCount> counts, std::size_t size) const {
  const double n = static_cast<double>(size);
  switch (config_->closeness) {
    case ClosenessDistance::equal: {
      // 1/2 sum |p - q| = 1/2 (1 + sum over present values of (|p - q| - q)).
      double s = 1.0;
      for (const SensitiveCount& c : counts) {
        const double p = static_cast<double>(c.count) / n;
        s += std::abs(p - global_[c.code]) - global_[c.code];
      }
      return std::max(0.0, s / 2.0);
    }
    case ClosenessDistance::ordered: {
      // (1 / (m - 1)) sum over i < m of |sum over j <= i of (p_j - q_j)|, in numeric order.
      const std::size_t m = extra_.size();
      if (m <= 1) return 0.0;
      std::fill(extra_.begin(), extra_.end(), 0.0);
      for (std::size_t v = 0; v < global_.size(); ++v) extra_[rank_[v]] -= global_[v];
      for (const SensitiveCount& c : counts) extra_[rank_[c.code]] += static_cast<double>(c.count) / n;
      double running = 0, sum = 0;
      for (std::size_t i = 0; i + 1 < m; ++i) {
        running += extra_[i];
        sum += std::abs(running);
      }
      return sum / static_cast<double>(m - 1);
    }
    case ClosenessDistance::hierarchical: {
      // Bottom-up: at each node of level j the positive and negative extras of its children
      // cancel at cost j / height each; what remains moves up.
      const std::size_t height = parent_.size();
      if (height == 0) return 0.0;
      extra_.assign(global_.size(), 0.0);
      for (std::size_t v = 0; v < global_.size(); ++v) extra_[v] = -global_[v];
      for (const SensitiveCount& c : counts) extra_[c.code] += static_cast<double>(c.count) / n;
      double cost = 0;
      for (std::size_t j = 0; j < height; ++j) {
        const auto& parent = parent_[j];
        std::size_t labels = 0;
        for (std::uint32_t p : parent) labels = std::max<std::size_t>(labels, p + 1);
        pos_.assign(labels, 0.0);
        neg_.assign(labels, 0.0);
        for (std::size_t x = 0; x < parent.size(); ++x) {
          if (extra_[x] > 0) pos_[parent[x]] += extra_[x];
          if (extra_[x] < 0) neg_[parent[x]] -= extra_[x];
        }
        extra_.assign(labels, 0.0);
        const double weight = static_cast<double>(j + 1) / static_cast<double>(height);
        for (std::size_t y = 0; y < labels; ++y) {
          cost += weight * std::min(pos_[y], neg_[y]);
          extra_[y] = pos_[y] - neg_[y];
        }
      }
      return cost;
    }
  }
  return 0.0;
}

bool ClassModel::accepts(std::span<const SensitiveCount> counts, std::size_t size) const {
  if (size < min_size_) return false;
  if (config_->l > 1) {
    dense_.clear();
    for (const SensitiveCount& c : counts) dense_.push_back(c.count);
    if (!is_diverse(dense_, size, config_->diversity, config_->l, config_->c)) return false;
  }
  if (config_->t && distance(counts, size) > *config_->t + kClosenessSlack) return false;
  return true;
}

bool ClassModel::accepts_rows(std::span<const std::uint32_t> rows) const {
  if (rows.size() < min_size_) return false;
  if (!reads_sensitive()) return accepts({}, rows.size());
  row_counts_.resize(sens_.distinct, 0);
  touched_.clear();
  for (std::uint32_t r : rows) {
    if (row_counts_[sens_.code[r]]++ == 0) touched_.push_back(sens_.code[r]);
  }
  held_.clear();
  for (std::uint32_t v : touched_) held_.push_back({v, row_counts_[v]});
  const bool ok = accepts(held_, rows.size());
  for (std::uint32_t v : touched_) row_counts_[v] = 0;
  return ok;
}

}  // namespace consentry::detail
