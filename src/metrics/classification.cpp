// Prototype (nearest class mean) and zero-shot classification, and the
// accuracy / confusion-matrix report of any predictions. The nearest prototype
// or class embedding is a 1-NN search through the similarity module.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity/search.hpp"

namespace latent {

ClassificationReport classification_report(const std::vector<std::int64_t>& truth,
                                           const std::vector<std::int64_t>& predicted) {
  constexpr std::string_view kFunction = "classification_report";
  require_same_dim(kFunction, "predicted", static_cast<std::int64_t>(predicted.size()), "truth",
                   static_cast<std::int64_t>(truth.size()));
  if (truth.empty()) raise<EmptyInput>(kFunction, "truth", "is empty");
  ClassificationReport report;
  report.classes = truth;
  report.classes.insert(report.classes.end(), predicted.begin(), predicted.end());
  std::sort(report.classes.begin(), report.classes.end());
  report.classes.erase(std::unique(report.classes.begin(), report.classes.end()), report.classes.end());
  const auto c = static_cast<std::int64_t>(report.classes.size());
  const auto index_of = [&](std::int64_t label) {
    return std::lower_bound(report.classes.begin(), report.classes.end(), label) - report.classes.begin();
  };
  report.confusion = RowMatrix<std::int64_t>::Zero(c, c);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ++report.confusion(index_of(truth[i]), index_of(predicted[i]));
    correct += truth[i] == predicted[i] ? 1 : 0;
  }
  report.accuracy = static_cast<double>(correct) / static_cast<double>(truth.size());
  for (std::int64_t i = 0; i < c; ++i) {
    const std::int64_t total = report.confusion.row(i).sum();
    report.per_class_accuracy.push_back(total > 0
                                            ? static_cast<double>(report.confusion(i, i)) / static_cast<double>(total)
                                            : std::numeric_limits<double>::quiet_NaN());
  }
  return report;
}

namespace {

// The row index of each row's nearest row of `targets` (ties to the smaller index).
template <class T>
std::vector<std::int64_t> nearest_rows(const MatrixView<T>& x, const MatrixView<T>& targets, Metric metric,
                                       const Parallel& parallel) {
  SearchOptions options;
  options.parallel = parallel;
  const KnnGraph graph = knn(x, targets, 1, metric, options);
  return std::vector<std::int64_t>(graph.ids.data(), graph.ids.data() + graph.ids.rows());
}

template <class T>
std::vector<std::int64_t> zero_shot_impl(const MatrixView<T>& x, const MatrixView<T>& class_embeddings, Metric metric,
                                         const std::vector<std::int64_t>& class_labels, const Parallel& parallel) {
  constexpr std::string_view kFunction = "zero_shot_predict";
  require_non_empty(kFunction, "x", x);
  require_non_empty(kFunction, "class_embeddings", class_embeddings);
  require_same_dim(kFunction, "class_embeddings", class_embeddings.cols, "x", x.cols);
  if (!class_labels.empty())
    require_same_dim(kFunction, "class_labels", static_cast<std::int64_t>(class_labels.size()), "class_embeddings rows",
                     class_embeddings.rows);
  std::vector<std::int64_t> predicted = nearest_rows(x, class_embeddings, metric, parallel);
  if (!class_labels.empty())
    for (std::int64_t& p : predicted) p = class_labels[static_cast<std::size_t>(p)];
  return predicted;
}

void check_prototype_metric(Metric metric) {
  if (metric != Metric::cosine && metric != Metric::l2 && metric != Metric::sqeuclidean)
    raise<InvalidArgument>("PrototypeClassifier", "metric", "must be cosine, l2 or sqeuclidean",
                           std::string(to_string(metric)));
}

}  // namespace

PrototypeClassifier::PrototypeClassifier(Metric metric) : metric_(metric) { check_prototype_metric(metric); }

namespace {

template <class T>
void fit_prototypes(const MatrixView<T>& x, const std::vector<std::int64_t>& labels, Metric metric,
                    std::vector<std::int64_t>& classes, RowMatrixd& prototypes) {
  constexpr std::string_view kFunction = "PrototypeClassifier::fit";
  require_non_empty(kFunction, "x", x);
  require_same_dim(kFunction, "labels", static_cast<std::int64_t>(labels.size()), "x rows", x.rows);
  require_finite(kFunction, "x", x);
  std::vector<std::int64_t> sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  RowMatrixd sums = RowMatrixd::Zero(static_cast<std::int64_t>(sorted.size()), x.cols);
  std::vector<std::int64_t> counts(sorted.size(), 0);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    const auto c = std::lower_bound(sorted.begin(), sorted.end(), labels[static_cast<std::size_t>(i)]) - sorted.begin();
    ++counts[static_cast<std::size_t>(c)];
    for (std::int64_t j = 0; j < x.cols; ++j) sums(c, j) += static_cast<double>(x.row(i)[j]);
  }
  for (std::size_t c = 0; c < sorted.size(); ++c) {
    const auto row = static_cast<std::int64_t>(c);
    sums.row(row) /= static_cast<double>(counts[c]);
    if (metric == Metric::cosine && !(sums.row(row).norm() > 0))
      raise<NumericalError>(kFunction, "x", "a class mean is the zero vector, whose cosine is undefined",
                            "label " + std::to_string(sorted[c]));
  }
  classes = std::move(sorted);
  prototypes = std::move(sums);
}

template <class T>
std::vector<std::int64_t> predict_prototypes(const MatrixView<T>& x, Metric metric,
                                             const std::vector<std::int64_t>& classes, const RowMatrixd& prototypes,
                                             const Parallel& parallel) {
  constexpr std::string_view kFunction = "PrototypeClassifier::predict";
  if (classes.empty()) raise<NotFitted>(kFunction, "classifier", "is not fitted (call fit first)");
  require_non_empty(kFunction, "x", x);
  require_same_dim(kFunction, "x", x.cols, "prototypes", prototypes.cols());
  const RowMatrix<T> targets = prototypes.cast<T>();
  std::vector<std::int64_t> predicted = nearest_rows(x, MatrixView<T>(targets), metric, parallel);
  for (std::int64_t& p : predicted) p = classes[static_cast<std::size_t>(p)];
  return predicted;
}

}  // namespace

PrototypeClassifier& PrototypeClassifier::fit(const MatrixView<float>& x, const std::vector<std::int64_t>& labels) {
  fit_prototypes(x, labels, metric_, classes_, prototypes_);
  return *this;
}
PrototypeClassifier& PrototypeClassifier::fit(const MatrixView<double>& x, const std::vector<std::int64_t>& labels) {
  fit_prototypes(x, labels, metric_, classes_, prototypes_);
  return *this;
}

std::vector<std::int64_t> PrototypeClassifier::predict(const MatrixView<float>& x, const Parallel& parallel) const {
  return predict_prototypes(x, metric_, classes_, prototypes_, parallel);
}
std::vector<std::int64_t> PrototypeClassifier::predict(const MatrixView<double>& x, const Parallel& parallel) const {
  return predict_prototypes(x, metric_, classes_, prototypes_, parallel);
}

ClassificationReport PrototypeClassifier::score(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                                                const Parallel& parallel) const {
  return classification_report(labels, predict(x, parallel));
}
ClassificationReport PrototypeClassifier::score(const MatrixView<double>& x, const std::vector<std::int64_t>& labels,
                                                const Parallel& parallel) const {
  return classification_report(labels, predict(x, parallel));
}

std::vector<std::int64_t> zero_shot_predict(const MatrixView<float>& x, const MatrixView<float>& class_embeddings,
                                            Metric metric, const std::vector<std::int64_t>& class_labels,
                                            const Parallel& parallel) {
  return zero_shot_impl(x, class_embeddings, metric, class_labels, parallel);
}
std::vector<std::int64_t> zero_shot_predict(const MatrixView<double>& x, const MatrixView<double>& class_embeddings,
                                            Metric metric, const std::vector<std::int64_t>& class_labels,
                                            const Parallel& parallel) {
  return zero_shot_impl(x, class_embeddings, metric, class_labels, parallel);
}

}  // namespace latent
