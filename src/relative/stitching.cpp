// Zero-shot stitching (see relative.hpp): a prototype head fitted in the target
// space, reached from the source space by translation or through relative
// representations. Only public pieces are composed here: LatentTranslator,
// RelativeProjection and PrototypeClassifier.
#include <string>
#include <vector>

#include "latent/core/errors.hpp"
#include "latent/core/names.hpp"
#include "latent/metrics.hpp"
#include "latent/relative.hpp"

namespace latent {
namespace {

constexpr NamedValue<StitchMethod> kStitchNames[] = {{"translation", StitchMethod::translation},
                                                     {"relative", StitchMethod::relative}};

std::vector<std::int64_t> labels_of(const std::vector<std::int64_t>& labels, const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> out;
  out.reserve(ids.size());
  for (const std::int64_t id : ids) out.push_back(labels[static_cast<std::size_t>(id)]);
  return out;
}

void check_ids(const char* argument, const std::vector<std::int64_t>& ids, std::int64_t rows) {
  if (ids.empty()) raise<InvalidArgument>("stitching_accuracy", argument, "is empty");
  for (const std::int64_t id : ids)
    if (id < 0 || id >= rows)
      raise<InvalidArgument>("stitching_accuracy", argument, "holds an id outside the rows",
                             "id=" + std::to_string(id) + ", rows=" + std::to_string(rows));
}

}  // namespace

std::string_view to_string(StitchMethod method) { return name_of(kStitchNames, method); }

StitchMethod parse_stitch_method(std::string_view name, std::string_view argument) {
  return parse_name(kStitchNames, name, "parse_stitch_method", argument, "stitch method");
}

StitchingResult stitching_accuracy(const MatrixView<float>& source, const MatrixView<float>& target,
                                   const std::vector<std::int64_t>& labels, const std::vector<std::int64_t>& anchors,
                                   const std::vector<std::int64_t>& train, const std::vector<std::int64_t>& test,
                                   const StitchingOptions& options) {
  constexpr std::string_view kFunction = "stitching_accuracy";
  require_non_empty(kFunction, "source", source);
  require_non_empty(kFunction, "target", target);
  require_same_dim(kFunction, "rows of source", source.rows, "rows of target", target.rows);
  require_same_dim(kFunction, "labels", static_cast<std::int64_t>(labels.size()), "rows of source", source.rows);
  require_finite(kFunction, "source", source);
  require_finite(kFunction, "target", target);
  check_ids("anchors", anchors, source.rows);
  check_ids("train", train, source.rows);
  check_ids("test", test, source.rows);
  RowMatrixf head_rows, stitched, target_test;
  if (options.method == StitchMethod::translation) {
    LatentTranslator<float> translator(options.translation);
    translator.fit(source, target, anchors);
    head_rows = gather_rows(target, train);
    stitched = translator.transform(gather_rows(source, test));
    target_test = gather_rows(target, test);
  } else {
    RelativeProjection<float> source_space(options.relative), target_space(options.relative);
    source_space.fit(source, anchors);
    target_space.fit(target, anchors);
    head_rows = target_space.transform(gather_rows(target, train));
    stitched = source_space.transform(gather_rows(source, test));
    target_test = target_space.transform(gather_rows(target, test));
  }
  PrototypeClassifier head(Metric::cosine);
  head.fit(head_rows, labels_of(labels, train));
  const std::vector<std::int64_t> truth = labels_of(labels, test);
  StitchingResult result;
  result.accuracy = head.score(stitched, truth).accuracy;
  result.target_accuracy = head.score(target_test, truth).accuracy;
  return result;
}

}  // namespace latent
