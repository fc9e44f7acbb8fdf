"""Writes the weights of a small TopK sparse autoencoder over the bundled encoder
latents (data/encoders/mlp_seed0.npy, 2,000 x 64), for the tests, the example
and the `latent sae` commands:

    W_enc.npy [64 x 256], b_enc.npy [256], W_dec.npy [256 x 64], b_dec.npy [64]

float32. The decoder starts as 256 centred latent rows (unit norm, chosen with
numpy's default_rng(0)), the encoder as its transpose, b_dec as the latents'
mean, b_enc as 0; then 300 steps of full-batch gradient descent on the squared
reconstruction error of the k = 8 TopK autoencoder (the decoder rows kept at unit
norm). Deterministic: running it again writes the same bytes on the same numpy.

    python3 data/sae/make_sae.py [OUT_DIR]   (default: this folder)
"""

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
K, FEATURES, STEPS, RATE = 8, 256, 300, 0.05


def topk_codes(x, w_enc, b_enc, b_dec):
    pre = (x - b_dec) @ w_enc + b_enc
    keep = np.argsort(-pre, axis=1, kind="stable")[:, :K]
    codes = np.zeros_like(pre)
    rows = np.arange(len(x))[:, None]
    codes[rows, keep] = np.maximum(pre[rows, keep], 0)
    return codes


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    x = np.load(HERE.parent / "encoders" / "mlp_seed0.npy").astype(np.float64)
    x /= np.linalg.norm(x, axis=1).mean()
    rng = np.random.default_rng(0)
    b_dec = x.mean(axis=0)
    w_dec = x[rng.choice(len(x), FEATURES, replace=False)] - b_dec
    w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    w_enc = w_dec.T.copy()
    b_enc = np.zeros(FEATURES)
    for _ in range(STEPS):
        z = topk_codes(x, w_enc, b_enc, b_dec)
        residual = z @ w_dec + b_dec - x  # d loss / d x_hat, up to 2 / n
        active = (z > 0).astype(np.float64)
        grad_z = residual @ w_dec.T * active
        n = len(x)
        w_dec -= RATE * (z.T @ residual) / n
        b_dec -= RATE * residual.mean(axis=0)
        w_enc -= RATE * ((x - b_dec).T @ grad_z) / n
        b_enc -= RATE * grad_z.mean(axis=0)
        w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    # Trained on the latents scaled to mean norm 1 (by s): on the latents as stored
    # the same autoencoder has b_enc and b_dec times s (its codes are s times larger).
    raw = np.load(HERE.parent / "encoders" / "mlp_seed0.npy").astype(np.float64)
    scale = np.linalg.norm(raw, axis=1).mean()
    arrays = {"W_enc": w_enc, "b_enc": b_enc * scale, "W_dec": w_dec, "b_dec": b_dec * scale}
    for name, value in arrays.items():
        np.save(out / f"{name}.npy", value.astype(np.float32))
    z = topk_codes(raw, w_enc, b_enc * scale, b_dec * scale)
    error = ((z @ w_dec + b_dec * scale - raw) ** 2).sum() / ((raw - raw.mean(0)) ** 2).sum()
    print(f"explained variance {1 - error:.3f}, dead features {(z.max(0) == 0).mean():.3f}")


if __name__ == "__main__":
    main()
