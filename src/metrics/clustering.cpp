// Agreement of a clustering with labels (NMI, ARI, Hungarian accuracy) and the
// minimum-cost assignment they and the matching of units rest on.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"

namespace latent {
namespace {

// The Hungarian method with potentials for rows <= cols (Kuhn-Munkres in the
// shortest-augmenting-path form): O(rows^2 cols). Returns per row its column.
std::vector<std::int64_t> assign_rows(const RowMatrixd& cost) {
  const Eigen::Index n = cost.rows(), m = cost.cols();
  const double inf = std::numeric_limits<double>::infinity();
  // 1-based: column 0 is the virtual start of each augmenting path.
  std::vector<double> u(static_cast<std::size_t>(n + 1), 0.0), v(static_cast<std::size_t>(m + 1), 0.0);
  std::vector<Eigen::Index> row_of(static_cast<std::size_t>(m + 1), 0), way(static_cast<std::size_t>(m + 1), 0);
  for (Eigen::Index i = 1; i <= n; ++i) {
    row_of[0] = i;
    Eigen::Index column = 0;
    std::vector<double> slack(static_cast<std::size_t>(m + 1), inf);
    std::vector<char> used(static_cast<std::size_t>(m + 1), 0);
    do {
      used[static_cast<std::size_t>(column)] = 1;
      const Eigen::Index row = row_of[static_cast<std::size_t>(column)];
      double delta = inf;
      Eigen::Index next = 0;
      for (Eigen::Index j = 1; j <= m; ++j) {
        if (used[static_cast<std::size_t>(j)]) continue;
        const double reduced = cost(row - 1, j - 1) - u[static_cast<std::size_t>(row)] - v[static_cast<std::size_t>(j)];
        if (reduced < slack[static_cast<std::size_t>(j)])
          slack[static_cast<std::size_t>(j)] = reduced, way[static_cast<std::size_t>(j)] = column;
        if (slack[static_cast<std::size_t>(j)] < delta) delta = slack[static_cast<std::size_t>(j)], next = j;
      }
      for (Eigen::Index j = 0; j <= m; ++j) {
        if (used[static_cast<std::size_t>(j)]) {
          u[static_cast<std::size_t>(row_of[static_cast<std::size_t>(j)])] += delta;
          v[static_cast<std::size_t>(j)] -= delta;
        } else {
          slack[static_cast<std::size_t>(j)] -= delta;
        }
      }
      column = next;
    } while (row_of[static_cast<std::size_t>(column)] != 0);
    do {  // flip the augmenting path
      const Eigen::Index previous = way[static_cast<std::size_t>(column)];
      row_of[static_cast<std::size_t>(column)] = row_of[static_cast<std::size_t>(previous)];
      column = previous;
    } while (column != 0);
  }
  std::vector<std::int64_t> match(static_cast<std::size_t>(n), -1);
  for (Eigen::Index j = 1; j <= m; ++j)
    if (row_of[static_cast<std::size_t>(j)] != 0)
      match[static_cast<std::size_t>(row_of[static_cast<std::size_t>(j)] - 1)] = j - 1;
  return match;
}

// Dense indices of the distinct values (ascending) and their count.
std::vector<std::int64_t> dense_index(const std::vector<std::int64_t>& values, std::int64_t& distinct) {
  std::vector<std::int64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  distinct = static_cast<std::int64_t>(sorted.size());
  std::vector<std::int64_t> index(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    index[i] = std::lower_bound(sorted.begin(), sorted.end(), values[i]) - sorted.begin();
  return index;
}

// contingency(t, p) = rows of true class t in cluster p.
RowMatrixd contingency(const char* function, const std::vector<std::int64_t>& truth,
                       const std::vector<std::int64_t>& predicted) {
  if (truth.empty()) raise<EmptyInput>(function, "truth", "is empty");
  if (truth.size() != predicted.size())
    raise<DimensionMismatch>(
        function, "predicted", "needs one entry per entry of truth",
        "truth=" + std::to_string(truth.size()) + ", predicted=" + std::to_string(predicted.size()));
  std::int64_t classes = 0, clusters = 0;
  const std::vector<std::int64_t> t = dense_index(truth, classes), p = dense_index(predicted, clusters);
  RowMatrixd table = RowMatrixd::Zero(classes, clusters);
  for (std::size_t i = 0; i < t.size(); ++i) table(t[i], p[i]) += 1;
  return table;
}

double entropy_of(const Eigen::VectorXd& counts, double n) {
  double h = 0;
  for (Eigen::Index i = 0; i < counts.size(); ++i)
    if (counts(i) > 0) h -= counts(i) / n * std::log(counts(i) / n);
  return h;
}

double pairs(double count) { return count * (count - 1) / 2; }

}  // namespace

std::vector<std::int64_t> linear_assignment(const RowMatrixd& cost, bool maximize) {
  if (cost.size() == 0) raise<EmptyInput>("linear_assignment", "cost", "is empty");
  if (!cost.allFinite()) raise<NonFiniteValue>("linear_assignment", "cost", "holds NaN or Inf");
  const RowMatrixd signed_cost = maximize ? RowMatrixd(-cost) : cost;
  if (cost.rows() <= cost.cols()) return assign_rows(signed_cost);
  const std::vector<std::int64_t> by_column = assign_rows(signed_cost.transpose());
  std::vector<std::int64_t> match(static_cast<std::size_t>(cost.rows()), -1);
  for (std::size_t j = 0; j < by_column.size(); ++j)
    match[static_cast<std::size_t>(by_column[j])] = static_cast<std::int64_t>(j);
  return match;
}

double normalized_mutual_info(const std::vector<std::int64_t>& truth, const std::vector<std::int64_t>& predicted) {
  const RowMatrixd table = contingency("normalized_mutual_info", truth, predicted);
  if (table.rows() == 1 && table.cols() == 1) return 1.0;  // both one cluster: the same partition
  const auto n = static_cast<double>(truth.size());
  const Eigen::VectorXd a = table.rowwise().sum(), b = table.colwise().sum().transpose();
  double mi = 0;
  for (Eigen::Index i = 0; i < table.rows(); ++i)
    for (Eigen::Index j = 0; j < table.cols(); ++j)
      if (table(i, j) > 0) mi += table(i, j) / n * std::log(n * table(i, j) / (a(i) * b(j)));
  mi = std::max(mi, 0.0);
  if (mi == 0) return 0.0;
  return mi / ((entropy_of(a, n) + entropy_of(b, n)) / 2);
}

double adjusted_rand_index(const std::vector<std::int64_t>& truth, const std::vector<std::int64_t>& predicted) {
  const RowMatrixd table = contingency("adjusted_rand_index", truth, predicted);
  if (truth.size() < 2) return 1.0;  // no pairs: nothing to disagree on
  double index = 0, rows = 0, columns = 0;
  for (Eigen::Index i = 0; i < table.rows(); ++i)
    for (Eigen::Index j = 0; j < table.cols(); ++j) index += pairs(table(i, j));
  for (const double count : Eigen::VectorXd(table.rowwise().sum())) rows += pairs(count);
  for (const double count : Eigen::RowVectorXd(table.colwise().sum())) columns += pairs(count);
  const double expected = rows * columns / pairs(static_cast<double>(truth.size()));
  const double maximum = (rows + columns) / 2;
  // The denominator is 0 only when both partitions are all singletons or one cluster: equal.
  if (maximum == expected) return 1.0;
  return (index - expected) / (maximum - expected);
}

double cluster_accuracy(const std::vector<std::int64_t>& truth, const std::vector<std::int64_t>& predicted) {
  const RowMatrixd table = contingency("cluster_accuracy", truth, predicted);
  const std::vector<std::int64_t> match = linear_assignment(table, true);
  double agreed = 0;
  for (std::size_t t = 0; t < match.size(); ++t)
    if (match[t] >= 0) agreed += table(static_cast<Eigen::Index>(t), match[t]);
  return agreed / static_cast<double>(truth.size());
}

}  // namespace latent
