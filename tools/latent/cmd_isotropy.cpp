// latent isotropy FILE [--json]
//
// How isotropic an embedding set is: mean pairwise cosine, Mu and Viswanath's
// partition isotropy, RankMe effective rank and the covariance spectrum (one
// covariance pass, two d x d decompositions, one projection; all in double).
#include <cstdio>
#include <memory>

#include "cli.hpp"
#include "latent/whitening.hpp"

namespace latent::cli {
namespace {

struct IsotropyArgs {
  std::string file;
};

int run_isotropy(const IsotropyArgs& args, const GlobalOptions& global) {
  const InputMatrix input(args.file, "FILE");
  const auto start = std::chrono::steady_clock::now();
  const IsotropyReport report = blame("FILE", args.file, [&] { return isotropy(input.view(), global.parallel()); });
  const double seconds = seconds_since(start);
  if (global.json) {
    print_json({{"file", args.file},
                {"rows", report.rows},
                {"dim", report.dim},
                {"average_cosine", report.average_cosine},
                {"partition_isotropy", report.partition_isotropy},
                {"effective_rank", report.effective_rank},
                {"components_90", report.components_90},
                {"components_99", report.components_99},
                {"eigenvalues", report.eigenvalues},
                {"explained_variance_ratio", report.explained_variance_ratio},
                {"seconds", seconds}});
    return 0;
  }
  std::printf("%s: %lld rows x %lld dims\n", args.file.c_str(), static_cast<long long>(report.rows),
              static_cast<long long>(report.dim));
  std::printf("  average cosine          %.4f   (0 = isotropic; near 1 = a narrow cone)\n", report.average_cosine);
  std::printf("  partition isotropy I(W) %.4g   (1 = isotropic)\n", report.partition_isotropy);
  std::printf("  effective rank (RankMe) %.2f of %lld\n", report.effective_rank, static_cast<long long>(report.dim));
  std::printf("  components for 90%% / 99%% of the variance: %lld / %lld\n",
              static_cast<long long>(report.components_90), static_cast<long long>(report.components_99));
  std::printf("  top eigenvalues:");
  for (std::size_t c = 0; c < std::min<std::size_t>(5, report.eigenvalues.size()); ++c)
    std::printf(" %.4g (%.1f%%)", report.eigenvalues[c], 100 * report.explained_variance_ratio[c]);
  std::printf("\n");
  return 0;
}

}  // namespace

Command register_isotropy(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("isotropy", "isotropy and spectrum of an embedding set");
  auto args = std::make_shared<IsotropyArgs>();
  sub->add_option("FILE", args->file, "rows, [n x d] float32/float64 .npy")->required();
  sub->footer(
      "Examples:\n"
      "  latent isotropy data/fashion-mnist/images.npy\n"
      "  latent isotropy data/encoders/mlp_seed0.npy --json");
  return {sub, [args, &global] { return run_isotropy(*args, global); }};
}

}  // namespace latent::cli
