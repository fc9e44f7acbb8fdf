// latent relative X.npy --anchors IDS.npy --similarity S[,S...] [--aggregate concat|sum|mean]
//                 [--center] [--post none|l2|standardize] [--p P] -o OUT.npy
//
// Relative representations: every row of X becomes its similarities to the
// anchor rows IDS of X (cosine, angular, dot, l2, l1, linf, lp, basis), through
// latent::RelativeProjection<float> (GEMM path for cosine/dot/l2, SIMD tiles for
// l1/linf). With several similarities each block is scaled to unit L2 norm per row
// and the blocks are aggregated (concat by default). Writes float32 [n x D] atomically.
// Under mpirun each rank projects its block; the anchor rows are gathered once.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/relative.hpp"
#include "shards.hpp"

namespace latent::cli {

std::vector<std::int64_t> read_anchor_ids(const std::string& path, const std::string& option) {
  std::vector<std::int64_t> ids = read_int_vector(path, option, "row ids");
  if (ids.empty()) throw IoError(option + ": " + path + ": holds no anchor ids");
  return ids;
}

namespace {

struct RelativeArgs {
  std::string input, anchors, similarity = "cosine", aggregate, post = "none", output;  // aggregate: "" = not given
  bool center = false;
  std::optional<double> p;  ///< lp only
};

// The options of the projection; an option that would be ignored is refused.
RelativeOptions relative_options(const RelativeArgs& args, const GlobalOptions& global) {
  RelativeOptions options;
  try {
    options.similarities = parse_relative_similarities(args.similarity, "--similarity");
  } catch (const InvalidArgument& e) {
    usage_error(e.what());
  }
  const auto& named = options.similarities;
  if (args.p && std::find(named.begin(), named.end(), RelativeSimilarity::lp) == named.end())
    usage_error("--p applies to --similarity lp");
  if (!args.aggregate.empty() && named.size() < 2) usage_error("--aggregate applies to several --similarity names");
  if (!args.aggregate.empty()) options.aggregation = parse_aggregation(args.aggregate, "--aggregate");
  options.post = parse_post_transform(args.post, "--post");
  options.pre = args.center ? PreTransform::center : PreTransform::none;
  options.p = args.p.value_or(options.p);
  options.parallel = global.parallel();
  return options;
}

int run_relative(const RelativeArgs& args, const GlobalOptions& global) {
  const RelativeOptions options = relative_options(args, global);
  const Shards& shards = Shards::current();
  std::vector<std::int64_t> ids;
  std::optional<InputMatrix> x;
  shards.phase([&] {
    require_writable(args.output, "-o");
    ids = blame("--anchors", args.anchors, [&] { return read_anchor_ids(args.anchors, "--anchors"); });
    x.emplace(args.input, "X", shards.split());
    require_row_ids(ids, "--anchors", args.anchors, x->total_rows(), "X", args.input);
  });
  const auto start = std::chrono::steady_clock::now();
  RelativeProjection<float> projection(options);
  // The anchors are rows of X (gathered from the ranks that hold them under
  // mpirun): a bad anchor row is X's fault.
  const RowMatrixf anchors = blame("X", args.input, [&] { return shards.gather_rows(x->view(), ids); });
  shards.phase([&] { blame("X", args.input, [&] { projection.fit(anchors); }); });
  RowMatrixf out;
  shards.phase([&] { out = blame("X", args.input, [&] { return projection.transform(x->view()); }); });
  const double seconds = seconds_since(start);
  shards.write_rows(args.output, MatrixView<float>(out), x->total_rows());

  if (global.json) {
    print_json({{"rows", x->total_rows()},
                {"dim", x->view().cols},
                {"anchors", projection.n_anchors()},
                {"similarity", args.similarity},
                {"aggregate", std::string(to_string(options.aggregation))},
                {"center", args.center},
                {"output_dim", out.cols()},
                {"seconds", seconds},
                {"output", args.output}});
    return 0;
  }
  std::printf("relative: %lld rows (%lld-d) onto %lld anchors, %s (%s): %.3f s\n",
              static_cast<long long>(x->total_rows()), static_cast<long long>(x->view().cols),
              static_cast<long long>(projection.n_anchors()), args.similarity.c_str(),
              std::string(to_string(options.aggregation)).c_str(), seconds);
  std::printf("wrote %s (float32 [%lld, %lld])\n", args.output.c_str(), static_cast<long long>(x->total_rows()),
              static_cast<long long>(out.cols()));
  return 0;
}

}  // namespace

Command register_relative(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("relative", "relative representations: similarities of every row to anchor rows");
  auto args = std::make_shared<RelativeArgs>();
  sub->add_option("X", args->input, "rows, [n x d] float32/float64 .npy")->required();
  sub->add_option("--anchors", args->anchors, "anchor row ids of X, 1-D int64/int32 .npy")->required();
  sub->add_option("--similarity", args->similarity,
                  "cosine (default), angular, dot, l2, l1, linf, lp, basis, or a comma-separated list");
  sub->add_option("--aggregate", args->aggregate, "several similarities: concat (default), sum or mean")
      ->check(parsed_by(parse_aggregation));
  sub->add_flag("--center", args->center, "subtract the anchors' mean from rows and anchors first");
  sub->add_option("--post", args->post, "per-block post-transform: none (default), l2 or standardize")
      ->check(parsed_by(parse_post_transform));
  sub->add_option("--p", args->p, "--similarity lp: its exponent, 1 to 1e6 (default 3)")->check(CLI::Range(1.0, 1e6));
  sub->add_option("-o,--output", args->output, "output: float32 [n x D] relative representations")->required();
  sub->footer(
      "Examples:\n"
      "  latent relative emb.npy --anchors anchor_ids.npy --similarity cosine -o rel.npy\n"
      "  latent relative emb.npy --anchors anchor_ids.npy --similarity cosine,l2,l1,linf --aggregate concat -o "
      "rel.npy");
  return {sub, [args, &global] { return run_relative(*args, global); }};
}

}  // namespace latent::cli
