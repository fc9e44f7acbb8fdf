"""Probabilistic embeddings against numpy and scipy: the Gaussian divergences by
their formulas in float64 on Gaussians made from the bundled encoder latents
(means: one encoder; variances: the squared disagreement of a second one), the
KL search against numpy's argsort of the divergence matrix, log I_nu against
scipy.special.ive, and the vMF KL against a Monte-Carlo estimate from scipy's
sampler."""

import numpy as np
import pytest
import scipy.integrate
import scipy.special

import latent


@pytest.fixture(scope="module")
def gaussians(encoders):
    a, b, _ = encoders
    scale = 1 / np.linalg.norm(a, axis=1).mean()
    mean = (a * scale).astype(np.float32)
    variance = (((a - b) * scale) ** 2 + 0.01).astype(np.float32)
    return mean, variance


def kl_numpy(mq, vq, mb, vb):
    """KL(q_i || b_j) for every pair, float64."""
    mq, vq, mb, vb = (x.astype(np.float64)[:, None, :] if i < 2 else x.astype(np.float64)[None, :, :]
                      for i, x in enumerate((mq, vq, mb, vb)))
    return 0.5 * (np.log(vb / vq) + (vq + (mq - mb) ** 2) / vb - 1).sum(-1)


def test_divergences_match_numpy(gaussians):
    mean, variance = gaussians
    mq, vq, mb, vb = mean[:50], variance[:50], mean[50:250], variance[50:250]
    forward = kl_numpy(mq, vq, mb, vb)
    reverse = kl_numpy(mb, vb, mq, vq).T
    np.testing.assert_allclose(latent.kl_divergence(mq, vq, mb, vb), forward, rtol=1e-10)
    np.testing.assert_allclose(latent.kl_divergence(mq, vq, mb, vb, direction="reverse"), reverse, rtol=1e-10)
    np.testing.assert_allclose(latent.kl_divergence(mq, vq, mb, vb, direction="symmetric"), forward + reverse,
                               rtol=1e-10)
    q64, b64 = (mq.astype(np.float64), vq.astype(np.float64)), (mb.astype(np.float64), vb.astype(np.float64))
    dm = q64[0][:, None, :] - b64[0][None, :, :]
    sq, sb = q64[1][:, None, :], b64[1][None, :, :]
    w2 = np.sqrt((dm ** 2).sum(-1) + ((np.sqrt(sq) - np.sqrt(sb)) ** 2).sum(-1))
    bhattacharyya = (dm ** 2 / (4 * (sq + sb)) + 0.5 * np.log((sq + sb) / (2 * np.sqrt(sq * sb)))).sum(-1)
    expected = (dm ** 2).sum(-1) + sq.sum(-1) + sb.sum(-1)
    np.testing.assert_allclose(latent.wasserstein2_distance(mq, vq, mb, vb), w2, rtol=1e-12)
    np.testing.assert_allclose(latent.bhattacharyya_distance(mq, vq, mb, vb), bhattacharyya, rtol=1e-10)
    np.testing.assert_allclose(latent.expected_squared_distance(mq, vq, mb, vb), expected, rtol=1e-12)
    # base None: the queries against themselves; KL of a Gaussian to itself is 0.
    assert np.all(np.diag(latent.kl_divergence(mq, vq)) == 0)


@pytest.mark.parametrize("direction", ["forward", "reverse", "symmetric"])
def test_kl_knn_equals_numpy_argsort(gaussians, direction):
    mean, variance = gaussians
    base, queries = (mean[:1500], variance[:1500]), (mean[1500:], variance[1500:])
    ids, scores = latent.kl_knn(*base, *queries, k=10, direction=direction)
    divergences = latent.kl_divergence(*queries, *base, direction=direction)
    np.testing.assert_array_equal(ids, np.argsort(divergences, axis=1, kind="stable")[:, :10])
    np.testing.assert_array_equal(scores, np.take_along_axis(divergences, ids, 1).astype(np.float32))
    graph_ids, _ = latent.kl_knn(*base, k=5, direction=direction)
    assert (graph_ids != np.arange(1500)[:, None]).all()


def test_match_probability_of_point_masses_is_the_sigmoid(gaussians):
    mean, _ = gaussians
    tiny = np.full((20, mean.shape[1]), 1e-30, dtype=np.float64)
    m = mean[:20].astype(np.float64)
    p = latent.match_probability(m, tiny, scale=3.0, shift=2.0, samples=2)
    d = np.linalg.norm(m[:, None, :] - m[None, :, :], axis=-1)
    np.testing.assert_allclose(p, scipy.special.expit(-3.0 * d + 2.0), rtol=1e-9)


def test_log_bessel_and_vmf_match_scipy():
    for nu in (0.0, 0.5, 3.0, 31.0, 383.0):
        for x in (1e-3, 0.7, 12.0, 150.0, 900.0):
            scaled = scipy.special.ive(nu, x)
            if scaled > 0:  # scipy underflows where I_nu(x) < 1e-308; the C++ tests hold those to mpmath
                reference = np.log(scaled) + x
                assert latent.log_bessel_i(nu, x) == pytest.approx(reference, rel=1e-11, abs=1e-11)
    # vMF on S^9 (d = 10) by quadrature of the cosine's marginal, without Bessel functions:
    # the density of t = <x, mu> is exp(kappa t) (1 - t^2)^((d - 3) / 2) times the area of
    # S^(d-2), so log C_d = -log(area * integral) and E t is a ratio of two integrals.
    d = 10
    area = 2 * np.pi ** ((d - 1) / 2) / scipy.special.gamma((d - 1) / 2)

    def weight(t, kappa, power=0):
        # scaled by exp(-kappa) so the integrals stay finite; restored in log_c
        return t ** power * np.exp(kappa * (t - 1)) * (1 - t * t) ** ((d - 3) / 2)

    def log_c(kappa):
        return -(np.log(area * scipy.integrate.quad(weight, -1, 1, args=(kappa,))[0]) + kappa)

    def mean_cosine(kappa):
        return (scipy.integrate.quad(weight, -1, 1, args=(kappa, 1))[0]
                / scipy.integrate.quad(weight, -1, 1, args=(kappa,))[0])

    rng = np.random.default_rng(7)
    mu = rng.normal(size=(2, d))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    kappa = np.array([20.0, 8.0])
    for k in kappa:
        assert latent.vmf_log_normalizer(d, k) == pytest.approx(log_c(k), rel=1e-9)
        assert latent.vmf_mean_resultant_length(d, k) == pytest.approx(mean_cosine(k), rel=1e-9)
    expected = log_c(kappa[0]) - log_c(kappa[1]) + mean_cosine(kappa[0]) * (kappa[0] - kappa[1] * mu[0] @ mu[1])
    kl = latent.vmf_kl_divergence(mu[:1], kappa[:1], mu[1:], kappa[1:])[0, 0]
    assert kl == pytest.approx(expected, rel=1e-8)


def test_bad_inputs():
    with pytest.raises(latent.InvalidArgument, match="variance"):
        latent.kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(latent.DimensionMismatch):
        latent.kl_divergence(np.zeros((2, 3)), np.ones((2, 3)), np.zeros((2, 4)), np.ones((2, 4)))
    with pytest.raises(latent.InvalidK):
        latent.kl_knn(np.zeros((3, 2)), np.ones((3, 2)), k=3)
    with pytest.raises(ValueError, match="direction"):
        latent.kl_knn(np.zeros((3, 2)), np.ones((3, 2)), k=1, direction="both")
    with pytest.raises(latent.InvalidArgument, match="kappa"):
        latent.vmf_kl_divergence(np.ones((1, 3)), [0.0])
