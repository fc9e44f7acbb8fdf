// Anchor selection (see relative.hpp): seeded and deterministic. Distances are
// squared l2 in double; random draws come from splitmix64, so a seed gives the
// same anchors on every platform and for any thread count.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/relative.hpp"

#include "../core/random.hpp"

namespace latent {

namespace {
constexpr NamedValue<AnchorMethod> kAnchorMethodNames[] = {{"uniform", AnchorMethod::uniform},
                                                           {"first", AnchorMethod::first},
                                                           {"farthest-point", AnchorMethod::farthest_point},
                                                           {"kmeans++", AnchorMethod::kmeans_plus_plus},
                                                           {"kmeans", AnchorMethod::kmeans}};
}  // namespace

std::string_view to_string(AnchorMethod method) { return name_of(kAnchorMethodNames, method); }

AnchorMethod parse_anchor_method(std::string_view name, std::string_view argument) {
  return parse_name(kAnchorMethodNames, name, "parse_anchor_method", argument, "anchor method");
}
namespace {

using detail::SplitMix64;

template <class T>
double squared_distance(const T* a, const double* b, std::int64_t dim) {
  double sum = 0;
  for (std::int64_t t = 0; t < dim; ++t) {
    const double diff = static_cast<double>(a[t]) - b[t];
    sum += diff * diff;
  }
  return sum;
}

template <class T>
void check_selection(const char* function, const MatrixView<T>& x, std::int64_t count) {
  require_non_empty(function, "x", x);
  require_finite(function, "x", x);
  if (count < 1) raise<InvalidArgument>(function, "count", "must be >= 1", "count=" + std::to_string(count));
  if (count > x.rows)
    raise<InvalidArgument>(function, "count", "fewer rows than anchors",
                           "count=" + std::to_string(count) + ", rows=" + std::to_string(x.rows));
}

template <class T>
std::vector<double> row_as_double(const MatrixView<T>& x, std::int64_t i) {
  return std::vector<double>(x.row(i), x.row(i) + x.cols);
}

// Greedy selection by distance to the chosen set: farthest point (deterministic
// argmax, ties to the smaller id) or D^2 sampling (k-means++). The first row is a
// seeded uniform draw.
template <class T>
std::vector<std::int64_t> greedy_by_distance(const MatrixView<T>& x, std::int64_t count, bool sample,
                                             const AnchorOptions& options) {
  SplitMix64 random{options.seed};
  std::vector<std::int64_t> chosen = {random.below(x.rows)};
  std::vector<char> taken(static_cast<std::size_t>(x.rows), 0);
  taken[static_cast<std::size_t>(chosen[0])] = 1;
  std::vector<double> nearest(static_cast<std::size_t>(x.rows), std::numeric_limits<double>::infinity());
  while (static_cast<std::int64_t>(chosen.size()) < count) {
    const std::vector<double> last = row_as_double(x, chosen.back());
    parallel_for(x.rows, 1024, options.parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        double& value = nearest[static_cast<std::size_t>(i)];
        value = std::min(value, squared_distance(x.row(i), last.data(), x.cols));
      }
    });
    std::int64_t pick = -1;
    if (sample) {
      double total = 0;
      for (std::int64_t i = 0; i < x.rows; ++i)
        if (!taken[static_cast<std::size_t>(i)]) total += nearest[static_cast<std::size_t>(i)];
      if (total > 0) {
        double target = random.uniform() * total;
        for (std::int64_t i = 0; i < x.rows; ++i) {
          if (taken[static_cast<std::size_t>(i)] || nearest[static_cast<std::size_t>(i)] <= 0) continue;
          pick = i;  // the last positive candidate absorbs rounding at the end of the scan
          target -= nearest[static_cast<std::size_t>(i)];
          if (target < 0) break;
        }
      }
    } else {
      double best = -1;
      for (std::int64_t i = 0; i < x.rows; ++i) {
        if (taken[static_cast<std::size_t>(i)]) continue;
        if (nearest[static_cast<std::size_t>(i)] > best) best = nearest[static_cast<std::size_t>(i)], pick = i;
      }
    }
    if (pick < 0)  // only duplicates of chosen rows remain: the smallest free id
      pick = static_cast<std::int64_t>(std::find(taken.begin(), taken.end(), 0) - taken.begin());
    taken[static_cast<std::size_t>(pick)] = 1;
    chosen.push_back(pick);
  }
  return chosen;
}

// Lloyd's k-means from k-means++ seeds; returns the centroids [count x d].
template <class T>
RowMatrixd lloyd(const MatrixView<T>& x, std::int64_t count, const AnchorOptions& options) {
  const std::vector<std::int64_t> seeds = greedy_by_distance(x, count, true, options);
  const std::int64_t d = x.cols;
  RowMatrixd centroids(count, d);
  for (std::int64_t c = 0; c < count; ++c)
    for (std::int64_t t = 0; t < d; ++t)
      centroids(c, t) = static_cast<double>(x.row(seeds[static_cast<std::size_t>(c)])[t]);
  std::vector<std::int64_t> assignment(static_cast<std::size_t>(x.rows), -1);
  for (std::int64_t iteration = 0; iteration < options.kmeans_iterations; ++iteration) {
    std::int64_t changed = 0;
    parallel_for(x.rows, 256, options.parallel, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        std::int64_t best = 0;
        double best_distance = std::numeric_limits<double>::infinity();
        for (std::int64_t c = 0; c < count; ++c) {
          const double value = squared_distance(x.row(i), centroids.row(c).data(), d);
          if (value < best_distance) best_distance = value, best = c;
        }
        assignment[static_cast<std::size_t>(i)] = best;
      }
    });
    RowMatrixd sums = RowMatrixd::Zero(count, d);
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(count), 0);
    for (std::int64_t i = 0; i < x.rows; ++i) {
      const std::int64_t c = assignment[static_cast<std::size_t>(i)];
      ++sizes[static_cast<std::size_t>(c)];
      for (std::int64_t t = 0; t < d; ++t) sums(c, t) += static_cast<double>(x.row(i)[t]);
    }
    for (std::int64_t c = 0; c < count; ++c) {
      if (sizes[static_cast<std::size_t>(c)] == 0) continue;  // an empty cluster keeps its centroid
      const RowMatrixd mean = sums.row(c) / static_cast<double>(sizes[static_cast<std::size_t>(c)]);
      if (mean != centroids.row(c)) ++changed;
      centroids.row(c) = mean;
    }
    if (changed == 0) break;
  }
  return centroids;
}

template <class T>
std::vector<std::int64_t> select(const MatrixView<T>& x, std::int64_t count, const AnchorOptions& options) {
  check_selection("select_anchors", x, count);
  switch (options.method) {
    case AnchorMethod::first: {
      std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
      std::iota(ids.begin(), ids.end(), std::int64_t{0});
      return ids;
    }
    case AnchorMethod::uniform: {
      SplitMix64 random{options.seed};
      std::vector<std::int64_t> ids = random.sample(x.rows, count);
      std::sort(ids.begin(), ids.end());
      return ids;
    }
    case AnchorMethod::farthest_point:
      return greedy_by_distance(x, count, false, options);
    case AnchorMethod::kmeans_plus_plus:
      return greedy_by_distance(x, count, true, options);
    case AnchorMethod::kmeans: {
      const RowMatrixd centroids = lloyd(x, count, options);
      std::vector<char> taken(static_cast<std::size_t>(x.rows), 0);
      std::vector<std::int64_t> ids;
      for (std::int64_t c = 0; c < count; ++c) {
        std::int64_t best = -1;
        double best_distance = std::numeric_limits<double>::infinity();
        for (std::int64_t i = 0; i < x.rows; ++i) {
          if (taken[static_cast<std::size_t>(i)]) continue;
          const double value = squared_distance(x.row(i), centroids.row(c).data(), x.cols);
          if (value < best_distance) best_distance = value, best = i;
        }
        taken[static_cast<std::size_t>(best)] = 1;
        ids.push_back(best);
      }
      return ids;
    }
  }
  raise<InvalidArgument>("select_anchors", "method", "is not an AnchorMethod");
}

template <class T>
std::vector<std::int64_t> stratified(const MatrixView<T>& x, const std::vector<std::int64_t>& labels,
                                     std::int64_t count, const AnchorOptions& options) {
  const char* function = "select_anchors_stratified";
  check_selection(function, x, count);
  require_same_dim(function, "labels", static_cast<std::int64_t>(labels.size()), "rows of x", x.rows);
  std::map<std::int64_t, std::vector<std::int64_t>> strata;
  for (std::size_t i = 0; i < labels.size(); ++i) strata[labels[i]].push_back(static_cast<std::int64_t>(i));
  // Largest remainder: floor(count * share), then one more to the largest fractional parts.
  std::vector<std::pair<std::int64_t, double>> quota;  // (anchors, fractional part) per stratum, label order
  std::int64_t assigned = 0;
  for (const auto& [label, rows] : strata) {
    const double exact = static_cast<double>(count) * static_cast<double>(rows.size()) / static_cast<double>(x.rows);
    const auto whole = static_cast<std::int64_t>(std::floor(exact));
    quota.emplace_back(whole, exact - static_cast<double>(whole));
    assigned += whole;
  }
  std::vector<std::size_t> order(quota.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return quota[a].second > quota[b].second; });
  for (std::size_t r = 0; assigned < count; ++r, ++assigned) ++quota[order[r % order.size()]].first;

  std::vector<std::int64_t> ids;
  std::size_t s = 0;
  for (const auto& [label, rows] : strata) {
    const std::int64_t want = quota[s++].first;
    if (want == 0) continue;
    RowMatrix<T> subset(static_cast<std::int64_t>(rows.size()), x.cols);
    for (std::size_t r = 0; r < rows.size(); ++r)
      std::copy(x.row(rows[r]), x.row(rows[r]) + x.cols, subset.row(static_cast<std::int64_t>(r)).data());
    for (const std::int64_t local : select(MatrixView<T>(subset), want, options))
      ids.push_back(rows[static_cast<std::size_t>(local)]);
  }
  return ids;
}

template <class T>
RowMatrix<T> gather(const MatrixView<T>& x, const std::vector<std::int64_t>& ids) {
  RowMatrix<T> out(static_cast<std::int64_t>(ids.size()), x.cols);
  for (std::size_t r = 0; r < ids.size(); ++r) {
    if (ids[r] < 0 || ids[r] >= x.rows)
      raise<InvalidArgument>(
          "gather_rows", "ids", "anchor id out of range",
          "id=" + std::to_string(ids[r]) + " at position " + std::to_string(r) + ", rows=" + std::to_string(x.rows));
    std::copy(x.row(ids[r]), x.row(ids[r]) + x.cols, out.row(static_cast<std::int64_t>(r)).data());
  }
  return out;
}

}  // namespace

std::vector<std::int64_t> select_anchors(const MatrixView<float>& x, std::int64_t count, const AnchorOptions& options) {
  return select(x, count, options);
}
std::vector<std::int64_t> select_anchors(const MatrixView<double>& x, std::int64_t count,
                                         const AnchorOptions& options) {
  return select(x, count, options);
}
std::vector<std::int64_t> select_anchors_stratified(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                                                    std::int64_t count, const AnchorOptions& options) {
  return stratified(x, labels, count, options);
}
std::vector<std::int64_t> select_anchors_stratified(const MatrixView<double>& x,
                                                    const std::vector<std::int64_t>& labels, std::int64_t count,
                                                    const AnchorOptions& options) {
  return stratified(x, labels, count, options);
}
RowMatrixf kmeans_centroids(const MatrixView<float>& x, std::int64_t count, const AnchorOptions& options) {
  check_selection("kmeans_centroids", x, count);
  return lloyd(x, count, options).cast<float>();
}
RowMatrixd kmeans_centroids(const MatrixView<double>& x, std::int64_t count, const AnchorOptions& options) {
  check_selection("kmeans_centroids", x, count);
  return lloyd(x, count, options);
}
RowMatrixf gather_rows(const MatrixView<float>& x, const std::vector<std::int64_t>& ids) { return gather(x, ids); }
RowMatrixd gather_rows(const MatrixView<double>& x, const std::vector<std::int64_t>& ids) { return gather(x, ids); }

}  // namespace latent
