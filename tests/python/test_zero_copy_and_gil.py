"""No copy of C-contiguous inputs, results that own their memory, and the GIL
released while the library computes."""

import threading
import time
import tracemalloc

import numpy as np

import latent


def peak_traced_bytes(call):
    """Peak of the memory Python and numpy allocate (tracemalloc) during call()."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_contiguous_input_is_not_copied():
    x = np.random.default_rng(0).standard_normal((20000, 256)).astype(np.float32)  # 20 MB
    for call in (lambda: latent.knn(x, x[:10], k=5, metric="l2"),
                 lambda: latent.average_cosine(x),
                 lambda: latent.Whitening().fit(x)):
        assert peak_traced_bytes(call) < x.nbytes / 20
    # The test can see a copy: a Fortran-order array is converted once.
    fortran = np.asfortranarray(x)
    assert peak_traced_bytes(lambda: latent.knn(fortran, fortran[:10], k=5, metric="l2")) >= x.nbytes
    # Rows of a wider C array (a column slice) are viewed in place too.
    assert peak_traced_bytes(lambda: latent.knn(x[:, :128], x[:10, :128], k=5)) < x.nbytes / 20


def test_results_own_their_memory():
    x = np.random.default_rng(1).standard_normal((100, 16))
    for out in (latent.knn(x, k=3)[0], latent.Whitening().fit_transform(x), latent.l2_normalize(x)):
        assert out.flags.c_contiguous and out.flags.writeable
        assert not np.shares_memory(out, x)
        out[...] = 0  # writable, and nothing else sees it
    y = latent.l2_normalize(x)
    del x
    assert np.isfinite(y).all()


def test_two_threads_calling_knn_overlap():
    x = np.random.default_rng(2).standard_normal((6000, 256)).astype(np.float32)
    latent.knn(x[:500], k=5, threads=1)  # warm up
    start = time.perf_counter()
    latent.knn(x, k=10, threads=1)
    single = time.perf_counter() - start

    intervals = []

    def work():
        begin = time.perf_counter()
        latent.knn(x, k=10, threads=1)
        intervals.append((begin, time.perf_counter()))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    # While both compute, this (Python) thread still runs: the GIL is free.
    ticks = 0
    while any(t.is_alive() for t in threads):
        ticks += 1
        time.sleep(0.001)
    for t in threads:
        t.join()
    (a0, a1), (b0, b1) = intervals
    overlap = min(a1, b1) - max(a0, b0)
    assert overlap > 0.5 * single
    assert ticks > 10
