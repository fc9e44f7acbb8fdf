// latent/core/types.hpp - the vocabulary every module shares.
//
// Matrices are row-major, one row per vector (`RowMatrix<T>`); functions take a
// `MatrixView<T>`, to which row-major Eigen matrices, maps and blocks convert
// implicitly, so that a user's buffer or a memory-mapped file is read without a
// copy. Free functions come as float/double overload pairs. Ids are `std::int64_t` (FAISS's
// idx_t) and a missing neighbour is -1. `Metric` names are the ones of the API and
// of the CLI. `KnnGraph` is the one neighbour type: rows sorted nearest first,
// ties broken by the smaller id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include <Eigen/Core>

// The library version; CMake reads it from these three lines.
#define LATENT_VERSION_MAJOR 0
#define LATENT_VERSION_MINOR 1
#define LATENT_VERSION_PATCH 0

#define LATENT_STRINGIFY_DETAIL(x) #x
#define LATENT_STRINGIFY(x) LATENT_STRINGIFY_DETAIL(x)
#define LATENT_VERSION_STRING            \
  LATENT_STRINGIFY(LATENT_VERSION_MAJOR) \
  "." LATENT_STRINGIFY(LATENT_VERSION_MINOR) "." LATENT_STRINGIFY(LATENT_VERSION_PATCH)

namespace latent {

/// Row-major dense matrix: one row per vector.
template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixf = RowMatrix<float>;
using RowMatrixd = RowMatrix<double>;
/// Neighbour ids, [n_queries x k]; -1 marks a missing neighbour.
using IdMatrix = RowMatrix<std::int64_t>;

/// A read-only, non-owning view of a row-major matrix whose rows may be padded:
/// row i starts at `data + i * row_stride` (stride in elements, >= cols).
/// The viewed memory must outlive the view.
template <class T>
struct MatrixView {
  const T* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t row_stride = 0;

  MatrixView() = default;
  MatrixView(const T* data_, std::int64_t rows_, std::int64_t cols_)
      : data(data_), rows(rows_), cols(cols_), row_stride(cols_) {}
  MatrixView(const T* data_, std::int64_t rows_, std::int64_t cols_, std::int64_t row_stride_)
      : data(data_), rows(rows_), cols(cols_), row_stride(row_stride_) {}
  /// Views a row-major Eigen matrix, map, `Ref` or block in place (no copy). An
  /// expression or a column-major matrix does not compile: it would need a copy
  /// the view could not own.
  /// Only Eigen objects of scalar T take part in overload resolution, so a float
  /// matrix picks the MatrixView<float> overload of a function.
  template <class Derived, class = std::enable_if_t<std::is_same_v<typename Derived::Scalar, T>>>
  MatrixView(const Eigen::DenseBase<Derived>& m)  // NOLINT(google-explicit-constructor)
      : data(m.derived().data()),
        rows(m.rows()),
        cols(m.cols()),
        row_stride(m.rows() <= 1 ? m.cols() : m.derived().outerStride()) {
    static_assert((Derived::Flags & Eigen::DirectAccessBit) != 0,
                  "MatrixView: needs memory (a matrix, map or block), not an expression");
    static_assert(Derived::IsRowMajor && Derived::InnerStrideAtCompileTime == 1,
                  "MatrixView: needs a row-major layout with contiguous rows");
  }

  const T* row(std::int64_t i) const { return data + i * row_stride; }
  bool empty() const { return rows == 0 || cols == 0; }
  /// An Eigen map over the view (no copy), usable wherever a `Ref` is expected.
  Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>> map() const {
    return {data, rows, cols, Eigen::OuterStride<>(row_stride)};
  }
};

/// Similarity and distance functions, named as in the CLI.
/// `cosine`, `ip` and `angular` are similarities (larger is nearer, sorted
/// descending); `l2` is the Euclidean distance, `sqeuclidean` its square, `l1`
/// and `linf` are distances (smaller is nearer, sorted ascending). `angular` is
/// 1 - arccos(cosine) / pi: 1 for one direction, 0.5 for orthogonal rows, 0 for
/// opposite ones; it ranks as cosine does, and 1 - angular (the angle over pi)
/// is a true distance (it obeys the triangle inequality, 1 - cosine does not).
enum class Metric { cosine, ip, l2, sqeuclidean, l1, linf, angular };

/// True for the metrics where a larger score means nearer (`cosine`, `ip`, `angular`).
constexpr bool is_similarity(Metric metric) {
  return metric == Metric::cosine || metric == Metric::ip || metric == Metric::angular;
}

/// True for the metrics of the rows' directions (`cosine`, `angular`): a zero
/// row has none, and a score s is at distance 1 - s.
constexpr bool is_directional(Metric metric) { return metric == Metric::cosine || metric == Metric::angular; }

/// The angular similarity 1 - arccos(c) / pi of a cosine c, clamped to [-1, 1]
/// first, in double (NaN stays NaN); cosine_from_angular is its inverse,
/// cos(pi (1 - a)).
double angular_from_cosine(double cosine);
double cosine_from_angular(double angular);

/// The metric's name as used by the CLI and in messages ("cosine", "l2", ...).
std::string_view to_string(Metric metric);

/// Parses a metric name; throws `InvalidArgument` naming `argument` and listing
/// the accepted names when `name` is not one of them.
Metric parse_metric(std::string_view name, std::string_view argument = "metric");

/// The neighbour lists shared by every producer and consumer of neighbours.
/// `ids` and `scores` are [n_queries x k]; row i lists the k nearest items of
/// query i, nearest first, equal scores ordered by the smaller id. Scores are in
/// the metric's own units (`l2` is the distance, not its square). A missing
/// neighbour has id -1 (and score NaN). `self_excluded` is true when the queries
/// are the indexed rows themselves and each row's own id was left out.
struct KnnGraph {
  IdMatrix ids;
  RowMatrixf scores;
  Metric metric = Metric::l2;
  bool self_excluded = false;

  std::int64_t n_queries() const { return ids.rows(); }
  std::int64_t k() const { return ids.cols(); }
};

/// What a function that needs a row's direction (cosine, L2 normalisation) does
/// with a row of norm 0. Model files store the value as an integer: never renumber.
enum class ZeroNormPolicy {
  raise = 0,  ///< NumericalError naming the argument and the row (default)
  zero = 1,   ///< the row is left as the zero vector, so its cosine to every row is 0
};

/// The policy's name as used by the CLI ("raise", "zero").
std::string_view to_string(ZeroNormPolicy policy);

/// Parses a zero-norm policy name; throws `InvalidArgument` naming `argument` and
/// listing the accepted names when `name` is not one of them.
ZeroNormPolicy parse_zero_norm_policy(std::string_view name, std::string_view argument = "zero_norm");

}  // namespace latent
