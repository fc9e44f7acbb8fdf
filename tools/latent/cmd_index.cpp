// latent index build X.npy --factory STR --metric cosine|ip|l2|angular|hamming [--train T.npy] -o INDEX
// latent index search INDEX --query Q.npy -k K [--nprobe N] [--ef N] [--rerank none|exact|csls]
//                    --ids OUT.npy [--scores OUT.npy]
//
// A FAISS index through latent::index::FaissIndex (float rows) or
// FaissBinaryIndex (packed codes). The INDEX file is the
// adapter's checksummed container (metric, id map, FAISS's serialisation, the
// CSLS statistics fitted at build time for cosine / l2). Exact re-scoring reads
// the float rows from X.npy, memory-mapped at search time: build records its
// absolute path, shape, size and a checksum of its first and last 64 KiB, and
// search refuses a file that no longer matches. Scores are in the metric's units
// (l2 is the distance, not its square); after `--rerank csls` the rows follow
// CSLS's order and the scores are the metric's scores of those ids. Binary
// factories (BFlat, BHNSW32, BIVF256) index uint8 packed codes (`latent quantize
// --type binary`) under --metric hamming; scores are differing bits.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <variant>

#include "cli.hpp"
#include "latent/core/errors.hpp"
#include "latent/index/faiss_binary_index.hpp"

namespace latent::cli {
namespace {

// The tool's names of the re-ranking modes ("csls": the hubness reduction fitted at build).
constexpr NamedValue<index::Rerank> kRerankNames[] = {
    {"none", index::Rerank::none}, {"exact", index::Rerank::exact}, {"csls", index::Rerank::hubness}};

struct IndexArgs {
  // build
  std::string input, factory, metric, train, output;
  // search
  std::string index, query, ids, scores, rerank = "none";
  std::int64_t k = 10;
  int nprobe = 0, ef = 0;
};

// Size and FNV-1a of the first and last 64 KiB: enough to notice that the rows
// file was replaced or rewritten since the build, without reading all of it.
std::string fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const auto size = static_cast<std::uint64_t>(std::filesystem::file_size(path));
  constexpr std::uint64_t kSpan = 65536;
  std::uint64_t hash = 1469598103934665603ULL;
  std::string buffer(static_cast<std::size_t>(std::min(size, kSpan)), '\0');
  for (const std::uint64_t offset : {std::uint64_t{0}, size > kSpan ? size - kSpan : 0}) {
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    for (const char c : buffer) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return std::to_string(size) + ":" + std::to_string(hash);
}

// Packed codes [n x bytes] of a uint8 .npy, for binary indexes.
RowMatrix<std::uint8_t> read_codes(const std::string& path, const std::string& option) {
  const ArrayFile codes = open_input(path, option);
  return blame(option, path, [&] {
    if (codes.dtype() != DType::uint8) {
      throw Error("a binary index takes uint8 packed codes (latent quantize --type binary), not " +
                  std::string(to_string(codes.dtype())));
    }
    const MatrixView<std::uint8_t> view = codes.view<std::uint8_t>();
    return RowMatrix<std::uint8_t>(Eigen::Map<const RowMatrix<std::uint8_t>>(view.data, view.rows, view.cols));
  });
}

// Trains the index when it needs it, on X or on --train (read only then, by
// `with_train`, which hands the rows to its callback), then adds X.
template <class Index, class Rows, class WithTrain>
void train_and_add(Index& built, const IndexArgs& args, const GlobalOptions& global, const Rows& x,
                   WithTrain with_train) {
  if (!built.is_trained()) {
    if (args.train.empty()) {
      blame("X.npy", args.input, [&] { built.train(x, global.parallel()); });
    } else {
      with_train(
          [&](const Rows& train) { blame("--train", args.train, [&] { built.train(train, global.parallel()); }); });
    }
  }
  blame("X.npy", args.input, [&] { built.add(x, global.parallel()); });
}

// `index build --json`: one schema for float and binary indexes.
template <class Index>
void print_build_json(const IndexArgs& args, const Index& built, bool csls, const std::string& csls_note,
                      const nlohmann::json& rows_file, double build_seconds, double csls_seconds) {
  print_json({{"rows", built.ntotal()},
              {"dim", built.dim()},
              {"factory", args.factory},
              {"metric", args.metric},
              {"trained_on", args.train.empty() ? args.input : args.train},
              {"csls_statistics", csls},
              {"csls_note", csls ? nlohmann::json() : nlohmann::json(csls_note)},
              {"rows_file", rows_file},
              {"build_seconds", build_seconds},
              {"csls_seconds", csls_seconds},
              {"index", args.output}});
}

// A binary index over the packed codes of X.npy: Hamming distance, no CSLS.
int run_build_binary(const IndexArgs& args, const GlobalOptions& global) {
  require_writable(args.output, "-o");
  const RowMatrix<std::uint8_t> codes = read_codes(args.input, "X.npy");
  const auto start = std::chrono::steady_clock::now();
  index::FaissBinaryIndex built = blame("--factory", "'" + args.factory + "'",
                                        [&] { return index::FaissBinaryIndex(codes.cols() * 8, args.factory); });
  train_and_add(built, args, global, MatrixView<std::uint8_t>(codes), [&](const auto& use) {
    const RowMatrix<std::uint8_t> train = read_codes(args.train, "--train");
    use(MatrixView<std::uint8_t>(train));
  });
  const double build_seconds = seconds_since(start);
  built.save(args.output);
  if (global.json) {
    print_build_json(args, built, false, "not for hamming", nullptr, build_seconds, 0.0);
    return 0;
  }
  std::printf("index build: %lld codes x %lld bits, %s, hamming: %.3f s\n", static_cast<long long>(built.ntotal()),
              static_cast<long long>(built.dim()), args.factory.c_str(), build_seconds);
  std::printf("wrote %s (binary: --rerank exact and csls are unavailable for it)\n", args.output.c_str());
  return 0;
}

int run_build(const IndexArgs& args, const GlobalOptions& global) {
  if (index::is_binary_factory(args.factory) != (args.metric == "hamming")) {
    usage_error("--metric " + args.metric +
                ": binary factories (BFlat, BHNSW{M}, BIVF{n}) take --metric hamming, "
                "and only they do (factory '" +
                args.factory + "')");
  }
  if (index::is_binary_factory(args.factory)) return run_build_binary(args, global);
  const Metric metric = parse_metric(args.metric, "--metric");
  require_writable(args.output, "-o");
  const InputMatrix input(args.input, "X.npy");
  const auto start = std::chrono::steady_clock::now();
  index::FaissIndex built = blame("--factory", "'" + args.factory + "'",
                                  [&] { return index::FaissIndex(input.view().cols, args.factory, metric); });
  train_and_add(built, args, global, input.view(), [&](const auto& use) {
    const InputMatrix train(args.train, "--train");
    use(train.view());
  });
  const double build_seconds = seconds_since(start);

  // Exact re-scoring at search time reads the float32 rows of X.npy in place
  // (a plain .npy only: members of .npz and HDF5 files are not re-mapped).
  const bool rows_file = input.mapped_npy();
  if (rows_file) {
    const std::string absolute = std::filesystem::absolute(args.input).lexically_normal().string();
    built.set_metadata("rows_path", absolute);
    built.set_metadata("rows_fingerprint", fingerprint(absolute));
    built.attach_vectors(input.view());
  }
  // CSLS statistics, fitted once: each row's 10 nearest through the index itself.
  // Wide nprobe / efSearch so that approximate indexes find every row's list;
  // when they still cannot (tiny IVF lists), the index is saved without them.
  bool csls = false;
  std::string csls_note = metric == Metric::ip ? "not for ip" : "10 rows or fewer";
  double csls_seconds = 0;
  if (metric != Metric::ip && built.ntotal() > 10) {
    const auto csls_start = std::chrono::steady_clock::now();
    ReductionOptions reduction;
    reduction.method = Reduction::csls;
    index::IndexSearchOptions options;
    options.parallel = global.parallel();
    options.nprobe = 64;
    options.ef_search = 64;
    try {
      built.fit_hubness(reduction, 0, options);
      csls = true;
    } catch (const InvalidArgument& e) {
      csls_note = e.what();
    }
    csls_seconds = seconds_since(csls_start);
  }
  built.save(args.output);

  if (global.json) {
    print_build_json(args, built, csls, csls_note,
                     rows_file ? nlohmann::json(built.metadata("rows_path")) : nlohmann::json(), build_seconds,
                     csls_seconds);
    return 0;
  }
  std::printf("index build: %lld rows x %lld-d, %s, %s: %.3f s\n", static_cast<long long>(built.ntotal()),
              static_cast<long long>(built.dim()), args.factory.c_str(), args.metric.c_str(), build_seconds);
  if (csls) {
    std::printf("CSLS statistics (10 neighbours per row, through the index): %.3f s\n", csls_seconds);
  } else {
    std::printf("no CSLS statistics (--rerank csls unavailable): %s\n", csls_note.c_str());
  }
  std::printf("wrote %s%s\n", args.output.c_str(),
              rows_file ? "" : " (rows were not a float32 .npy: --rerank exact is unavailable for it)");
  return 0;
}

// What `index search` reports about the searched index, for either kind.
struct SearchedIndex {
  std::int64_t rows = 0, dim = 0;
  std::string factory, metric;
};

int report_search(const IndexArgs& args, const GlobalOptions& global, const SearchedIndex& searched,
                  const KnnGraph& graph, double seconds) {
  write_graph(graph, args.ids, args.scores);
  std::int64_t missing = 0;
  for (Eigen::Index i = 0; i < graph.ids.size(); ++i) missing += graph.ids.data()[i] < 0 ? 1 : 0;
  if (global.json) {
    print_json({{"queries", graph.n_queries()},
                {"k", args.k},
                {"rows", searched.rows},
                {"dim", searched.dim},
                {"factory", searched.factory},
                {"metric", searched.metric},
                {"nprobe", args.nprobe},
                {"ef", args.ef},
                {"rerank", args.rerank},
                {"missing", missing},
                {"seconds", seconds},
                {"ids", args.ids},
                {"scores", args.scores.empty() ? nlohmann::json() : nlohmann::json(args.scores)}});
    return 0;
  }
  std::printf("index search: %lld queries x %lld rows (%s, %s), k=%lld, rerank %s: %.3f s (%.0f queries/s)\n",
              static_cast<long long>(graph.n_queries()), static_cast<long long>(searched.rows),
              searched.factory.c_str(), searched.metric.c_str(), static_cast<long long>(args.k), args.rerank.c_str(),
              seconds, seconds > 0 ? static_cast<double>(graph.n_queries()) / seconds : 0.0);
  if (missing > 0) {
    std::printf("%lld neighbour slots found nothing (id -1, score NaN): raise --nprobe or --ef\n",
                static_cast<long long>(missing));
  }
  print_wrote_graph(graph.n_queries(), graph.k(), args.ids, args.scores);
  return 0;
}

index::IndexSearchOptions search_options(const IndexArgs& args, const GlobalOptions& global) {
  index::IndexSearchOptions options;
  options.parallel = global.parallel();
  options.nprobe = args.nprobe;
  options.ef_search = args.ef;
  options.rerank = parse_name(kRerankNames, args.rerank, "index search", "--rerank", "re-ranking");
  return options;
}

// A binary index reads uint8 codes and has nothing to re-rank.
int search_binary(const IndexArgs& args, const GlobalOptions& global, const index::FaissBinaryIndex& loaded) {
  if (args.rerank != "none") {
    usage_error("--rerank " + args.rerank + ": INDEX " + args.index +
                " is binary (Hamming); it has no float rows "
                "to re-score (FaissBinaryIndex::search_rescored does it in C++)");
  }
  const index::IndexSearchOptions options = search_options(args, global);
  const RowMatrix<std::uint8_t> query_codes = read_codes(args.query, "--query");
  const auto start = std::chrono::steady_clock::now();
  const KnnGraph graph = blame("--query", args.query, [&] { return loaded.search(query_codes, args.k, options); });
  const double seconds = seconds_since(start);
  return report_search(args, global, {loaded.ntotal(), loaded.dim(), loaded.factory(), "hamming"}, graph, seconds);
}

// A float index reads float rows (memory-mapped float32); re-ranking may map X.npy.
int search_float(const IndexArgs& args, const GlobalOptions& global, index::FaissIndex& loaded) {
  const index::IndexSearchOptions options = search_options(args, global);
  std::unique_ptr<MappedNpy> rows;
  if (options.rerank != index::Rerank::none) {
    if (options.rerank == index::Rerank::hubness && !loaded.hubness_fitted()) {
      throw Error("INDEX " + args.index + ": has no CSLS statistics (metric ip, or 10 rows or fewer)");
    }
    const std::string path = loaded.metadata("rows_path");
    if (path.empty() && options.rerank == index::Rerank::exact) {
      throw Error("INDEX " + args.index + ": was built from rows that were not float32; --rerank exact needs them");
    }
    if (!path.empty()) {
      if (!std::filesystem::exists(path) || fingerprint(path) != loaded.metadata("rows_fingerprint")) {
        throw Error("INDEX " + args.index + ": its rows file " + path +
                    " is missing or changed since the build (--rerank " + args.rerank + " reads it)");
      }
      rows = std::make_unique<MappedNpy>(path);
      blame("INDEX", args.index, [&] { loaded.attach_vectors(rows->view<float>()); });
    }
  }
  const InputMatrix query(args.query, "--query");
  const auto start = std::chrono::steady_clock::now();
  const KnnGraph graph = blame("--query", args.query, [&] { return loaded.search(query.view(), args.k, options); });
  const double seconds = seconds_since(start);
  const SearchedIndex searched{loaded.ntotal(), loaded.dim(), loaded.factory(),
                               std::string(to_string(loaded.metric()))};
  return report_search(args, global, searched, graph, seconds);
}

int run_search(const IndexArgs& args, const GlobalOptions& global) {
  require_writable(args.ids, "--ids");
  if (!args.scores.empty()) require_writable(args.scores, "--scores");
  auto loaded = blame("INDEX", args.index, [&] { return index::load_any_faiss_index(args.index); });
  if (auto* binary = std::get_if<index::FaissBinaryIndex>(&loaded)) return search_binary(args, global, *binary);
  return search_float(args, global, std::get<index::FaissIndex>(loaded));
}

}  // namespace

Command register_index(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("index", "build and search FAISS indexes (FAISS factory strings)");
  sub->require_subcommand(1);
  sub->footer(
      "Examples (see `latent index build --help` and `latent index search --help`):\n"
      "  latent index build train.npy --factory HNSW32 --metric l2 -o train.hnsw\n"
      "  latent index search train.hnsw --query test.npy -k 10 --ef 128 --ids ids.npy\n"
      "  latent index build codes.npy --factory BHNSW32 --metric hamming -o codes.bhnsw");
  auto args = std::make_shared<IndexArgs>();

  auto* build = sub->add_subcommand("build", "build an index over the rows of X.npy");
  build
      ->add_option("X.npy", args->input,
                   "the rows to index, [n x d] float32/float64 .npy (binary factories: uint8 packed codes)")
      ->required();
  build
      ->add_option("--factory", args->factory,
                   "FAISS factory string: Flat, HNSW32, IVF256,Flat, IVF256,PQ16, ...; binary: BFlat, BHNSW32, BIVF256")
      ->required();
  build
      ->add_option("--metric", args->metric,
                   "cosine, ip, l2 or angular (searched as cosine, scored 1 - arccos(cosine) / pi); hamming for the "
                   "binary factories")
      ->required()
      ->check(CLI::IsMember({"cosine", "ip", "l2", "angular", "hamming"}));
  build->add_option("--train", args->train, "training rows (default: X.npy) for indexes that need training");
  build->add_option("-o", args->output, "output: the index file")->required();
  build->footer(
      "Examples:\n"
      "  latent index build train.npy --factory HNSW32 --metric l2 -o train.hnsw\n"
      "  latent index build train.npy --factory IVF256,PQ16 --metric cosine -o train.ivfpq --json\n"
      "  latent quantize train.npy --type binary -o codes.npy &&\n"
      "    latent index build codes.npy --factory BHNSW32 --metric hamming -o codes.bhnsw");

  auto* search = sub->add_subcommand("search", "the k nearest indexed rows of each query row");
  search->add_option("INDEX", args->index, "an index file from `latent index build`")->required();
  search->add_option("--query", args->query, "query rows [m x d] .npy (binary index: uint8 packed codes)")->required();
  search->add_option("-k", args->k, "neighbours per query")->required()->check(at_least(1));
  search->add_option("--nprobe", args->nprobe, "IVF lists visited (default: 1)")->check(CLI::Range(1, 1 << 20));
  search->add_option("--ef", args->ef, "HNSW efSearch (default: 16)")->check(CLI::Range(1, 1 << 20));
  search
      ->add_option("--rerank", args->rerank,
                   "none, exact (re-score the top max(100, 4k) candidates with the float rows of X.npy) or "
                   "csls (re-rank them by CSLS with the statistics fitted at build)")
      ->check(CLI::IsMember(names_of(kRerankNames)));
  search->add_option("--ids", args->ids, "output: int64 [m x k] neighbour ids (-1: none found)")->required();
  search->add_option("--scores", args->scores,
                     "output: float32 [m x k] scores in the metric's units (binary: differing bits)");
  search->footer(
      "Examples:\n"
      "  latent index search train.hnsw --query test.npy -k 10 --ef 128 --ids ids.npy --scores scores.npy\n"
      "  latent index search train.ivfpq --query test.npy -k 10 --nprobe 16 --rerank exact --ids ids.npy");

  return {sub, [args, build, search, &global] {
            if (build->parsed()) return run_build(*args, global);
            if (search->parsed()) return run_search(*args, global);
            usage_error("index: expected `build` or `search`");
          }};
}

}  // namespace latent::cli
