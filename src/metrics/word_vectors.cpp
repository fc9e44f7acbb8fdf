// The word-vector tests: analogies (3CosAdd, 3CosMul), WEAT and EvalRank (see
// metrics/probes.hpp). Cosines come from `similarity` (the GEMM path), in
// blocks of queries so memory stays at a block of scores.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "../core/random.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"

namespace latent {
namespace {

constexpr std::int64_t kBlock = 1024;  // queries per block of cosines

constexpr NamedValue<AnalogyMethod> kAnalogyNames[] = {{"3cosadd", AnalogyMethod::add},
                                                       {"3cosmul", AnalogyMethod::mul}};

void check_vectors(const char* function, const char* argument, const MatrixView<float>& x) {
  require_non_empty(function, argument, x);
  require_finite(function, argument, x);
}

void check_ids(const char* function, const char* argument, const IdMatrix& ids, std::int64_t columns,
               std::int64_t rows) {
  if (ids.rows() == 0) raise<EmptyInput>(function, argument, "is empty");
  if (ids.cols() != columns)
    raise<InvalidArgument>(function, argument, "must have " + std::to_string(columns) + " columns",
                           "columns=" + std::to_string(ids.cols()));
  for (Eigen::Index i = 0; i < ids.rows(); ++i)
    for (Eigen::Index j = 0; j < ids.cols(); ++j)
      if (ids(i, j) < 0 || ids(i, j) >= rows)
        raise<InvalidArgument>(function, argument, "holds an id outside the vectors",
                               "id=" + std::to_string(ids(i, j)) + ", vectors=" + std::to_string(rows));
}

// Cosines of the rows `ids` against every row of `vectors` ([ids x V]).
RowMatrixf cosines_of(const MatrixView<float>& vectors, const std::vector<std::int64_t>& ids,
                      const Parallel& parallel) {
  RowMatrixf queries(static_cast<Eigen::Index>(ids.size()), vectors.cols);
  for (std::size_t i = 0; i < ids.size(); ++i)
    queries.row(static_cast<Eigen::Index>(i)) = Eigen::Map<const Eigen::RowVectorXf>(vectors.row(ids[i]), vectors.cols);
  SearchOptions options;
  options.parallel = parallel;
  options.validate_finite = false;
  return similarity(queries, vectors, Metric::cosine, options);
}

// s(w) = mean_a cos(w, a) - mean_b cos(w, b) for every row w.
std::vector<double> association(const MatrixView<float>& w, const MatrixView<float>& a, const MatrixView<float>& b) {
  const RowMatrixf to_a = similarity(w, a, Metric::cosine), to_b = similarity(w, b, Metric::cosine);
  std::vector<double> s(static_cast<std::size_t>(w.rows));
  for (std::int64_t i = 0; i < w.rows; ++i)
    s[static_cast<std::size_t>(i)] = to_a.row(i).cast<double>().mean() - to_b.row(i).cast<double>().mean();
  return s;
}

}  // namespace

std::string_view to_string(AnalogyMethod method) { return name_of(kAnalogyNames, method); }

AnalogyMethod parse_analogy_method(std::string_view name, std::string_view argument) {
  return parse_name(kAnalogyNames, name, "parse_analogy_method", argument, "analogy method");
}

std::vector<std::int64_t> solve_analogies(const MatrixView<float>& vectors, const IdMatrix& questions,
                                          AnalogyMethod method, const Parallel& parallel) {
  constexpr const char* kFunction = "solve_analogies";
  check_vectors(kFunction, "vectors", vectors);
  if (vectors.rows < 4)
    raise<InvalidArgument>(kFunction, "vectors", "needs at least 4 rows", "rows=" + std::to_string(vectors.rows));
  check_ids(kFunction, "questions", questions, 3, vectors.rows);
  std::vector<std::int64_t> answers(static_cast<std::size_t>(questions.rows()));
  for (std::int64_t start = 0; start < questions.rows(); start += kBlock) {
    const std::int64_t count = std::min<std::int64_t>(kBlock, questions.rows() - start);
    std::vector<std::int64_t> ids;
    for (std::int64_t q = start; q < start + count; ++q)
      for (int c = 0; c < 3; ++c) ids.push_back(questions(q, c));
    const RowMatrixf cos = cosines_of(vectors, ids, parallel);
    for (std::int64_t q = 0; q < count; ++q) {
      const std::int64_t a = questions(start + q, 0), b = questions(start + q, 1), c = questions(start + q, 2);
      std::int64_t best = -1;
      double best_score = -std::numeric_limits<double>::infinity();
      for (std::int64_t d = 0; d < vectors.rows; ++d) {
        if (d == a || d == b || d == c) continue;
        const double to_a = cos(3 * q, d), to_b = cos(3 * q + 1, d), to_c = cos(3 * q + 2, d);
        const double score = method == AnalogyMethod::add
                                 ? to_b - to_a + to_c
                                 : ((to_b + 1) / 2) * ((to_c + 1) / 2) / ((to_a + 1) / 2 + 1e-3);
        if (score > best_score) best_score = score, best = d;
      }
      answers[static_cast<std::size_t>(start + q)] = best;
    }
  }
  return answers;
}

WeatResult weat(const MatrixView<float>& x, const MatrixView<float>& y, const MatrixView<float>& a,
                const MatrixView<float>& b, std::int64_t permutations, std::uint64_t seed) {
  constexpr const char* kFunction = "weat";
  check_vectors(kFunction, "x", x);
  check_vectors(kFunction, "y", y);
  check_vectors(kFunction, "a", a);
  check_vectors(kFunction, "b", b);
  require_same_dim(kFunction, "columns of y", y.cols, "columns of x", x.cols);
  require_same_dim(kFunction, "columns of a", a.cols, "columns of x", x.cols);
  require_same_dim(kFunction, "columns of b", b.cols, "columns of x", x.cols);
  if (permutations < 1) raise<InvalidArgument>(kFunction, "permutations", "must be >= 1", std::to_string(permutations));
  std::vector<double> s = association(x, a, b);
  const std::vector<double> s_y = association(y, a, b);
  s.insert(s.end(), s_y.begin(), s_y.end());
  const auto n_x = static_cast<std::size_t>(x.rows), n = s.size();
  const double total = std::accumulate(s.begin(), s.end(), 0.0);
  // statistic(X_i) = sum_{X_i} s - sum_{Y_i} s = 2 sum_{X_i} s - total.
  const auto statistic_of = [&](const std::vector<std::size_t>& members) {
    double sum = 0;
    for (const std::size_t m : members) sum += s[m];
    return 2 * sum - total;
  };
  std::vector<std::size_t> observed(n_x);
  std::iota(observed.begin(), observed.end(), std::size_t{0});
  WeatResult result;
  result.statistic = statistic_of(observed);
  const double mean_x =
      std::accumulate(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n_x), 0.0) / static_cast<double>(n_x);
  const double mean_y =
      std::accumulate(s.begin() + static_cast<std::ptrdiff_t>(n_x), s.end(), 0.0) / static_cast<double>(n - n_x);
  const double mean = total / static_cast<double>(n);
  double squares = 0;
  for (const double value : s) squares += (value - mean) * (value - mean);
  const double sd = std::sqrt(squares / static_cast<double>(n - 1));
  if (!(sd > 0)) raise<NumericalError>(kFunction, "x", "gives every word the same association: no spread");
  result.effect_size = (mean_x - mean_y) / sd;
  // The number of partitions C(n, n_x), capped just above `permutations`.
  double partitions = 1;
  for (std::size_t i = 0; i < n_x && partitions <= static_cast<double>(permutations); ++i)
    partitions = partitions * static_cast<double>(n - i) / static_cast<double>(i + 1);
  std::int64_t exceeding = 0;
  if (partitions <= static_cast<double>(permutations)) {
    // Every subset of n_x of the n words, in lexicographic order.
    result.exact = true;
    std::vector<std::size_t> members(n_x);
    std::iota(members.begin(), members.end(), std::size_t{0});
    for (;;) {
      ++result.partitions;
      if (statistic_of(members) > result.statistic) ++exceeding;
      std::size_t i = n_x;
      while (i > 0 && members[i - 1] == n - n_x + i - 1) --i;
      if (i == 0) break;
      ++members[i - 1];
      for (std::size_t j = i; j < n_x; ++j) members[j] = members[j - 1] + 1;
    }
  } else {
    detail::SplitMix64 random{seed};
    std::vector<std::size_t> members(n_x);
    for (std::int64_t p = 0; p < permutations; ++p) {
      const std::vector<std::int64_t> drawn =
          random.sample(static_cast<std::int64_t>(n), static_cast<std::int64_t>(n_x));
      for (std::size_t i = 0; i < n_x; ++i) members[i] = static_cast<std::size_t>(drawn[i]);
      if (statistic_of(members) > result.statistic) ++exceeding;
    }
    result.partitions = permutations;
  }
  result.p_value = static_cast<double>(exceeding) / static_cast<double>(result.partitions);
  return result;
}

EvalRankScores evalrank(const MatrixView<float>& vectors, const IdMatrix& pairs, const Parallel& parallel) {
  constexpr const char* kFunction = "evalrank";
  check_vectors(kFunction, "vectors", vectors);
  check_ids(kFunction, "pairs", pairs, 2, vectors.rows);
  for (Eigen::Index p = 0; p < pairs.rows(); ++p)
    if (pairs(p, 0) == pairs(p, 1))
      raise<InvalidArgument>(kFunction, "pairs", "pairs a row with itself", "pair " + std::to_string(p));
  EvalRankScores scores;
  scores.pairs = pairs.rows();
  for (std::int64_t start = 0; start < pairs.rows(); start += kBlock) {
    const std::int64_t count = std::min<std::int64_t>(kBlock, pairs.rows() - start);
    std::vector<std::int64_t> ids;
    for (std::int64_t p = start; p < start + count; ++p) ids.push_back(pairs(p, 0));
    const RowMatrixf cos = cosines_of(vectors, ids, parallel);
    for (std::int64_t p = 0; p < count; ++p) {
      const std::int64_t i = pairs(start + p, 0), j = pairs(start + p, 1);
      const float own = cos(p, j);
      std::int64_t rank = 1;
      for (std::int64_t k = 0; k < vectors.rows; ++k)
        if (k != i && k != j && cos(p, k) > own) ++rank;
      scores.mrr += 1.0 / static_cast<double>(rank);
      scores.hits1 += rank <= 1 ? 1.0 : 0.0;
      scores.hits3 += rank <= 3 ? 1.0 : 0.0;
    }
  }
  const auto total = static_cast<double>(pairs.rows());
  scores.mrr /= total;
  scores.hits1 /= total;
  scores.hits3 /= total;
  return scores;
}

}  // namespace latent
