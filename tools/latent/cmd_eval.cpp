// latent eval --ids IDS.npy --relevance REL -k K [--json]
//
// Retrieval metrics (recall@k, precision@k, Hit@k, MRR@k, nDCG@k, MAP@k, and
// over the whole list R-precision and the median / mean rank of the first
// relevant id; definitions in latent/metrics.hpp) of ranked lists IDS
// (int64/int32 [n_queries x K], nearest first, -1 = missing; e.g.
// `latent knn --ids`) against relevance judgements REL:
// - a .npy of int64/int32 ids: [n_queries] (one relevant id per query) or
//   [n_queries x r] (several; -1 entries are padding);
// - any other file is text: one judgement per line, "query_row doc_id [gain]"
//   separated by blanks; gain defaults to 1 and only shapes nDCG; a gain of 0 is a
//   judged non-relevant id (ignored); blank lines and lines starting with '#' are
//   skipped. Queries without a relevant id are skipped and counted.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "latent/metrics.hpp"

namespace latent::cli {
namespace {

struct EvalArgs {
  std::string ids, relevance;
  std::int64_t k = 10;
};

// An int64 or int32 array (.npy, .npz member, HDF5 dataset such as an
// ann-benchmarks `neighbors`) as an id matrix (1-D: one column).
IdMatrix read_id_matrix(const std::string& path, const std::string& option) {
  const ArrayFile array = open_input(path, option);
  const auto& shape = array.shape();
  if ((shape.size() != 1 && shape.size() != 2) || (array.dtype() != DType::int64 && array.dtype() != DType::int32))
    throw IoError(option + ": " + path + ": expected a 1-D or 2-D int64 or int32 array of ids, got " +
                  array.describe());
  return array.matrix<std::int64_t>();
}

Relevance read_relevance(const std::string& path, std::int64_t n_queries) {
  Relevance relevance;
  relevance.ids.resize(static_cast<std::size_t>(n_queries));
  if (is_array_spec(path)) {
    const IdMatrix ids = read_id_matrix(path, "--relevance");
    if (ids.rows() != n_queries)
      throw IoError("--relevance " + path + ": has " + std::to_string(ids.rows()) + " rows, --ids has " +
                    std::to_string(n_queries) + " queries");
    for (std::int64_t i = 0; i < ids.rows(); ++i)
      for (std::int64_t j = 0; j < ids.cols(); ++j)
        if (ids(i, j) >= 0) relevance.ids[static_cast<std::size_t>(i)].push_back(ids(i, j));
    return relevance;
  }
  std::ifstream in(path);
  if (!in) throw IoError("--relevance " + path + ": cannot be opened");
  relevance.gains.resize(static_cast<std::size_t>(n_queries));
  std::string line;
  for (std::int64_t number = 1; std::getline(in, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    std::int64_t query = 0, id = 0;
    double gain = 1.0;
    std::string extra;
    if (!(fields >> query >> id) || (!(fields >> gain) && !fields.eof()) || (fields >> extra))
      throw IoError("--relevance " + path + ": line " + std::to_string(number) +
                    ": expected 'query_row doc_id [gain]', got '" + line + "'");
    if (query < 0 || query >= n_queries)
      throw IoError("--relevance " + path + ": line " + std::to_string(number) + ": query row " +
                    std::to_string(query) + " outside the " + std::to_string(n_queries) + " rows of --ids");
    if (!(gain >= 0)) throw IoError("--relevance " + path + ": line " + std::to_string(number) + ": gain must be >= 0");
    if (gain == 0) continue;
    relevance.ids[static_cast<std::size_t>(query)].push_back(id);
    relevance.gains[static_cast<std::size_t>(query)].push_back(gain);
  }
  return relevance;
}

int run_eval(const EvalArgs& args, const GlobalOptions& global) {
  const IdMatrix ids = read_id_matrix(args.ids, "--ids");
  if (args.k > ids.cols())
    usage_error("-k " + std::to_string(args.k) + " exceeds the " + std::to_string(ids.cols()) + " columns of --ids");
  const Relevance relevance = read_relevance(args.relevance, ids.rows());
  const RetrievalScores scores =
      blame("--relevance", args.relevance, [&] { return retrieval_scores(ids, relevance, args.k); });
  if (global.json) {
    print_json({{"k", scores.k},
                {"queries", scores.queries},
                {"skipped", scores.skipped},
                {"recall", scores.recall},
                {"precision", scores.precision},
                {"mrr", scores.mrr},
                {"ndcg", scores.ndcg},
                {"map", scores.map},
                {"hit@k", scores.hit},
                {"r_precision", scores.r_precision},
                {"median_rank", scores.median_rank},
                {"mean_rank", scores.mean_rank},
                {"unranked", scores.unranked}});
    return 0;
  }
  std::printf("eval: %lld queries (%lld without relevant ids skipped), k=%lld\n",
              static_cast<long long>(scores.queries), static_cast<long long>(scores.skipped),
              static_cast<long long>(scores.k));
  std::printf("recall@%lld %.4f  precision@%lld %.4f  MRR@%lld %.4f  nDCG@%lld %.4f  MAP@%lld %.4f\n",
              static_cast<long long>(scores.k), scores.recall, static_cast<long long>(scores.k), scores.precision,
              static_cast<long long>(scores.k), scores.mrr, static_cast<long long>(scores.k), scores.ndcg,
              static_cast<long long>(scores.k), scores.map);
  std::printf("hit@%lld %.4f  R-precision %.4f  median rank %.1f  mean rank %.2f (%lld queries with no hit in %lld)\n",
              static_cast<long long>(scores.k), scores.hit, scores.r_precision, scores.median_rank, scores.mean_rank,
              static_cast<long long>(scores.unranked), static_cast<long long>(ids.cols()));
  return 0;
}

}  // namespace

Command register_eval(CLI::App& app, const GlobalOptions& global) {
  auto* sub = app.add_subcommand("eval", "retrieval metrics of ranked ids against relevance judgements");
  auto args = std::make_shared<EvalArgs>();
  sub->add_option("--ids", args->ids, "ranked ids, int64/int32 [n_queries x K] .npy (e.g. latent knn --ids)")
      ->required();
  sub->add_option("--relevance", args->relevance,
                  "relevant ids: .npy int64 [n_queries] or [n_queries x r] (-1 padding), or a text file of "
                  "'query_row doc_id [gain]' lines")
      ->required();
  sub->add_option("-k", args->k, "cut-off (default 10, at most K)")->check(at_least(1));
  sub->footer(
      "Examples:\n"
      "  latent knn --base B.npy --query Q.npy -k 100 --metric cosine --ids run.npy\n"
      "  latent eval --ids run.npy --relevance qrels.txt -k 10 --json");
  return {sub, [args, &global] { return run_eval(*args, global); }};
}

}  // namespace latent::cli
