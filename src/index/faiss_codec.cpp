// Vector codecs: PQ and OPQ through FAISS's ProductQuantizer and OPQMatrix, VQ
// through latent::index::kmeans and the exact search. The codebooks are plain
// arrays (PQ centroids [M 2^bits x d / M], the rotation [d x d], VQ centroids) so
// they are saved with core/io's ModelWriter and rebuilt into FAISS objects on load.
#include "latent/index/faiss_codec.hpp"

#include <faiss/VectorTransform.h>
#include <faiss/impl/ProductQuantizer.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "faiss_detail.hpp"
#include "latent/core/errors.hpp"
#include "latent/core/model_file.hpp"
#include "latent/core/names.hpp"
#include "latent/index/faiss_clustering.hpp"
#include "latent/similarity/search.hpp"

namespace latent::index {
namespace {

constexpr const char* kKind = "vector_codec";
constexpr std::uint32_t kKindVersion = 1;
constexpr NamedValue<CodecKind> kCodecNames[] = {{"pq", CodecKind::pq}, {"opq", CodecKind::opq}, {"vq", CodecKind::vq}};

// Bytes of a VQ id: enough for ids 0 .. centroids - 1.
std::int64_t id_bytes(std::int64_t centroids) {
  std::int64_t bytes = 1;
  while (bytes < 8 && (centroids - 1) >> (8 * bytes) != 0) ++bytes;
  return bytes;
}

void check_options(const CodecOptions& options) {
  const char* function = "VectorCodec";
  if (options.iterations < 1 || options.iterations > INT_MAX)
    raise<InvalidArgument>(function, "iterations", "must be >= 1", std::to_string(options.iterations));
  if (options.rotation_iterations < 1 || options.rotation_iterations > INT_MAX)
    raise<InvalidArgument>(function, "rotation_iterations", "must be >= 1",
                           std::to_string(options.rotation_iterations));
  if (options.kind == CodecKind::vq) {
    if (options.centroids < 1 || options.centroids > INT_MAX)
      raise<InvalidArgument>(function, "centroids", "must be >= 1", std::to_string(options.centroids));
  } else {
    if (options.subquantizers < 1 || options.subquantizers > INT_MAX)
      raise<InvalidArgument>(function, "subquantizers", "must be >= 1", std::to_string(options.subquantizers));
    if (options.bits < 1 || options.bits > 16)
      raise<InvalidArgument>(function, "bits", "must be in 1..16", std::to_string(options.bits));
  }
}

}  // namespace

struct VectorCodec::Impl {
  CodecOptions options;
  std::int64_t dim = 0;
  std::unique_ptr<faiss::ProductQuantizer> pq;  // pq, opq
  RowMatrixf rotation;                          // opq: R [d x d], rotated = x R
  RowMatrixf centroids;                         // vq

  std::int64_t code_size() const {
    if (dim == 0) return 0;
    return options.kind == CodecKind::vq ? id_bytes(options.centroids) : static_cast<std::int64_t>(pq->code_size);
  }
  RowMatrixf rotated(const MatrixView<float>& x) const {
    if (options.kind != CodecKind::opq) return RowMatrixf(x.map());
    return x.map() * rotation;
  }
};

std::string_view to_string(CodecKind kind) { return name_of(kCodecNames, kind); }

CodecKind parse_codec_kind(std::string_view name, std::string_view argument) {
  return parse_name(kCodecNames, name, "parse_codec_kind", argument, "codec");
}

VectorCodec::VectorCodec(const CodecOptions& options) : impl_(std::make_unique<Impl>()) {
  check_options(options);
  impl_->options = options;
}
VectorCodec::~VectorCodec() = default;
VectorCodec::VectorCodec(VectorCodec&&) noexcept = default;
VectorCodec& VectorCodec::operator=(VectorCodec&&) noexcept = default;

bool VectorCodec::is_fitted() const { return impl_->dim > 0; }
const CodecOptions& VectorCodec::options() const { return impl_->options; }
std::int64_t VectorCodec::dim() const { return impl_->dim; }
std::int64_t VectorCodec::code_size() const { return impl_->code_size(); }

VectorCodec& VectorCodec::fit(const MatrixView<float>& training) {
  constexpr std::string_view kFunction = "VectorCodec::fit";
  require_non_empty(kFunction, "training", training);
  require_finite(kFunction, "training", training);
  const CodecOptions& o = impl_->options;
  const std::int64_t d = training.cols, n = training.rows;
  auto fitted = std::make_unique<Impl>();
  fitted->options = o;
  if (o.kind == CodecKind::vq) {
    if (n < o.centroids)
      raise<InvalidArgument>(kFunction, "training", "needs at least `centroids` rows",
                             "rows=" + std::to_string(n) + ", centroids=" + std::to_string(o.centroids));
    KMeansOptions kmeans_options;
    kmeans_options.iterations = o.iterations;
    kmeans_options.seed = o.seed;
    kmeans_options.parallel = o.parallel;
    fitted->centroids = kmeans(training, o.centroids, kmeans_options).centroids;
  } else {
    if (d % o.subquantizers != 0)
      raise<InvalidArgument>(kFunction, "subquantizers", "must divide the dimension",
                             "dim=" + std::to_string(d) + ", subquantizers=" + std::to_string(o.subquantizers));
    const std::int64_t ksub = std::int64_t{1} << o.bits;
    if (n < ksub)
      raise<InvalidArgument>(kFunction, "training", "needs at least 2^bits rows",
                             "rows=" + std::to_string(n) + ", 2^bits=" + std::to_string(ksub));
    RowMatrixf rows(training.map());
    call_faiss(kFunction, [&] {
      const ThreadScope threads(o.parallel);
      fitted->pq = std::make_unique<faiss::ProductQuantizer>(
          static_cast<std::size_t>(d), static_cast<std::size_t>(o.subquantizers), static_cast<std::size_t>(o.bits));
      fitted->pq->cp.niter = static_cast<int>(o.iterations);
      fitted->pq->cp.seed = static_cast<int>(o.seed & 0x7fffffffU);
      fitted->pq->cp.verbose = false;
      fitted->pq->cp.min_points_per_centroid = 1;  // FAISS only warns on stderr below its minimum
      fitted->pq->verbose = false;
      if (o.kind == CodecKind::opq) {
        // OPQ alternates PQ training and rotation updates (with our PQ, so its bits);
        // the PQ is then trained again on the rows under the final rotation.
        faiss::OPQMatrix opq(static_cast<int>(d), static_cast<int>(o.subquantizers));
        opq.verbose = false;
        opq.niter = static_cast<int>(o.rotation_iterations);
        opq.pq = fitted->pq.get();
        opq.train(static_cast<faiss::Index::idx_t>(n), rows.data());
        // FAISS applies A to column vectors (y = A x); with rows, x R with R = A^T.
        fitted->rotation = Eigen::Map<const RowMatrixf>(opq.A.data(), d, d).transpose();
        rows = rows * fitted->rotation;
        fitted->pq->cp.niter = static_cast<int>(o.iterations);  // OPQ leaves its own short count there
      }
      fitted->pq->train(static_cast<std::size_t>(n), rows.data());
    });
  }
  fitted->dim = d;
  impl_ = std::move(fitted);
  return *this;
}

RowMatrix<std::uint8_t> VectorCodec::encode(const MatrixView<float>& x) const {
  constexpr std::string_view kFunction = "VectorCodec::encode";
  if (!is_fitted()) raise<NotFitted>(kFunction, "codec", "is not fitted (call fit first)");
  require_same_dim(kFunction, "x", x.cols, "the fitted dimension", impl_->dim);
  require_finite(kFunction, "x", x);
  RowMatrix<std::uint8_t> codes = RowMatrix<std::uint8_t>::Zero(x.rows, code_size());
  if (x.rows == 0) return codes;
  if (impl_->options.kind == CodecKind::vq) {
    const std::vector<std::int64_t> ids = assign(x);
    const std::int64_t bytes = code_size();
    for (std::int64_t i = 0; i < x.rows; ++i)
      for (std::int64_t b = 0; b < bytes; ++b)
        codes(i, b) =
            static_cast<std::uint8_t>((static_cast<std::uint64_t>(ids[static_cast<std::size_t>(i)]) >> (8 * b)) & 0xff);
    return codes;
  }
  const RowMatrixf rows = impl_->rotated(x);
  call_faiss(kFunction, [&] {
    const ThreadScope threads(impl_->options.parallel);
    impl_->pq->compute_codes(rows.data(), codes.data(), static_cast<std::size_t>(x.rows));
  });
  return codes;
}

RowMatrixf VectorCodec::decode(const MatrixView<std::uint8_t>& codes) const {
  constexpr std::string_view kFunction = "VectorCodec::decode";
  if (!is_fitted()) raise<NotFitted>(kFunction, "codec", "is not fitted (call fit first)");
  require_same_dim(kFunction, "codes", codes.cols, "the code size", code_size());
  const std::int64_t d = impl_->dim;
  RowMatrixf out(codes.rows, d);
  if (codes.rows == 0) return out;
  if (impl_->options.kind == CodecKind::vq) {
    for (std::int64_t i = 0; i < codes.rows; ++i) {
      std::uint64_t id = 0;
      for (std::int64_t b = 0; b < codes.cols; ++b) id |= static_cast<std::uint64_t>(codes.row(i)[b]) << (8 * b);
      if (id >= static_cast<std::uint64_t>(impl_->centroids.rows()))
        raise<InvalidArgument>(kFunction, "codes", "name a centroid outside the codebook",
                               "row " + std::to_string(i) + ", id " + std::to_string(id));
      out.row(i) = impl_->centroids.row(static_cast<Eigen::Index>(id));
    }
    return out;
  }
  const RowMatrix<std::uint8_t> packed(codes.map());
  call_faiss(kFunction, [&] {
    const ThreadScope threads(impl_->options.parallel);
    impl_->pq->decode(packed.data(), out.data(), static_cast<std::size_t>(codes.rows));
  });
  if (impl_->options.kind == CodecKind::opq) out = out * impl_->rotation.transpose();
  return out;
}

std::vector<std::int64_t> VectorCodec::assign(const MatrixView<float>& x) const {
  constexpr std::string_view kFunction = "VectorCodec::assign";
  if (!is_fitted()) raise<NotFitted>(kFunction, "codec", "is not fitted (call fit first)");
  if (impl_->options.kind != CodecKind::vq)
    raise<InvalidArgument>(kFunction, "codec", "assign is for vq (pq and opq codes hold one id per sub-vector)");
  require_same_dim(kFunction, "x", x.cols, "the fitted dimension", impl_->dim);
  SearchOptions search;
  search.parallel = impl_->options.parallel;
  const KnnGraph nearest = knn(x, MatrixView<float>(impl_->centroids), 1, Metric::sqeuclidean, search);
  return std::vector<std::int64_t>(nearest.ids.data(), nearest.ids.data() + nearest.ids.size());
}

double VectorCodec::reconstruction_error(const MatrixView<float>& x) const {
  const RowMatrixf back = decode(encode(x));
  if (x.rows == 0) return 0.0;
  return (back.cast<double>() - x.map().cast<double>()).rowwise().squaredNorm().mean();
}

void VectorCodec::save(const std::string& path) const {
  if (!is_fitted()) raise<NotFitted>("VectorCodec::save", "codec", "is not fitted (call fit first)");
  const CodecOptions& o = impl_->options;
  ModelWriter writer(kKind, kKindVersion);
  writer.put("kind", std::string(to_string(o.kind)));
  writer.put("dim", impl_->dim);
  writer.put("subquantizers", o.subquantizers);
  writer.put("bits", static_cast<std::int64_t>(o.bits));
  writer.put("centroids", o.centroids);
  const auto as_double = [](const RowMatrixf& m) { return RowMatrixd(m.cast<double>()); };
  if (o.kind == CodecKind::vq) {
    writer.put("codebook", MatrixView<double>(as_double(impl_->centroids)));
  } else {
    const auto rows = static_cast<std::int64_t>(impl_->pq->M * impl_->pq->ksub);
    const RowMatrixf codebook =
        Eigen::Map<const RowMatrixf>(impl_->pq->centroids.data(), rows, static_cast<std::int64_t>(impl_->pq->dsub));
    writer.put("codebook", MatrixView<double>(as_double(codebook)));
    if (o.kind == CodecKind::opq) writer.put("rotation", MatrixView<double>(as_double(impl_->rotation)));
  }
  writer.save(path);
}

VectorCodec VectorCodec::load(const std::string& path) {
  const ModelReader reader(path, kKind, kKindVersion);
  const auto corrupt = [&](const std::string& what) {
    throw IoError("latent::index::VectorCodec::load: " + path + ": " + what);
  };
  CodecOptions options;
  options.kind = parse_codec_kind(reader.get_string("kind"), "kind");
  options.subquantizers = reader.get_int("subquantizers");
  options.bits = static_cast<int>(reader.get_int("bits"));
  options.centroids = reader.get_int("centroids");
  try {
    check_options(options);
  } catch (const InvalidArgument& e) {
    corrupt(e.what());
  }
  VectorCodec codec(options);
  const std::int64_t d = reader.get_int("dim");
  const RowMatrixd codebook = reader.get_matrix("codebook");
  if (d < 1) corrupt("dimension " + std::to_string(d));
  if (!codebook.allFinite()) corrupt("non-finite codebook");
  if (options.kind == CodecKind::vq) {
    if (codebook.rows() != options.centroids || codebook.cols() != d) corrupt("codebook shape");
    codec.impl_->centroids = codebook.cast<float>();
  } else {
    if (d % options.subquantizers != 0) corrupt("subquantizers do not divide the dimension");
    const std::int64_t ksub = std::int64_t{1} << options.bits;
    if (codebook.rows() != options.subquantizers * ksub || codebook.cols() != d / options.subquantizers)
      corrupt("codebook shape");
    call_faiss("VectorCodec::load", [&] {
      codec.impl_->pq = std::make_unique<faiss::ProductQuantizer>(static_cast<std::size_t>(d),
                                                                  static_cast<std::size_t>(options.subquantizers),
                                                                  static_cast<std::size_t>(options.bits));
      const RowMatrixf floats = codebook.cast<float>();
      std::copy(floats.data(), floats.data() + floats.size(), codec.impl_->pq->centroids.begin());
    });
    if (options.kind == CodecKind::opq) {
      const RowMatrixd rotation = reader.get_matrix("rotation");
      if (rotation.rows() != d || rotation.cols() != d || !rotation.allFinite()) corrupt("rotation shape");
      codec.impl_->rotation = rotation.cast<float>();
    }
  }
  codec.impl_->dim = d;
  return codec;
}

}  // namespace latent::index
