// The ridge linear probe and ConSE (see metrics/probes.hpp).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "../core/linalg.hpp"
#include "latent/core/errors.hpp"
#include "latent/metrics.hpp"
#include "latent/similarity.hpp"
#include "scatter.hpp"

namespace latent {
namespace {

constexpr const char* kProbe = "RidgeProbe";

// A ridge problem on one set of rows, solved for any alpha from one
// eigen-decomposition: S = X_c^T X_c = V diag(lambda) V^T and the right-hand
// side X_c^T Y = 2 n_c (mu_c - mu) per class (Y in {-1, +1}; its centring
// changes nothing since the centred rows sum to 0).
struct RidgeSystem {
  std::vector<double> mean;
  Eigen::MatrixXd vectors;          // V
  Eigen::VectorXd values;           // lambda
  Eigen::MatrixXd projected_rhs;    // V^T X_c^T Y  [d x C]
  std::vector<double> target_mean;  // mean of Y per class: (2 n_c - n) / n

  void solve(double alpha, RowMatrixd& weights, std::vector<double>& bias) const {
    const Eigen::VectorXd inverse = (values.array() + alpha).inverse();
    weights = vectors * inverse.asDiagonal() * projected_rhs;
    bias.assign(target_mean.size(), 0.0);
    const Eigen::Map<const Eigen::RowVectorXd> mu(mean.data(), static_cast<Eigen::Index>(mean.size()));
    const Eigen::RowVectorXd shift = mu * weights;
    for (std::size_t c = 0; c < bias.size(); ++c) bias[c] = target_mean[c] - shift(static_cast<Eigen::Index>(c));
  }
};

RidgeSystem ridge_system(const MatrixView<float>& x, const std::vector<std::int64_t>& class_index,
                         std::int64_t classes) {
  RidgeSystem system;
  system.mean = detail::column_means(x);
  const detail::SymmetricEigen solver = detail::symmetric_eigen(detail::scatter(x, system.mean.data()));
  system.vectors = solver.vectors;
  system.values = solver.values.cwiseMax(0.0);
  Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(x.cols, classes);
  std::vector<double> counts(static_cast<std::size_t>(classes), 0.0);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    const std::int64_t c = class_index[static_cast<std::size_t>(i)];
    counts[static_cast<std::size_t>(c)] += 1;
    for (std::int64_t j = 0; j < x.cols; ++j)
      rhs(j, c) += static_cast<double>(x.row(i)[j]) - system.mean[static_cast<std::size_t>(j)];
  }
  rhs *= 2.0;  // sum over the class of (x - mu) * (+1) plus the rest * (-1) = 2 sum over the class
  system.projected_rhs = system.vectors.transpose() * rhs;
  const auto n = static_cast<double>(x.rows);
  for (const double count : counts) system.target_mean.push_back((2 * count - n) / n);
  return system;
}

std::vector<std::int64_t> argmax_labels(const MatrixView<float>& x, const RowMatrixd& weights,
                                        const std::vector<double>& bias, const std::vector<std::int64_t>& classes) {
  const RowMatrixd scores = x.map().cast<double>() * weights;
  std::vector<std::int64_t> out(static_cast<std::size_t>(x.rows));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    Eigen::Index best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    for (Eigen::Index c = 0; c < scores.cols(); ++c) {
      const double value = scores(i, c) + bias[static_cast<std::size_t>(c)];
      if (value > best_score) best_score = value, best = c;
    }
    out[static_cast<std::size_t>(i)] = classes[static_cast<std::size_t>(best)];
  }
  return out;
}

void check_alpha(double alpha) {
  if (!(alpha > 0) || !std::isfinite(alpha))
    raise<InvalidArgument>(kProbe, "alpha", "must be finite and > 0", std::to_string(alpha));
}

// Validates x and labels; returns the sorted classes and each row's class index.
std::vector<std::int64_t> index_labels(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                                       std::vector<std::int64_t>& classes) {
  require_non_empty(kProbe, "x", x);
  require_finite(kProbe, "x", x);
  require_same_dim(kProbe, "labels", static_cast<std::int64_t>(labels.size()), "rows of x", x.rows);
  classes = labels;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  if (classes.size() < 2)
    raise<InvalidArgument>(kProbe, "labels", "must hold at least 2 distinct labels", std::to_string(classes.size()));
  std::vector<std::int64_t> index(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i)
    index[i] = std::lower_bound(classes.begin(), classes.end(), labels[i]) - classes.begin();
  return index;
}

}  // namespace

RidgeProbe::RidgeProbe(double alpha) : alpha_(alpha) { check_alpha(alpha); }

RidgeProbe& RidgeProbe::fit(const MatrixView<float>& x, const std::vector<std::int64_t>& labels) {
  const std::vector<std::int64_t> index = index_labels(x, labels, classes_);
  ridge_system(x, index, static_cast<std::int64_t>(classes_.size())).solve(alpha_, weights_, bias_);
  return *this;
}

RidgeProbe& RidgeProbe::fit_cv(const MatrixView<float>& x, const std::vector<std::int64_t>& labels,
                               const std::vector<double>& alphas, std::int64_t folds) {
  if (alphas.empty()) raise<InvalidArgument>(kProbe, "alphas", "is empty");
  for (const double alpha : alphas) check_alpha(alpha);
  std::vector<std::int64_t> classes;
  const std::vector<std::int64_t> index = index_labels(x, labels, classes);
  if (folds < 2 || folds > x.rows)
    raise<InvalidArgument>(kProbe, "folds", "must be between 2 and the number of rows", std::to_string(folds));
  std::vector<double> correct(alphas.size(), 0.0);
  for (std::int64_t fold = 0; fold < folds; ++fold) {
    const std::int64_t held_rows = (x.rows - fold + folds - 1) / folds;  // the i < n with i % folds == fold
    RowMatrixf train(x.rows - held_rows, x.cols), held(held_rows, x.cols);
    std::vector<std::int64_t> train_index, held_labels;
    for (std::int64_t i = 0, t = 0, h = 0; i < x.rows; ++i) {
      const auto row = Eigen::Map<const Eigen::RowVectorXf>(x.row(i), x.cols);
      if (i % folds == fold) {
        held.row(h++) = row;
        held_labels.push_back(labels[static_cast<std::size_t>(i)]);
      } else {
        train.row(t++) = row;
        train_index.push_back(index[static_cast<std::size_t>(i)]);
      }
    }
    // A class absent from a training fold keeps a column (its weights follow
    // from its zero count), so every fold scores the same classes.
    const RidgeSystem system = ridge_system(train, train_index, static_cast<std::int64_t>(classes.size()));
    for (std::size_t a = 0; a < alphas.size(); ++a) {
      RowMatrixd weights;
      std::vector<double> bias;
      system.solve(alphas[a], weights, bias);
      const std::vector<std::int64_t> predicted = argmax_labels(held, weights, bias, classes);
      for (std::size_t r = 0; r < predicted.size(); ++r) correct[a] += predicted[r] == held_labels[r] ? 1.0 : 0.0;
    }
  }
  cv_accuracy_.clear();
  for (const double count : correct) cv_accuracy_.push_back(count / static_cast<double>(x.rows));
  std::size_t best = 0;
  for (std::size_t a = 1; a < alphas.size(); ++a)
    if (cv_accuracy_[a] > cv_accuracy_[best] || (cv_accuracy_[a] == cv_accuracy_[best] && alphas[a] < alphas[best]))
      best = a;
  alpha_ = alphas[best];
  classes_ = classes;
  ridge_system(x, index, static_cast<std::int64_t>(classes_.size())).solve(alpha_, weights_, bias_);
  return *this;
}

std::vector<std::int64_t> RidgeProbe::predict(const MatrixView<float>& x) const {
  if (!is_fitted()) raise<NotFitted>("RidgeProbe::predict", "this", "call fit or fit_cv first");
  require_non_empty("RidgeProbe::predict", "x", x);
  require_same_dim("RidgeProbe::predict", "columns of x", x.cols, "the fitted dimension", weights_.rows());
  require_finite("RidgeProbe::predict", "x", x);
  return argmax_labels(x, weights_, bias_, classes_);
}

ClassificationReport RidgeProbe::score(const MatrixView<float>& x, const std::vector<std::int64_t>& labels) const {
  return classification_report(labels, predict(x));
}

std::vector<std::int64_t> conse_predict(const MatrixView<double>& probabilities,
                                        const MatrixView<float>& seen_embeddings,
                                        const MatrixView<float>& unseen_embeddings, std::int64_t top) {
  constexpr const char* kFunction = "conse_predict";
  require_non_empty(kFunction, "probabilities", probabilities);
  require_non_empty(kFunction, "seen_embeddings", seen_embeddings);
  require_non_empty(kFunction, "unseen_embeddings", unseen_embeddings);
  require_finite(kFunction, "probabilities", probabilities);
  require_finite(kFunction, "seen_embeddings", seen_embeddings);
  require_finite(kFunction, "unseen_embeddings", unseen_embeddings);
  require_same_dim(kFunction, "columns of probabilities", probabilities.cols, "rows of seen_embeddings",
                   seen_embeddings.rows);
  require_same_dim(kFunction, "columns of unseen_embeddings", unseen_embeddings.cols, "columns of seen_embeddings",
                   seen_embeddings.cols);
  if (top < 1 || top > probabilities.cols)
    raise<InvalidArgument>(kFunction, "top", "must be between 1 and the number of seen classes",
                           "top=" + std::to_string(top) + ", seen=" + std::to_string(probabilities.cols));
  const RowMatrixd seen = seen_embeddings.map().cast<double>();
  RowMatrixf combined(probabilities.rows, seen_embeddings.cols);
  std::vector<std::int64_t> order(static_cast<std::size_t>(probabilities.cols));
  for (std::int64_t i = 0; i < probabilities.rows; ++i) {
    const double* p = probabilities.row(i);
    for (std::int64_t s = 0; s < probabilities.cols; ++s)
      if (p[s] < 0)
        raise<InvalidArgument>(kFunction, "probabilities", "must be >= 0",
                               "row " + std::to_string(i) + ", column " + std::to_string(s));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](std::int64_t l, std::int64_t r) { return p[l] > p[r] || (p[l] == p[r] && l < r); });
    Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(seen.cols());
    double mass = 0;
    for (std::int64_t t = 0; t < top; ++t) {
      const std::int64_t s = order[static_cast<std::size_t>(t)];
      sum += p[s] * seen.row(s);
      mass += p[s];
    }
    if (!(mass > 0))
      raise<InvalidArgument>(kFunction, "probabilities", "has a row whose top probabilities sum to 0",
                             "row " + std::to_string(i));
    combined.row(i) = (sum / mass).cast<float>();
  }
  return zero_shot_predict(combined, unseen_embeddings, Metric::cosine);
}

}  // namespace latent
