// `latent report`: what an embedding space looks like and what repairs do to it.
//
// build_report measures one set of rows through the public API only (isotropy,
// exact kNN graphs, hubness measures, leave-one-out kNN accuracy), applies the
// repairs (PCA whitening, f-norm, mutual proximity, local scaling, CSLS, f-norm
// followed by mutual proximity), measures each result the same way, and
// recommends one; an analysis section adds the collapse diagnostics, and with
// labels LiDAR and prototype accuracy; with a second space it adds the
// cross-space comparison (absolute, relative, translated) and to the analysis
// CKA, SVCCA and, with labels, zero-shot stitching. The three renderings -- terminal table, one
// JSON object, one self-contained HTML page with inline SVG -- read the same
// SpaceReport, so they cannot disagree.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "latent/hubness.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"
#include "latent/whitening.hpp"
#include "progress.hpp"

namespace latent::cli {

struct ReportOptions {
  std::int64_t k = 10;
  Metric metric = Metric::cosine;
  std::int64_t candidates = 50;                ///< neighbours the graph reductions may re-rank
  std::vector<std::int64_t> labels;            ///< empty: no accuracy
  double accuracy_tolerance = 0.01;            ///< a repair may cost at most this much accuracy
  const MatrixView<float>* compare = nullptr;  ///< second space (rows = the same items), or null
  std::string compare_path;                    ///< its file, for the report and error messages
  std::vector<std::int64_t> anchors;           ///< anchor ids for the comparison
  std::string anchors_source;                  ///< where the anchors came from (file or selection)
  Parallel parallel;
};

/// One representation of the rows (the original, or a repair) and its neighbourhoods.
struct MethodResult {
  std::string name;
  std::string description;
  HubnessMeasures measures;
  double knn_accuracy = 0;               ///< NaN without labels
  std::vector<std::int64_t> occurrence;  ///< N_k of every row
  double seconds = 0;
};

/// The analysis section: the collapse of the space; LiDAR and prototype
/// accuracy with labels; with a second space its linear CKA and SVCCA, and with
/// labels too the zero-shot stitching accuracies (NaN: not computed).
struct AnalysisSection {
  CollapseDiagnostics collapse;
  double lidar = std::numeric_limits<double>::quiet_NaN();
  double prototype_accuracy = std::numeric_limits<double>::quiet_NaN();
  double cka = std::numeric_limits<double>::quiet_NaN();
  double svcca = std::numeric_limits<double>::quiet_NaN();
  double stitching = std::numeric_limits<double>::quiet_NaN();           ///< translated (Procrustes)
  double stitching_relative = std::numeric_limits<double>::quiet_NaN();  ///< relative representations
  double stitching_ceiling = std::numeric_limits<double>::quiet_NaN();   ///< the head on the second space's own rows
};

struct SpaceReport {
  std::string path, compare_path;
  std::int64_t rows = 0, dim = 0, k = 0, candidates = 0;
  Metric metric = Metric::cosine;
  bool labelled = false;
  RowStats norms;
  IsotropyReport isotropy;
  std::vector<MethodResult> methods;                        ///< methods[0] is the space as given ("none")
  std::vector<std::pair<std::int64_t, std::int64_t>> hubs;  ///< (row, N_k), largest first
  std::size_t recommended = 0;                              ///< index into methods
  std::string verdict;                                      ///< one sentence: how strong the hubness is
  std::string reason;                                       ///< why the recommendation
  AnalysisSection analysis;
  std::vector<NamedScores> comparison;  ///< empty without a second space
  std::int64_t compare_rows = 0, compare_dim = 0, n_anchors = 0;
  std::string anchors_source;
  double seconds = 0;
};

/// Computes the report (the work of `latent report`). `progress` must plan
/// report_steps(options) steps.
SpaceReport build_report(const std::string& path, const MatrixView<float>& x, const ReportOptions& options,
                         Progress& progress);
int report_steps(const ReportOptions& options);

nlohmann::json report_json(const SpaceReport& report);
void print_report(const SpaceReport& report);
/// One self-contained HTML page (inline CSS and SVG; no script, no network).
std::string report_html(const SpaceReport& report);

/// `text` with &, <, > and " replaced by their HTML entities.
std::string html_escape(const std::string& text);

}  // namespace latent::cli
