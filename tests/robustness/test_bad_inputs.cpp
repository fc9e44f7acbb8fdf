// The bad-input matrix of the library (issue 10): every public entry point that
// takes vectors x every bad input that applies to it, each cell asserting the
// typed exception (or "ok": the call succeeds and its output is finite) and that
// the message is one line naming the function.
//
// How it is laid out: `mutations()` are the columns (a name and an edit of the
// default Inputs), `entries()` the rows (the function name its messages start
// with, a call taking Inputs, and the expected outcome of each column that
// applies, as "column=Outcome" words). A column an entry does not list is not
// run for it. Adding an entry point = one row; adding a bad input = one column
// plus its expectation in the rows it applies to. LATENT_MATRIX_PRINT=1 prints the
// observed outcomes in the same "column=Outcome" form (to fill in a new row,
// after checking every cell is the right behaviour).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/embedding.hpp"
#include "latent/hubness.hpp"
#include "latent/kernels/batched.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "latent/similarity.hpp"
#include "latent/whitening.hpp"
#include "support/test_support.hpp"

namespace latent {
namespace {

struct Inputs {
  RowMatrixf a = testing::random_normal<float>(24, 5, 11);  ///< main rows (base, fit rows, source)
  RowMatrixf b = testing::random_normal<float>(24, 5, 12);  ///< queries / target / rows to transform
  std::int64_t k = 3;                                       ///< k, count, components
  std::vector<std::int64_t> ids = {0, 2, 5, 7, 11};         ///< anchors / fit ids
  Metric metric = Metric::l2;
};

// An output that is not finite is a failure of an "ok" cell.
struct NonFiniteOutput : std::runtime_error {
  using std::runtime_error::runtime_error;
};
template <class Scalar, int R, int C, int O>
void require_finite(const Eigen::Matrix<Scalar, R, C, O>& m) {
  if (!m.allFinite()) throw NonFiniteOutput("output holds NaN or Inf");
}
void require_finite(double value) {
  if (!std::isfinite(value)) throw NonFiniteOutput("output is not finite");
}
void require_finite(const KnnGraph& g) { require_finite(g.scores); }
void require_finite(const DistanceGraph& g) { require_finite(g.distances); }

using Mutation = std::function<void(Inputs&)>;

const std::map<std::string, Mutation>& mutations() {
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  constexpr float inf = std::numeric_limits<float>::infinity();
  static const std::map<std::string, Mutation> table = {
      {"nan_first", [=](Inputs& in) { in.a(0, 0) = nan; }},
      {"nan_last", [=](Inputs& in) { in.a(in.a.rows() - 1, in.a.cols() - 1) = nan; }},
      {"inf_first", [=](Inputs& in) { in.a(0, 0) = inf; }},
      {"inf_last", [=](Inputs& in) { in.a(in.a.rows() - 1, in.a.cols() - 1) = -inf; }},
      {"b_nan_last", [=](Inputs& in) { in.b(in.b.rows() - 1, in.b.cols() - 1) = nan; }},
      {"empty", [](Inputs& in) { in.a.resize(0, 5); }},
      {"no_columns", [](Inputs& in) { in.a.resize(24, 0); }},
      {"b_empty", [](Inputs& in) { in.b.resize(0, 5); }},
      {"single_row", [](Inputs& in) { in.a = in.a.topRows(1).eval(); }},
      {"dim_mismatch", [](Inputs& in) { in.b = testing::random_normal<float>(24, 6, 13); }},
      {"rows_mismatch", [](Inputs& in) { in.b = in.b.topRows(20).eval(); }},
      {"k0", [](Inputs& in) { in.k = 0; }},
      {"k_negative", [](Inputs& in) { in.k = -2; }},
      {"k_eq_n", [](Inputs& in) { in.k = in.a.rows(); }},
      {"k_gt_n", [](Inputs& in) { in.k = in.a.rows() + 1; }},
      {"zero_row_cosine",
       [](Inputs& in) {
         in.a.row(3).setZero();
         in.metric = Metric::cosine;
       }},
      {"zero_row_angular",
       [](Inputs& in) {
         in.a.row(3).setZero();
         in.metric = Metric::angular;
       }},
      {"duplicated_rows",
       [](Inputs& in) {
         in.a.row(1) = in.a.row(0);
         in.a.row(2) = in.a.row(0);
         in.a.row(23) = in.a.row(0);
       }},
      {"constant_rows", [](Inputs& in) { in.a.setConstant(0.5f); }},
      {"anchor_out_of_range",
       [](Inputs& in) {
         in.ids = {0, 3, 24};
       }},
      {"anchor_negative",
       [](Inputs& in) {
         in.ids = {-1, 3};
       }},
      {"anchors_none", [](Inputs& in) { in.ids.clear(); }},
      {"anchor_duplicated",
       [](Inputs& in) {
         in.ids = {4, 4, 9};
       }},
  };
  return table;
}

struct Entry {
  /// What the messages must name: the function, or (after '|') the public
  /// function it delegates to that detected the problem.
  std::string function;
  std::string label;  ///< the row's name (function + variant)
  std::function<void(const Inputs&)> call;
  std::string expected;  ///< "column=Outcome ..." (Outcome: ok or an exception class)
};

std::vector<Entry> entries() {
  const std::string common_nan =
      "nan_first=NonFiniteValue nan_last=NonFiniteValue inf_first=NonFiniteValue inf_last=NonFiniteValue ";
  return {
      {"similarity", "similarity", [](const Inputs& in) { require_finite(similarity(in.b, in.a, in.metric)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=DimensionMismatch b_empty=EmptyInput "
                    "single_row=ok dim_mismatch=DimensionMismatch zero_row_cosine=NumericalError "
                    "zero_row_angular=NumericalError duplicated_rows=ok"},
      {"knn", "knn", [](const Inputs& in) { require_finite(knn(in.b, in.a, in.k, in.metric)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput b_empty=EmptyInput single_row=InvalidK "
                    "dim_mismatch=DimensionMismatch k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError zero_row_angular=NumericalError duplicated_rows=ok"},
      {"knn", "knn(IdFilter)",
       [](const Inputs& in) { require_finite(knn(in.b, in.a, in.k, in.metric, IdFilter::allow(in.ids))); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput b_empty=EmptyInput single_row=InvalidArgument "
                    "dim_mismatch=DimensionMismatch k0=InvalidK k_negative=InvalidK k_eq_n=InvalidK k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError zero_row_angular=NumericalError duplicated_rows=ok "
                    "anchor_negative=InvalidArgument anchor_out_of_range=InvalidArgument anchors_none=InvalidK "
                    "anchor_duplicated=InvalidK"},
      {"csls_search|knn", "csls_search",
       [](const Inputs& in) { require_finite(csls_search(in.b, in.a, in.k, 2).matches); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput b_empty=EmptyInput single_row=InvalidK "
                    "dim_mismatch=DimensionMismatch k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError zero_row_angular=NumericalError duplicated_rows=ok"},
      {"knn", "knn_double",
       [](const Inputs& in) {
         require_finite(knn(in.b.cast<double>().eval(), in.a.cast<double>().eval(), in.k, in.metric));
       },
       common_nan + "empty=EmptyInput dim_mismatch=DimensionMismatch k0=InvalidK k_gt_n=InvalidK k_eq_n=ok "
                    "zero_row_cosine=NumericalError duplicated_rows=ok"},
      {"knn_graph", "knn_graph", [](const Inputs& in) { require_finite(knn_graph(in.a, in.k, in.metric)); },
       common_nan + "empty=EmptyInput single_row=InvalidK k0=InvalidK k_eq_n=InvalidK k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError zero_row_angular=NumericalError duplicated_rows=ok"},
      {"semantic_search", "semantic_search",
       [](const Inputs& in) {
         const std::int64_t half = in.a.rows() / 2;
         const std::vector<MatrixView<float>> shards = {
             MatrixView<float>(in.a.data(), half, in.a.cols()),
             MatrixView<float>(in.a.data() + half * in.a.cols(), in.a.rows() - half, in.a.cols())};
         require_finite(semantic_search(in.b, shards, in.k, in.metric));
       },
       common_nan + "b_nan_last=NonFiniteValue b_empty=EmptyInput dim_mismatch=DimensionMismatch k0=InvalidK "
                    "k_eq_n=ok k_gt_n=InvalidK zero_row_cosine=NumericalError duplicated_rows=ok"},
      {"paraphrase_mining", "paraphrase_mining",
       [](const Inputs& in) {
         ParaphraseOptions options;
         options.top_k = in.k;
         options.metric = in.metric == Metric::l2 ? Metric::cosine : in.metric;
         for (const ScoredPair& pair : paraphrase_mining(in.a, options)) require_finite(pair.score);
       },
       common_nan +
           "empty=EmptyInput single_row=EmptyInput k0=InvalidK k_eq_n=ok k_gt_n=ok zero_row_cosine=NumericalError "
           "duplicated_rows=ok"},
      {"knn_f32", "kernels::knn_f32",
       [](const Inputs& in) {
         IdMatrix ids(in.b.rows(), std::max<std::int64_t>(in.k, 1));
         RowMatrixf scores(in.b.rows(), std::max<std::int64_t>(in.k, 1));
         kernels::knn_f32(in.metric, in.b, in.a, in.k, kernels::kNoSelf, ids.data(), scores.data());
       },
       "dim_mismatch=DimensionMismatch k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK duplicated_rows=ok"},
      {"mobius_add", "mobius_add",
       [](const Inputs& in) { require_finite(mobius_add((in.a * 0.05f).eval(), (in.a * 0.02f).eval(), 1.0)); },
       common_nan + "empty=EmptyInput duplicated_rows=ok"},
      {"lorentz_inner_products", "lorentz_inner_products",
       [](const Inputs& in) { require_finite(lorentz_inner_products(in.b, in.a, 1.0)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput dim_mismatch=DimensionMismatch duplicated_rows=ok"},
      {"poincare_distances", "poincare_distances",
       [](const Inputs& in) { require_finite(poincare_distances((in.b * 0.05f).eval(), (in.a * 0.05f).eval(), 1.0)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput dim_mismatch=DimensionMismatch duplicated_rows=ok"},
      {"Whitening|MomentAccumulator::add", "Whitening::fit+transform",
       [](const Inputs& in) {
         Whitening<float> model;
         model.fit(in.a);
         require_finite(model.transform(in.b));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput single_row=EmptyInput "
                    "dim_mismatch=DimensionMismatch duplicated_rows=ok constant_rows=NumericalError"},
      {"AllButTheTop|MomentAccumulator::add", "AllButTheTop::fit+transform",
       [](const Inputs& in) {
         AllButTheTopOptions options;
         options.components = in.k;
         AllButTheTop<float> model(options);
         model.fit(in.a);
         require_finite(model.transform(in.b));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput single_row=EmptyInput dim_mismatch=DimensionMismatch "
                    "k_negative=InvalidArgument k_eq_n=InvalidArgument duplicated_rows=ok"},
      {"FNorm", "FNorm::fit+transform",
       [](const Inputs& in) {
         FNorm<float> model;
         model.fit(in.a);
         require_finite(model.transform(in.b));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput single_row=EmptyInput dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok constant_rows=ok"},
      {"Standardizer|MomentAccumulator::add", "Standardizer::fit+transform",
       [](const Inputs& in) {
         Standardizer<float> model;
         model.fit(in.a);
         require_finite(model.transform(in.b));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput single_row=EmptyInput dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok constant_rows=ok"},
      {"isotropy|average_cosine", "isotropy",
       [](const Inputs& in) {
         const IsotropyReport report = isotropy(in.a);
         require_finite(report.average_cosine);
       },
       common_nan + "empty=EmptyInput single_row=EmptyInput zero_row_cosine=InvalidArgument duplicated_rows=ok"},
      {"MomentAccumulator", "MomentAccumulator::add",
       [](const Inputs& in) {
         MomentAccumulator accumulator;
         accumulator.add(in.a);
         accumulator.add(in.b);
       },
       common_nan + "b_nan_last=NonFiniteValue empty=ok dim_mismatch=DimensionMismatch"},
      {"exact_candidate_graph|knn_graph", "exact_candidate_graph",
       [](const Inputs& in) { require_finite(exact_candidate_graph(in.a, in.k, in.metric)); },
       common_nan + "empty=InvalidK single_row=InvalidK k0=InvalidK k_eq_n=InvalidK k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError duplicated_rows=ok"},
      {"reduce_hubness|knn_graph", "reduce_hubness(mp)",
       [](const Inputs& in) {
         HubnessPipelineOptions options;
         options.candidates = 10;
         const auto result = reduce_hubness(in.a, in.k, in.metric, options);
         require_finite(result.reduced);
       },
       common_nan + "empty=EmptyInput single_row=InvalidK k0=InvalidK k_eq_n=InvalidK k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError duplicated_rows=ok"},
      {"reduce_hubness|knn_graph", "reduce_hubness(dsl)",
       [](const Inputs& in) {
         HubnessPipelineOptions options;
         options.reduction.method = Reduction::dis_sim_local;
         options.candidates = 10;
         require_finite(reduce_hubness(in.a, in.k, in.metric, options).reduced);
       },
       common_nan + "empty=EmptyInput k0=InvalidK k_gt_n=InvalidK duplicated_rows=ok constant_rows=ok"},
      {"select_anchors", "select_anchors(kmeans)",
       [](const Inputs& in) {
         AnchorOptions options;
         options.method = AnchorMethod::kmeans;
         (void)select_anchors(in.a, in.k, options);
       },
       common_nan + "empty=EmptyInput single_row=InvalidArgument k0=InvalidArgument k_eq_n=ok "
                    "k_gt_n=InvalidArgument duplicated_rows=ok constant_rows=ok"},
      {"select_anchors", "select_anchors(farthest_point)",
       [](const Inputs& in) {
         AnchorOptions options;
         options.method = AnchorMethod::farthest_point;
         (void)select_anchors(in.a, in.k, options);
       },
       common_nan + "empty=EmptyInput k0=InvalidArgument k_eq_n=ok k_gt_n=InvalidArgument duplicated_rows=ok "
                    "constant_rows=ok"},
      {"gather_rows", "gather_rows", [](const Inputs& in) { (void)gather_rows(in.a, in.ids); },
       "anchor_out_of_range=InvalidArgument anchor_negative=InvalidArgument anchors_none=ok anchor_duplicated=ok"},
      {"RelativeProjection|gather_rows", "RelativeProjection::fit+transform",
       [](const Inputs& in) {
         RelativeOptions options;
         options.similarities = {RelativeSimilarity::cosine, RelativeSimilarity::l2};
         RelativeProjection<float> projection(options);
         projection.fit(in.a, in.ids);
         require_finite(projection.transform(in.b));
       },
       // Only the anchor rows are fitted: a NaN or a zero row elsewhere in `a` is not read.
       "nan_first=NonFiniteValue inf_first=NonFiniteValue nan_last=ok inf_last=ok b_nan_last=NonFiniteValue "
       "empty=InvalidArgument dim_mismatch=DimensionMismatch zero_row_cosine=ok duplicated_rows=ok "
       "anchor_out_of_range=InvalidArgument anchor_negative=InvalidArgument anchors_none=EmptyInput "
       "anchor_duplicated=ok"},
      {"LatentTranslator|gather_rows", "LatentTranslator::fit+transform",
       [](const Inputs& in) {
         LatentTranslator<float> translator;
         translator.fit(in.a, in.b, in.ids);
         require_finite(translator.transform(in.a));
       },
       // Only the fit-id rows of the target are read (b's last row is not one of them).
       common_nan + "b_nan_last=ok empty=InvalidArgument single_row=InvalidArgument rows_mismatch=ok "
                    "dim_mismatch=ok duplicated_rows=ok anchor_out_of_range=InvalidArgument "
                    "anchor_negative=InvalidArgument anchors_none=EmptyInput"},
      {"compare_spaces|knn_graph", "compare_spaces",
       [](const Inputs& in) {
         CompareOptions options;
         options.k = in.k;
         const CrossSpaceScores scores = compare_spaces(in.a, in.b, options);
         require_finite(scores.jaccard);
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput single_row=DimensionMismatch "
                    "rows_mismatch=DimensionMismatch dim_mismatch=ok k0=InvalidK k_eq_n=InvalidK k_gt_n=InvalidK "
                    "zero_row_cosine=NumericalError duplicated_rows=ok"},
      // Embedding operations and metrics (issue 8).
      {"l2_normalize", "l2_normalize", [](const Inputs& in) { require_finite(l2_normalize(MatrixView<float>(in.a))); },
       common_nan +
           "empty=ok no_columns=NumericalError single_row=ok zero_row_cosine=NumericalError duplicated_rows=ok"},
      {"truncate_dims", "truncate_dims",
       [](const Inputs& in) { require_finite(truncate_dims(MatrixView<float>(in.a), in.k)); },
       common_nan +
           "empty=EmptyInput no_columns=EmptyInput single_row=ok k0=InvalidArgument k_negative=InvalidArgument "
           "k_gt_n=InvalidArgument zero_row_cosine=NumericalError duplicated_rows=ok"},
      {"Quantizer::fit|Quantizer::encode", "Quantizer(int8)",
       [](const Inputs& in) {
         Quantizer int8(QuantizerOptions{QuantizationType::int8});
         int8.fit(in.a);
         require_finite(int8.decode(int8.encode(in.b)));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput single_row=InvalidArgument "
                    "constant_rows=InvalidArgument dim_mismatch=DimensionMismatch duplicated_rows=ok"},
      {"quantized_knn|Quantizer::encode", "quantized_knn",
       [](const Inputs& in) {
         Quantizer int8(QuantizerOptions{QuantizationType::int8});
         int8.fit(testing::random_normal<float>(24, 5, 13));
         require_finite(quantized_knn(int8, int8.encode(in.a), in.b, in.k, in.metric));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=InvalidK single_row=InvalidK dim_mismatch=DimensionMismatch "
                    "k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK duplicated_rows=ok"},
      {"quantized_knn|Quantizer::encode", "quantized_knn(binary)",
       [](const Inputs& in) {
         Quantizer binary(QuantizerOptions{QuantizationType::binary});
         binary.fit_dim(5);
         require_finite(quantized_knn(binary, binary.encode(in.a), in.b, in.k, in.metric));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=InvalidK single_row=InvalidK dim_mismatch=DimensionMismatch "
                    "k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK duplicated_rows=ok"},
      {"low_precision_knn|Quantizer::fit|Quantizer::encode|l2_normalize", "low_precision_knn(bf16)",
       [](const Inputs& in) {
         require_finite(low_precision_knn(in.b, in.a, in.k, in.metric, {ComputePrecision::bf16, 0, {}, {}}));
       },
       common_nan +
           "b_nan_last=NonFiniteValue b_empty=EmptyInput empty=EmptyInput no_columns=EmptyInput single_row=InvalidK "
           "dim_mismatch=DimensionMismatch k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK "
           "zero_row_cosine=NumericalError zero_row_angular=NumericalError constant_rows=ok duplicated_rows=ok"},
      {"low_precision_knn|Quantizer::fit|Quantizer::encode|l2_normalize|rescore", "low_precision_knn(int8, rescore)",
       [](const Inputs& in) {
         require_finite(low_precision_knn(in.b, in.a, in.k, in.metric, {ComputePrecision::int8, in.k, {}, {}}));
       },
       common_nan +
           "b_nan_last=NonFiniteValue b_empty=EmptyInput empty=EmptyInput no_columns=EmptyInput single_row=InvalidK "
           "dim_mismatch=DimensionMismatch k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK "
           "zero_row_cosine=NumericalError zero_row_angular=NumericalError constant_rows=ok duplicated_rows=ok"},
      {"low_precision_knn_graph|Quantizer::fit|Quantizer::encode|l2_normalize", "low_precision_knn_graph(int8)",
       [](const Inputs& in) {
         require_finite(low_precision_knn_graph(in.a, in.k, in.metric, {ComputePrecision::int8, 0, {}, {}}));
       },
       common_nan + "empty=EmptyInput no_columns=EmptyInput single_row=InvalidK k0=InvalidK k_negative=InvalidK "
                    "k_eq_n=InvalidK k_gt_n=InvalidK zero_row_cosine=NumericalError zero_row_angular=NumericalError "
                    "constant_rows=ok duplicated_rows=ok"},
      {"binary_search_rescored|Quantizer::fit|Quantizer::encode", "binary_search_rescored",
       [](const Inputs& in) {
         Quantizer binary(QuantizerOptions{QuantizationType::binary});
         binary.fit(in.a);
         require_finite(binary_search_rescored(binary, binary.encode(in.a), in.a, in.b, in.k, 2, in.metric));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput single_row=InvalidK dim_mismatch=DimensionMismatch "
                    "k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK duplicated_rows=ok"},
      {"PrototypeClassifier::fit|PrototypeClassifier::predict|knn", "PrototypeClassifier",
       [](const Inputs& in) {
         std::vector<std::int64_t> labels(static_cast<std::size_t>(in.a.rows()));
         for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
         PrototypeClassifier classifier(in.metric == Metric::l2 ? Metric::l2 : Metric::cosine);
         (void)classifier.fit(in.a, labels).predict(in.b);
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput single_row=ok "
                    "dim_mismatch=DimensionMismatch zero_row_cosine=ok constant_rows=ok duplicated_rows=ok"},
      {"knn_regress|knn", "knn_regress",
       [](const Inputs& in) {
         const KnnGraph graph = knn(in.b, in.a, in.k, in.metric);
         const RowMatrixd targets = in.a.cast<double>(), distances = graph.scores.cast<double>();
         require_finite(knn_regress(graph.ids, targets, 0, in.metric == Metric::l2 ? &distances : nullptr));
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput single_row=InvalidK dim_mismatch=DimensionMismatch "
                    "k0=InvalidK k_negative=InvalidK k_eq_n=ok k_gt_n=InvalidK duplicated_rows=ok"},
      {"rbf_cka", "rbf_cka", [](const Inputs& in) { require_finite(rbf_cka(in.a, in.b)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch constant_rows=NumericalError "
                    "duplicated_rows=ok"},
      {"rsa|spearman", "rsa", [](const Inputs& in) { require_finite(rsa(in.a, in.b)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch zero_row_cosine=NumericalError "
                    "zero_row_angular=NumericalError constant_rows=NumericalError duplicated_rows=ok"},
      {"affine_r2", "affine_r2", [](const Inputs& in) { require_finite(affine_r2(in.a, in.b)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch "
                    "duplicated_rows=ok"},
      {"silhouette|similarity", "silhouette",
       [](const Inputs& in) {
         std::vector<std::int64_t> labels(static_cast<std::size_t>(in.a.rows()));
         for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
         require_finite(silhouette(in.a, labels, in.metric == Metric::l2 ? Metric::l2 : Metric::cosine));
       },
       common_nan + "empty=EmptyInput no_columns=EmptyInput single_row=InvalidArgument zero_row_cosine=NumericalError "
                    "zero_row_angular=NumericalError duplicated_rows=ok"},
      {"minibatch_cka", "minibatch_cka", [](const Inputs& in) { require_finite(minibatch_cka(in.a, in.b, 8)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch constant_rows=NumericalError "
                    "duplicated_rows=ok"},
      {"canonical_correlations", "canonical_correlations",
       [](const Inputs& in) {
         for (const double rho : canonical_correlations(in.a, in.b)) require_finite(rho);
       },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch constant_rows=NumericalError "
                    "duplicated_rows=ok"},
      {"svcca", "svcca", [](const Inputs& in) { require_finite(svcca(in.a, in.b)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch constant_rows=NumericalError "
                    "duplicated_rows=ok"},
      {"pwcca", "pwcca", [](const Inputs& in) { require_finite(pwcca(in.a, in.b)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch constant_rows=NumericalError "
                    "duplicated_rows=ok"},
      {"match_features", "match_features",
       [](const Inputs& in) { require_finite(match_features(in.a, in.b).mean_correlation); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput "
                    "single_row=DimensionMismatch rows_mismatch=DimensionMismatch constant_rows=ok duplicated_rows=ok"},
      {"lidar", "lidar",
       [](const Inputs& in) {
         std::vector<std::int64_t> labels(static_cast<std::size_t>(in.a.rows()));
         for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
         require_finite(lidar(in.a, labels));
       },
       common_nan + "empty=EmptyInput no_columns=EmptyInput single_row=InvalidArgument constant_rows=NumericalError "
                    "duplicated_rows=ok"},
      {"collapse_diagnostics", "collapse_diagnostics",
       [](const Inputs& in) { require_finite(collapse_diagnostics(in.a).vicreg_covariance); },
       common_nan +
           "empty=EmptyInput no_columns=EmptyInput single_row=InvalidArgument constant_rows=ok duplicated_rows=ok"},
      {"remove_subspace", "remove_subspace",
       [](const Inputs& in) {
         require_finite(
             remove_subspace(in.a, RowMatrixd(in.b.topRows(std::min<Eigen::Index>(2, in.b.rows())).cast<double>())));
       },
       common_nan + "b_empty=EmptyInput constant_rows=ok dim_mismatch=DimensionMismatch duplicated_rows=ok "
                    "empty=EmptyInput no_columns=EmptyInput single_row=ok"},
      {"concept_direction", "concept_direction",
       [](const Inputs& in) {
         std::vector<std::int64_t> labels(static_cast<std::size_t>(in.a.rows()));
         for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 2);
         for (const double v : concept_direction(in.a, labels, 0, 1)) require_finite(v);
       },
       common_nan + "constant_rows=InvalidArgument duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput "
                    "single_row=InvalidArgument"},
      {"steer", "steer",
       [](const Inputs& in) {
         require_finite(steer(in.a, std::vector<double>(static_cast<std::size_t>(in.b.cols()), 0.5), 2.0));
       },
       common_nan + "constant_rows=ok dim_mismatch=DimensionMismatch duplicated_rows=ok empty=EmptyInput "
                    "no_columns=EmptyInput single_row=ok"},
      {"random_project", "random_project",
       [](const Inputs& in) { require_finite(random_project(in.a, in.k, RandomProjection::gaussian)); },
       common_nan + "constant_rows=ok duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput single_row=ok"},
      {"concatenate_embeddings", "concatenate_embeddings",
       [](const Inputs& in) {
         require_finite(concatenate_embeddings({in.a, in.b}));
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok duplicated_rows=ok empty=EmptyInput "
                    "no_columns=EmptyInput rows_mismatch=DimensionMismatch single_row=DimensionMismatch "
                    "zero_row_angular=NumericalError zero_row_cosine=NumericalError"},
      {"pair_features", "pair_features", [](const Inputs& in) { require_finite(pair_features(in.a, in.b)); },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput rows_mismatch=DimensionMismatch "
                    "single_row=DimensionMismatch"},
      {"bilinear_scores", "bilinear_scores",
       [](const Inputs& in) {
         require_finite(bilinear_scores(in.b, in.a, RowMatrixd(RowMatrixd::Identity(in.b.cols(), in.a.cols()))));
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok duplicated_rows=ok empty=EmptyInput "
                    "no_columns=EmptyInput single_row=ok"},
      {"mahalanobis_distances|similarity", "mahalanobis_distances",
       [](const Inputs& in) {
         require_finite(mahalanobis_distances(in.b, in.a, RowMatrixd(RowMatrixd::Identity(in.b.cols(), in.b.cols()))));
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput single_row=ok"},
      {"info_nce|similarity", "info_nce", [](const Inputs& in) { require_finite(info_nce(in.a, in.b, 0.1)); },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput rows_mismatch=DimensionMismatch "
                    "single_row=DimensionMismatch zero_row_angular=NumericalError zero_row_cosine=NumericalError"},
      {"mine_hard_negatives|knn", "mine_hard_negatives",
       [](const Inputs& in) {
         HardNegativeOptions options;
         options.rank_max = in.k;
         (void)mine_hard_negatives(
             in.b, in.a, std::vector<std::vector<std::int64_t>>(static_cast<std::size_t>(in.b.rows())), options);
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput single_row=ok "
                    "zero_row_angular=NumericalError zero_row_cosine=NumericalError"},
      {"RidgeProbe", "RidgeProbe",
       [](const Inputs& in) {
         std::vector<std::int64_t> labels(static_cast<std::size_t>(in.a.rows()));
         for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 3);
         (void)RidgeProbe().fit(in.a, labels).predict(in.b);
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput single_row=InvalidArgument"},
      {"solve_analogies|similarity", "solve_analogies",
       [](const Inputs& in) {
         IdMatrix questions(1, 3);
         questions << 0, 1, 2;
         (void)solve_analogies(in.a, questions);
       },
       common_nan + "constant_rows=ok duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput "
                    "single_row=InvalidArgument zero_row_angular=NumericalError zero_row_cosine=NumericalError"},
      {"weat|similarity", "weat",
       [](const Inputs& in) {
         const RowMatrixf a = in.a.topRows(std::min<Eigen::Index>(3, in.a.rows()));
         const RowMatrixf b = in.b.topRows(std::min<Eigen::Index>(3, in.b.rows()));
         require_finite(weat(in.a, in.b, a, b).effect_size);
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=ok dim_mismatch=DimensionMismatch "
                    "duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput single_row=ok "
                    "zero_row_angular=NumericalError zero_row_cosine=NumericalError"},
      {"evalrank|similarity", "evalrank",
       [](const Inputs& in) {
         IdMatrix pairs(1, 2);
         pairs << 0, 1;
         require_finite(evalrank(in.a, pairs).mrr);
       },
       common_nan + "constant_rows=ok duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput "
                    "single_row=InvalidArgument zero_row_angular=NumericalError zero_row_cosine=NumericalError"},
      {"renyi_entropy", "renyi_entropy", [](const Inputs& in) { require_finite(renyi_entropy(in.a)); },
       common_nan + "constant_rows=ok duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput single_row=ok "
                    "zero_row_angular=ok zero_row_cosine=ok"},
      {"trajectory_curvature", "trajectory_curvature",
       [](const Inputs& in) { require_finite(trajectory_curvature(in.a)); },
       common_nan + "constant_rows=InvalidArgument duplicated_rows=ok empty=EmptyInput no_columns=EmptyInput "
                    "single_row=InvalidArgument"},
      {"stitching_accuracy|LatentTranslator", "stitching_accuracy",
       [](const Inputs& in) {
         std::vector<std::int64_t> labels(static_cast<std::size_t>(in.a.rows())), train, test;
         for (std::size_t i = 0; i < labels.size(); ++i) {
           labels[i] = static_cast<std::int64_t>(i % 2);
           (i % 2 == 0 ? train : test).push_back(static_cast<std::int64_t>(i / 2 * 2 + i % 2));
         }
         require_finite(stitching_accuracy(in.a, in.b, labels, in.ids, train, test).accuracy);
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue constant_rows=NumericalError empty=EmptyInput "
                    "no_columns=EmptyInput rows_mismatch=DimensionMismatch single_row=DimensionMismatch "
                    "dim_mismatch=ok duplicated_rows=ok anchor_negative=InvalidArgument "
                    "anchor_out_of_range=InvalidArgument anchors_none=InvalidArgument anchor_duplicated=ok"},
      {"conse_predict|knn", "conse_predict",
       [](const Inputs& in) {
         const RowMatrixd probabilities = RowMatrixd::Constant(in.b.rows(), in.a.rows(), 1.0);
         (void)conse_predict(probabilities, in.a, in.b,
                             std::max<std::int64_t>(1, std::min<std::int64_t>(in.k, in.a.rows())));
       },
       common_nan + "b_empty=EmptyInput b_nan_last=NonFiniteValue dim_mismatch=DimensionMismatch empty=EmptyInput "
                    "no_columns=EmptyInput constant_rows=ok duplicated_rows=ok"},
      {"zero_shot_predict|knn", "zero_shot_predict",
       [](const Inputs& in) { (void)zero_shot_predict(in.b, in.a, in.metric); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput no_columns=EmptyInput b_empty=EmptyInput single_row=ok "
                    "dim_mismatch=DimensionMismatch zero_row_cosine=NumericalError zero_row_angular=NumericalError "
                    "duplicated_rows=ok"},
      {"uniformity", "uniformity", [](const Inputs& in) { require_finite(uniformity(in.a)); },
       common_nan + "empty=EmptyInput no_columns=EmptyInput single_row=EmptyInput duplicated_rows=ok"},
      {"alignment", "alignment", [](const Inputs& in) { require_finite(alignment(in.a, in.b)); },
       common_nan + "b_nan_last=NonFiniteValue empty=EmptyInput b_empty=DimensionMismatch "
                    "rows_mismatch=DimensionMismatch dim_mismatch=DimensionMismatch duplicated_rows=ok"},
  };
}

std::map<std::string, std::string> parse_expected(const std::string& text) {
  std::map<std::string, std::string> cells;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    cells[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return cells;
}

// What happened: "ok", the latent::Error class name, or a description of a
// failure of the contract (another exception type).
std::string outcome_of(const std::function<void()>& call, std::string& message) {
  try {
    call();
    return "ok";
  } catch (const NonFiniteOutput& e) {
    message = e.what();
    return "non-finite-output";
  } catch (const Error& e) {
    message = e.what();
#define LATENT_MATRIX_CLASS(E) \
  if (dynamic_cast<const E*>(&e) != nullptr) return #E;
    LATENT_MATRIX_CLASS(InvalidArgument)
    LATENT_MATRIX_CLASS(DimensionMismatch)
    LATENT_MATRIX_CLASS(NonFiniteValue)
    LATENT_MATRIX_CLASS(EmptyInput)
    LATENT_MATRIX_CLASS(InvalidK)
    LATENT_MATRIX_CLASS(NotFitted)
    LATENT_MATRIX_CLASS(NumericalError)
    LATENT_MATRIX_CLASS(IoError)
#undef LATENT_MATRIX_CLASS
    return "Error";
  } catch (const std::exception& e) {
    message = e.what();
    return std::string("std::exception (") + typeid(e).name() + ")";
  }
}

TEST(BadInputMatrix, EveryEntryPointEveryBadInput) {
  const bool print = std::getenv("LATENT_MATRIX_PRINT") != nullptr;
  std::int64_t cells = 0;
  for (const Entry& entry : entries()) {
    const auto expected = parse_expected(entry.expected);
    std::string observed_row;
    for (const auto& [column, mutate] : mutations()) {
      const auto want = expected.find(column);
      if (want == expected.end() && !print) continue;
      Inputs inputs;
      mutate(inputs);
      std::string message;
      const std::string got = outcome_of([&] { entry.call(inputs); }, message);
      observed_row += column + "=" + got + " ";
      if (want == expected.end()) continue;
      ++cells;
      SCOPED_TRACE(entry.label + " x " + column);
      EXPECT_EQ(got, want->second) << message;
      if (got != "ok") {
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        bool named = false;
        std::istringstream names(entry.function);
        for (std::string name; std::getline(names, name, '|');)
          named = named || message.find(name) != std::string::npos;
        EXPECT_TRUE(named) << message << " (expected to name " << entry.function << ")";
        EXPECT_EQ(message.rfind("latent::", 0), 0u) << message;
      }
    }
    if (print) std::cout << entry.label << ": " << observed_row << "\n";
  }
  std::cout << "bad-input matrix: " << cells << " cells over " << entries().size() << " entry points\n";
}

}  // namespace
}  // namespace latent
