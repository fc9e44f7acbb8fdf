// Relative representations between two independently trained encoders: the
// bundled latents of the same 2000 Fashion-MNIST test images under two MLPs that
// differ only in their random seed. Their absolute coordinates are unrelated
// (an image's vector in one space says nothing about its vector in the other),
// but the cosines to a shared set of anchor images agree, so a query from one
// space finds its counterpart in the other zero-shot. A map fitted on the
// anchor pairs (affine least squares) does better still.
//
//   relative_encoders [A.npy B.npy]     (default: data/encoders/mlp_seed{0,1}.npy)
//
// Exits 1 unless the relative MRR is at least 10 times the absolute MRR.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "latent/core/io.hpp"
#include "latent/relative.hpp"

int main(int argc, char** argv) {
  const std::string data = LATENT_DATA_DIR;
  const std::string a_path = argc > 2 ? argv[1] : data + "/encoders/mlp_seed0.npy";
  const std::string b_path = argc > 2 ? argv[2] : data + "/encoders/mlp_seed1.npy";
  try {
    const latent::RowMatrixf a = latent::read_npy_matrix<float>(a_path);
    const latent::RowMatrixf b = latent::read_npy_matrix<float>(b_path);
    const latent::MatrixView<float> va(a), vb(b);

    // 128 anchors: the same rows (images) in both spaces, sampled with a fixed seed.
    latent::AnchorOptions sample;
    sample.seed = 0;
    const std::vector<std::int64_t> anchors = latent::select_anchors(va, 128, sample);

    // Each row becomes its cosines to the anchors of its own space (L1 distances work even better).
    latent::RelativeOptions relative;
    relative.similarities = {latent::RelativeSimilarity::cosine};
    latent::RelativeProjection<float> in_a(relative), in_b(relative);
    in_a.fit(va, anchors);
    in_b.fit(vb, anchors);
    const latent::RowMatrixf ra = in_a.transform(va);
    const latent::RowMatrixf rb = in_b.transform(vb);

    // A map from A to B fitted on the anchor pairs only.
    latent::TranslationOptions translation;
    translation.method = latent::TranslationMethod::affine;
    latent::LatentTranslator<float> translator(translation);
    translator.fit(va, vb, anchors);
    const latent::RowMatrixf mapped = translator.transform(va);

    // MRR: how highly each image's counterpart ranks among all 2000 rows of the other space.
    const auto absolute = latent::compare_spaces(va, vb);
    const auto rel = latent::compare_spaces(ra, rb);
    const auto translated = latent::compare_spaces(mapped, vb);
    std::printf("%lld images, %zu anchors: counterpart retrieval across two encoders\n",
                static_cast<long long>(a.rows()), anchors.size());
    std::printf("%-22s %8s %8s %8s\n", "representation", "mrr", "top1", "jaccard");
    std::printf("%-22s %8.4f %8.4f %8.4f\n", "absolute", absolute.mrr, absolute.top1, absolute.jaccard);
    std::printf("%-22s %8.4f %8.4f %8.4f\n", "relative (cosine)", rel.mrr, rel.top1, rel.jaccard);
    std::printf("%-22s %8.4f %8.4f %8.4f\n", "translated (affine)", translated.mrr, translated.top1,
                translated.jaccard);
    if (!(rel.mrr >= 10 * absolute.mrr)) {
      std::fprintf(stderr, "relative_encoders: relative MRR %.4f is not 10x the absolute %.4f\n", rel.mrr,
                   absolute.mrr);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relative_encoders: %s\n", e.what());
    return 1;
  }
}
