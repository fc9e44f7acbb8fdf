// latent sae encode X.npy --weights DIR --activation topk|relu|jumprelu [--k K] [--threshold T] -o CODES.npz
// latent sae decode CODES.npz --weights DIR -o XHAT.npy
// latent sae stats X.npy --weights DIR --activation topk|relu|jumprelu [--k K] [--threshold T] [--json]
//
// Sparse autoencoder inference through latent::SparseAutoencoder. DIR holds
// W_enc.npy [d x m], b_enc.npy [m], W_dec.npy [m x d] and b_dec.npy [d] (float32).
// encode: pre = (x - b_dec) W_enc + b_enc; topk keeps the k largest per row (ties
// to the smaller feature, negative kept values set to 0), relu max(pre, 0),
// jumprelu pre where pre > T; the codes are written as scipy.sparse.save_npz's
// CSR layout (zeros dropped), atomically. decode: x_hat = z W_dec + b_dec. stats:
// mse, explained_variance, dead_fraction, mean_active.
#include <chrono>
#include <cstdio>

#include "blame_inputs.hpp"
#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/io.hpp"
#include "latent/embedding.hpp"

namespace latent::cli {
namespace {

struct SaeArgs {
  std::string input, weights, activation = "topk", output;
  std::int64_t k = 0;  // 0: not given
  std::optional<double> threshold;
};

SparseAutoencoder load_sae(const std::string& dir) {
  return blame("--weights", dir, [&] { return SparseAutoencoder::load(dir); });
}

SaeEncodeOptions sae_options(const SaeArgs& args, const GlobalOptions& global) {
  SaeEncodeOptions options;
  options.activation = parse_sae_activation(args.activation, "--activation");
  options.parallel = global.parallel();
  if (options.activation == SaeActivation::topk) {
    if (args.k == 0) usage_error("--activation topk needs --k");
    options.k = args.k;
  } else if (args.k != 0) {
    usage_error("--k applies to --activation topk");
  }
  if (options.activation == SaeActivation::jumprelu) {
    if (!args.threshold) usage_error("--activation jumprelu needs --threshold");
    options.threshold = *args.threshold;
  } else if (args.threshold) {
    usage_error("--threshold applies to --activation jumprelu");
  }
  return options;
}

int run_sae_encode(const SaeArgs& args, const GlobalOptions& global) {
  const SaeEncodeOptions options = sae_options(args, global);
  require_writable(args.output, "-o");
  const SparseAutoencoder sae = load_sae(args.weights);
  const InputMatrix x(args.input, "X");
  const auto start = std::chrono::steady_clock::now();
  const SparseMatrix codes = blame_inputs({{"x", "X", args.input}, {"W_enc", "--weights", args.weights}},
                                          [&] { return sae.encode(x.view(), options); });
  const double seconds = seconds_since(start);
  write_sparse_npz(args.output, codes);
  const double mean_active =
      static_cast<double>(codes.nnz()) / static_cast<double>(std::max<std::int64_t>(1, codes.rows()));
  if (global.json) {
    print_json({{"rows", codes.rows()},
                {"features", codes.cols()},
                {"activation", args.activation},
                {"k", args.k == 0 ? nlohmann::json() : nlohmann::json(args.k)},
                {"threshold", args.threshold ? nlohmann::json(*args.threshold) : nlohmann::json()},
                {"nnz", codes.nnz()},
                {"mean_active", mean_active},
                {"seconds", seconds},
                {"output", args.output}});
    return 0;
  }
  std::printf("sae encode: %lld rows (%lld-d) -> %lld features, %s: %lld non-zeros (%.2f per row), %.3f s\n",
              static_cast<long long>(codes.rows()), static_cast<long long>(sae.dim()),
              static_cast<long long>(codes.cols()), args.activation.c_str(), static_cast<long long>(codes.nnz()),
              mean_active, seconds);
  std::printf("wrote %s (CSR .npz, scipy.sparse.load_npz reads it)\n", args.output.c_str());
  return 0;
}

int run_sae_decode(const SaeArgs& args, const GlobalOptions& global) {
  require_writable(args.output, "-o");
  const SparseAutoencoder sae = load_sae(args.weights);
  const SparseMatrix codes = blame("CODES", args.input, [&] { return read_sparse_npz(args.input); });
  const RowMatrixf x_hat = blame_inputs({{"codes", "CODES", args.input}, {"W_dec", "--weights", args.weights}},
                                        [&] { return sae.decode(codes, global.parallel()); });
  write_npy(args.output, x_hat);
  if (global.json) {
    print_json({{"rows", x_hat.rows()}, {"dim", x_hat.cols()}, {"nnz", codes.nnz()}, {"output", args.output}});
    return 0;
  }
  std::printf("sae decode: %lld rows, %lld non-zeros -> float32 [%lld x %lld]\nwrote %s\n",
              static_cast<long long>(codes.rows()), static_cast<long long>(codes.nnz()),
              static_cast<long long>(x_hat.rows()), static_cast<long long>(x_hat.cols()), args.output.c_str());
  return 0;
}

int run_sae_stats(const SaeArgs& args, const GlobalOptions& global) {
  const SaeEncodeOptions options = sae_options(args, global);
  const SparseAutoencoder sae = load_sae(args.weights);
  const InputMatrix x(args.input, "X");
  const SaeStats stats = blame_inputs({{"x", "X", args.input}, {"W_enc", "--weights", args.weights}},
                                      [&] { return sae_stats(sae, x.view(), options); });
  if (global.json) {
    print_json({{"rows", stats.rows},
                {"features", stats.features},
                {"activation", args.activation},
                {"k", args.k == 0 ? nlohmann::json() : nlohmann::json(args.k)},
                {"threshold", args.threshold ? nlohmann::json(*args.threshold) : nlohmann::json()},
                {"mse", stats.mse},
                {"explained_variance", stats.explained_variance},
                {"dead_fraction", stats.dead_fraction},
                {"mean_active", stats.mean_active}});
    return 0;
  }
  std::printf("sae stats: %lld rows, %lld features, %s\n", static_cast<long long>(stats.rows),
              static_cast<long long>(stats.features), args.activation.c_str());
  std::printf(
      "  mse                 %.6g\n  explained_variance  %.4f\n  dead_fraction       %.4f\n"
      "  mean_active         %.3f\n",
      stats.mse, stats.explained_variance, stats.dead_fraction, stats.mean_active);
  return 0;
}

void add_sae_weights(CLI::App* command, SaeArgs& args) {
  command
      ->add_option("--weights", args.weights,
                   "folder of W_enc.npy [d x m], b_enc.npy [m], W_dec.npy [m x d], b_dec.npy [d] (float32)")
      ->required();
}

void add_sae_activation(CLI::App* command, SaeArgs& args) {
  command
      ->add_option("--activation", args.activation,
                   "topk: the k largest pre-activations per row (ties to the smaller feature; negative ones set to "
                   "0); relu: max(pre, 0); jumprelu: pre where pre > T")
      ->required()
      ->check(CLI::IsMember({"topk", "relu", "jumprelu"}));
  command->add_option("--k", args.k, "features kept per row (topk)")->check(at_least(1));
  command->add_option("--threshold", args.threshold, "T of jumprelu");
}

}  // namespace

Command register_sae(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("sae", "sparse autoencoder inference: encode to sparse codes, decode, statistics");
  sub->require_subcommand(1);
  auto args = std::make_shared<SaeArgs>();
  const char* examples =
      "Examples (the bundled autoencoder over the bundled encoder latents):\n"
      "  latent sae encode data/encoders/mlp_seed0.npy --weights data/sae --activation topk --k 8 -o codes.npz\n"
      "  latent sae decode codes.npz --weights data/sae -o reconstructed.npy\n"
      "  latent sae stats data/encoders/mlp_seed0.npy --weights data/sae --activation topk --k 8 --json";
  sub->footer(examples);

  auto* encode = sub->add_subcommand("encode", "sparse codes of the rows of X.npy, written as a CSR .npz");
  encode->add_option("X.npy", args->input, "rows [n x d] float32/float64")->required();
  add_sae_weights(encode, *args);
  add_sae_activation(encode, *args);
  encode->add_option("-o", args->output, "output: codes [n x m] in scipy.sparse.save_npz's CSR layout")->required();
  encode->footer(examples);

  auto* decode = sub->add_subcommand("decode", "reconstructions z W_dec + b_dec of CSR codes");
  decode->add_option("CODES.npz", args->input, "codes [n x m], scipy.sparse CSR .npz")->required();
  add_sae_weights(decode, *args);
  decode->add_option("-o", args->output, "output: float32 [n x d]")->required();
  decode->footer(examples);

  auto* stats = sub->add_subcommand(
      "stats",
      "reconstruction error and activation statistics: mse (mean over rows and dims of (x - x_hat)^2), "
      "explained_variance (1 - SSE / sum |x - mean|^2), dead_fraction (features active in no row), "
      "mean_active (non-zeros per row)");
  stats->add_option("X.npy", args->input, "rows [n x d] float32/float64")->required();
  add_sae_weights(stats, *args);
  add_sae_activation(stats, *args);
  stats->footer(examples);

  return {sub, [args, encode, decode, stats, &global] {
            if (encode->parsed()) return run_sae_encode(*args, global);
            if (decode->parsed()) return run_sae_decode(*args, global);
            if (stats->parsed()) return run_sae_stats(*args, global);
            usage_error("sae: expected `encode`, `decode` or `stats`");
          }};
}

}  // namespace latent::cli
