"""File reading and writing, quantization, pooling, truncation and MUVERA."""

import numpy as np
import pytest

import latent


def test_npy_round_trip(tmp_path):
    for dtype in (np.float32, np.float64, np.int64, np.int32, np.uint8, np.int8, np.uint16, np.float16, np.bool_):
        values = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
        latent.write_npy(str(tmp_path / "a.npy"), values)
        np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), values)
        back = latent.read(str(tmp_path / "a.npy"))
        assert back.dtype == values.dtype and back.shape == values.shape
        np.testing.assert_array_equal(back, values)


def test_corrupt_npy_is_oserror(tmp_path):
    path = tmp_path / "bad.npy"
    np.save(path, np.ones((10, 10), np.float32))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(OSError, match="bad.npy"):
        latent.read(str(path))
    with pytest.raises(latent.IoError):
        latent.read(str(tmp_path / "missing.npy"))


def test_quantize_matches_numpy(encoders):
    a = encoders[0]
    np.testing.assert_array_equal(latent.quantize(a, type="f16"), a.astype(np.float16))
    bf16 = latent.quantize(a, type="bf16")
    assert bf16.dtype == np.uint16
    assert np.abs((bf16.astype(np.uint32) << 16).view(np.float32) - a).max() <= np.abs(a).max() * 2 ** -8
    np.testing.assert_array_equal(latent.quantize(a, type="binary"), np.packbits(a > 0, axis=1))
    codes = latent.quantize(a, type="int8")
    assert codes.dtype == np.int8
    q = latent.Quantizer("int8").fit(a)
    np.testing.assert_array_equal(q.encode(a), codes)
    step = (a.max(0) - a.min(0)) / 255
    assert np.all(np.abs(q.decode(codes) - a) <= step * 0.5 + 1e-5)


def test_pool_truncate_normalize(encoders):
    rng = np.random.default_rng(0)
    tokens = rng.standard_normal((4, 6, 8)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1] * 6, [1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]])
    mean = latent.pool(tokens, mask)
    expected = (tokens * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(mean, expected, rtol=1e-6)
    np.testing.assert_allclose(latent.pool(tokens, mask, method="max")[0], tokens[0, :3].max(0))
    # Min, mean-max and supplied weights against numpy on real rows: the encoder's
    # latents as 200 sequences of 10 tokens, with a random right-padded mask.
    seq = encoders[0].reshape(200, 10, 64)
    lengths = rng.integers(1, 11, size=200)
    seq_mask = (np.arange(10)[None, :] < lengths[:, None]).astype(np.uint8)
    real = seq_mask[..., None].astype(bool)
    np.testing.assert_array_equal(latent.pool(seq, seq_mask, method="min"), np.where(real, seq, np.inf).min(1))
    mean_max = latent.pool(seq, seq_mask, method="mean-max", padding="right")
    assert mean_max.shape == (200, 128)
    np.testing.assert_allclose(mean_max[:, :64], (seq * real).sum(1) / lengths[:, None], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mean_max[:, 64:], np.where(real, seq, -np.inf).max(1))
    weights = rng.uniform(0.5, 2.0, size=10)
    w = weights[None, :, None] * real
    np.testing.assert_allclose(latent.pool(seq, seq_mask, method="weighted-mean", weights=weights),
                               (w * seq).sum(1) / w.sum(1), rtol=1e-5, atol=1e-6)
    a = encoders[0]
    t = latent.truncate_dims(a, 16)
    np.testing.assert_allclose(t, a[:, :16] / np.linalg.norm(a[:, :16], axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(latent.l2_normalize(a), axis=1), 1, rtol=1e-6)


def test_muvera_and_chamfer():
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((30, 16)).astype(np.float32)
    encoder = latent.MuveraEncoder(16, k_sim=3, repetitions=4, seed=5)
    fde = encoder.encode_documents(vectors, [10, 20])
    assert fde.shape == (2, encoder.output_dim)
    q, d = vectors[:4], vectors[10:30]
    assert latent.chamfer_similarity(q, d) == pytest.approx((q @ d.T).max(axis=1).sum(), rel=1e-5)


def test_metrics(encoders):
    a, b, labels = encoders
    ids, _ = latent.knn(a, k=10, metric="cosine")
    scores = latent.retrieval_scores(ids, [[i for i in range(2000) if labels[i] == labels[q] and i != q]
                                           for q in range(50)] + [[]] * 1950, k=10)
    assert scores["queries"] == 50 and scores["skipped"] == 1950
    same = (labels[ids[:50]] == labels[:50, None])
    assert scores["precision"] == pytest.approx(same.mean(), abs=1e-12)
    # Hit@k, R-precision and the first relevant rank against numpy: the list
    # (K = 300) is longer than each class (R ~ 200), far beyond the cut-off k = 5.
    long_ids, _ = latent.knn(a, k=300, metric="cosine")
    queries = np.arange(0, 2000, 20)
    relevant = [np.flatnonzero((labels == labels[q]) & (np.arange(2000) != q)) for q in queries]
    scores = latent.retrieval_scores(long_ids[queries], relevant, k=5)
    hits = labels[long_ids[queries]] == labels[queries, None]
    r = np.array([len(ids) for ids in relevant])
    first = np.where(hits.any(1), hits.argmax(1) + 1, 301)
    assert scores["hit@k"] == pytest.approx(hits[:, :5].any(1).mean(), abs=1e-12)
    assert scores["r_precision"] == pytest.approx(np.mean([h[:n].sum() / n for h, n in zip(hits, r)]), abs=1e-12)
    assert scores["median_rank"] == np.median(first)
    assert scores["mean_rank"] == pytest.approx(first.mean(), abs=1e-12)
    assert scores["unranked"] == (first == 301).sum()
    assert latent.spearman([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]) == pytest.approx(0.8)
    x = a.astype(np.float64) - a.mean(0)
    y = b.astype(np.float64) - b.mean(0)
    cka = np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))
    assert latent.linear_cka(a.astype(np.float64), b.astype(np.float64)) == pytest.approx(cka, rel=1e-10)
    assert 0 < latent.knn_accuracy(ids, labels) <= 1


def test_read_npz_hdf5_and_byte_orders(tmp_path, encoders):
    a, b, labels = encoders
    np.savez(tmp_path / "plain.npz", a=a, labels=labels)
    np.savez_compressed(tmp_path / "packed.npz", b=b)
    np.testing.assert_array_equal(latent.read(f"{tmp_path}/plain.npz:a"), a)
    np.testing.assert_array_equal(latent.read(f"{tmp_path}/plain.npz:labels.npy"), labels)
    np.testing.assert_array_equal(latent.read(tmp_path / "packed.npz"), b)  # the only member
    assert [(e["name"], e["shape"]) for e in latent.list_arrays(tmp_path / "plain.npz")] == [
        ("a", a.shape), ("labels", labels.shape)]
    with pytest.raises(latent.IoError, match="nope"):
        latent.read(f"{tmp_path}/plain.npz:nope")
    # Other byte orders and Fortran order are converted, not refused.
    np.save(tmp_path / "big.npy", a.astype(">f4"))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(a.astype(np.float64)))
    big = latent.read(tmp_path / "big.npy")
    assert big.dtype == np.float32 and big.dtype.isnative
    np.testing.assert_array_equal(big, a)
    np.testing.assert_array_equal(latent.read(tmp_path / "fortran.npy"), a.astype(np.float64))
    # A mapped view: read-only, no copy of the file's data.
    np.save(tmp_path / "a.npy", a)
    mapped = latent.read(tmp_path / "a.npy", mmap=True)
    assert not mapped.flags.writeable
    np.testing.assert_array_equal(mapped, a)
    ids, _ = latent.knn(mapped, k=3)
    np.testing.assert_array_equal(ids, latent.knn(a, k=3)[0])


def test_read_hdf5_ann_benchmarks_layout(tmp_path):
    if not latent.hdf5_supported():
        pytest.skip("this build has no HDF5")
    h5py = pytest.importorskip("h5py", reason="h5py writes the fixture")
    rng = np.random.default_rng(3)
    train, test = rng.standard_normal((50, 8)).astype(np.float32), rng.standard_normal((5, 8)).astype(np.float32)
    with h5py.File(tmp_path / "ann.hdf5", "w") as f:
        f["train"], f["test"] = train, test
    np.testing.assert_array_equal(latent.read(f"{tmp_path}/ann.hdf5:train"), train)
    assert {e["name"] for e in latent.list_arrays(tmp_path / "ann.hdf5")} == {"train", "test"}
