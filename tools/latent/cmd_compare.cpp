// latent compare A.npy B.npy --anchors IDS.npy [-k K] [--rows N] [--similarity S[,S...]]
//                [--center] [--translate M[,M...]] [--json]
//
// Cross-space comparison of the same items encoded twice (rows 0..N-1 of A and B,
// default N = 1000 or all rows when fewer): jaccard@k of the cosine
// neighbourhoods, mrr / top1 / mean_rank of the counterpart, mean_cos and linear
// CKA (definitions in latent/relative.hpp), for the absolute vectors, for the relative
// representations on the anchors IDS with each similarity (and "concat" of them
// all when there are several), and with --translate for A mapped into B by a map
// fitted on the anchor pairs. Everything runs in double, so the numbers match a
// double-precision reference. JSON: one object per representation.
#include <cmath>
#include <cstdio>

#include "cli.hpp"
#include "latent/relative.hpp"

namespace latent::cli {
namespace {

struct CompareArgs {
  std::string a, b, anchors, similarity = "cosine", translate;
  std::int64_t k = 10, rows = 1000;
  bool center = false;
};


std::vector<std::string> split(const std::string& names) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = names.find(',', start);
    out.push_back(names.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

int run_compare(CompareArgs args, const bool rows_given, const GlobalOptions& global) {
  std::vector<RelativeSimilarity> similarities;
  std::vector<TranslationMethod> methods;
  try {
    similarities = parse_relative_similarities(args.similarity, "--similarity");
    if (!args.translate.empty())
      for (const auto& name : split(args.translate)) methods.push_back(parse_translation_method(name, "--translate"));
  } catch (const InvalidArgument& e) {
    usage_error(e.what());
  }
  const std::vector<std::int64_t> ids =
      blame("--anchors", args.anchors, [&] { return read_anchor_ids(args.anchors, "--anchors"); });
  const InputMatrix a_file(args.a, "A");
  const InputMatrix b_file(args.b, "B");
  const std::int64_t available = std::min(a_file.view().rows, b_file.view().rows);
  if (!rows_given) args.rows = std::min(args.rows, available);
  if (args.rows > available)
    throw InvalidArgument("--rows " + std::to_string(args.rows) + ": exceeds the rows of A " + args.a + " or B " +
                          args.b + " (" + std::to_string(a_file.view().rows) + " and " +
                          std::to_string(b_file.view().rows) + ")");
  const RowMatrixd a = a_file.view().map().cast<double>();
  const RowMatrixd b = b_file.view().map().cast<double>();
  const std::int64_t n = args.rows;
  blame("A", args.a, [&] { require_finite("compare", "A", MatrixView<double>(a)); });
  blame("B", args.b, [&] { require_finite("compare", "B", MatrixView<double>(b)); });

  CompareOptions options;
  options.k = args.k;
  options.parallel = global.parallel();
  const auto start = std::chrono::steady_clock::now();
  const std::vector<NamedScores> results = compare_representations(
      a, b, n, ids, similarities, args.center, methods, options, args.a, args.b, args.anchors);
  const double seconds = seconds_since(start);

  if (global.json) {
    nlohmann::json report = {
        {"rows", n},         {"k", args.k},       {"n_anchors", static_cast<std::int64_t>(ids.size())},
        {"dim_a", a.cols()}, {"dim_b", b.cols()}, {"seconds", seconds}};
    for (const auto& [name, scores] : results) report[name] = scores_json(scores);
    print_json(report);
    return 0;
  }
  std::printf("compare: %lld rows of %s (%lld-d) and %s (%lld-d), %lld anchors, k=%lld: %.3f s\n",
              static_cast<long long>(n), args.a.c_str(), static_cast<long long>(a.cols()), args.b.c_str(),
              static_cast<long long>(b.cols()), static_cast<long long>(ids.size()), static_cast<long long>(args.k),
              seconds);
  std::printf("%-28s %8s %8s %8s %10s %9s %8s\n", "representation", "jaccard", "mrr", "top1", "mean_rank", "mean_cos",
              "cka");
  for (const auto& [name, s] : results)
    std::printf("%-28s %8.4f %8.4f %8.4f %10.2f %9.4f %8.4f\n", name.c_str(), s.jaccard, s.mrr, s.top1, s.mean_rank,
                s.mean_cos, s.cka);
  return 0;
}

}  // namespace

nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

nlohmann::json scores_json(const CrossSpaceScores& s) {
  return {{"jaccard", finite_or_null(s.jaccard)},     {"mrr", finite_or_null(s.mrr)},
          {"top1", finite_or_null(s.top1)},           {"mean_rank", finite_or_null(s.mean_rank)},
          {"mean_cos", finite_or_null(s.mean_cos)},   {"cka", finite_or_null(s.cka)}};
}

std::vector<NamedScores> compare_representations(const RowMatrixd& a, const RowMatrixd& b, std::int64_t rows,
                                                 const std::vector<std::int64_t>& anchors,
                                                 const std::vector<RelativeSimilarity>& similarities, bool center,
                                                 const std::vector<TranslationMethod>& translations,
                                                 const CompareOptions& options, const std::string& a_path,
                                                 const std::string& b_path, const std::string& anchors_path) {
  const MatrixView<double> a_rows(a.data(), rows, a.cols()), b_rows(b.data(), rows, b.cols());
  std::vector<NamedScores> results;
  results.emplace_back("absolute", blame("A", a_path, [&] { return compare_spaces(a_rows, b_rows, options); }));

  std::vector<std::vector<RelativeSimilarity>> groups;
  for (const auto s : similarities) groups.push_back({s});
  if (similarities.size() > 1) groups.push_back(similarities);
  for (const auto& group : groups) {
    RelativeOptions relative;
    relative.similarities = group;
    relative.pre = center ? PreTransform::center : PreTransform::none;
    relative.parallel = options.parallel;
    RelativeProjection<double> in_a(relative), in_b(relative);
    blame("--anchors", anchors_path, [&] {
      in_a.fit(MatrixView<double>(a), anchors);
      in_b.fit(MatrixView<double>(b), anchors);
    });
    const RowMatrixd ra = blame("A", a_path, [&] { return in_a.transform(a_rows); });
    const RowMatrixd rb = blame("B", b_path, [&] { return in_b.transform(b_rows); });
    const std::string name = group.size() == 1 ? std::string(to_string(group[0])) : "concat";
    results.emplace_back(name, compare_spaces(MatrixView<double>(ra), MatrixView<double>(rb), options));
  }
  for (const auto method : translations) {
    TranslationOptions translation;
    translation.method = method;
    LatentTranslator<double> translator(translation);
    blame("--anchors", anchors_path, [&] { translator.fit(MatrixView<double>(a), MatrixView<double>(b), anchors); });
    const RowMatrixd mapped = translator.transform(a_rows);
    results.emplace_back("translated_" + std::string(to_string(method)),
                         compare_spaces(MatrixView<double>(mapped), b_rows, options));
  }
  return results;
}

Command register_compare(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("compare", "cross-space comparison of the same items in two spaces");
  auto args = std::make_shared<CompareArgs>();
  sub->add_option("A", args->a, "first space, [n x d_a] float32/float64 .npy")->required();
  sub->add_option("B", args->b, "second space, row i = the same item as row i of A")->required();
  sub->add_option("--anchors", args->anchors, "anchor row ids (shared by both spaces), int64 .npy")->required();
  sub->add_option("-k", args->k, "neighbours for jaccard (default 10)")->check(at_least(1));
  auto* rows = sub->add_option("--rows", args->rows, "compare rows 0..N-1 (default 1000, or all when fewer)")
                   ->check(CLI::Range(std::int64_t{2}, std::int64_t{1} << 40));
  sub->add_option("--similarity", args->similarity,
                  "relative representations to compare: cosine (default), angular, dot, l2, l1, linf, lp, basis, "
                  "or a list (adds their concat)");
  sub->add_flag("--center", args->center, "centre rows and anchors on the anchors' mean before the similarities");
  sub->add_option("--translate", args->translate,
                  "also compare A mapped into B by maps fitted on the anchor pairs: procrustes, lstsq, affine, ridge, "
                  "orthogonal-lstsq, or a list");
  sub->footer(
      "Examples:\n"
      "  latent compare encA.npy encB.npy --anchors anchor_ids.npy -k 10 --rows 2000 --similarity cosine,l2,l1,linf "
      "--json\n"
      "  latent compare encA.npy encB.npy --anchors anchor_ids.npy --translate procrustes,affine");
  return {sub, [args, rows, &global] { return run_compare(*args, rows->count() > 0, global); }};
}

}  // namespace latent::cli
