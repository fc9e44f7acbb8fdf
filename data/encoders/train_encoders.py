#!/usr/bin/python3
"""Train three small Fashion-MNIST classifiers and write their latent spaces.

    /usr/bin/python3 data/encoders/train_encoders.py [--src DIR] [--out DIR] [--rows N]

Needs Debian's python3-torch, python3-numpy and dataset-fashion-mnist. Each
encoder is trained on the 60,000 training images (Adam, lr 1e-3, batch 128,
cross-entropy, no augmentation, CPU) and then encodes test images 0..N-1
(default 2000; rows 0..999 are the images of data/fashion-mnist/images.npy).
Writes (C order, little endian):

    mlp_seed0.npy  float32 [N, 64]  MLP 784-256-64-10, torch seed 0, 5 epochs
    mlp_seed1.npy  float32 [N, 64]  the same architecture and recipe, seed 1
    cnn_seed0.npy  float32 [N, 64]  two 3x3 conv + 2x2 max-pool blocks, then
                                    linear -> 64 -> 10; seed 0, 3 epochs
    labels.npy     int64   [N]      classes of those test images
    encoders.json  test accuracy of each model, versions, shapes

The latent is the 64-unit layer before the classifier's last linear map
(pre-activation). Two MLPs that differ only in their seed are the setting of
the relative-representations paper: the same data, two independently trained
spaces; the CNN is a different architecture. Training is not bit-reproducible
across BLAS builds and torch versions, so the outputs are committed and this
script documents how they were made rather than being rerun by the tests.
"""
import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def load_sample_module():
    """data/fashion-mnist/make_sample.py: the package lookup and the IDX reader."""
    path = os.path.join(HERE, "..", "fashion-mnist", "make_sample.py")
    spec = importlib.util.spec_from_file_location("make_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.encoder(x))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.encoder(x))


def train(model, x, y, epochs, seed):
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 128):
            batch = order[start:start + 128]
            optimiser.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
        print(f"  epoch {epoch + 1}/{epochs}: last batch loss {loss.item():.3f}", flush=True)


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    predictions = torch.cat([model(x[s:s + 1000]).argmax(1) for s in range(0, len(x), 1000)])
    return float((predictions == y).float().mean())


@torch.no_grad()
def encode(model, x):
    model.eval()
    return torch.cat([model.encoder(x[s:s + 1000]) for s in range(0, len(x), 1000)]).numpy()


def main():
    sample = load_sample_module()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=sample.package_folder(), help="folder of the IDX files")
    parser.add_argument("--out", default=HERE, help="output folder (default: next to this script)")
    parser.add_argument("--rows", type=int, default=2000, help="test images to encode")
    args = parser.parse_args()
    if not args.src:
        sys.exit("train_encoders.py: dataset-fashion-mnist is not installed")
    torch.set_num_threads(os.cpu_count() or 1)

    def images(prefix):
        raw = sample.read_idx(os.path.join(args.src, prefix + "-images-idx3-ubyte.gz"))
        x = raw.reshape(len(raw), 1, 28, 28).astype(np.float32) / np.float32(255)
        labels = sample.read_idx(os.path.join(args.src, prefix + "-labels-idx1-ubyte.gz"))
        return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))

    x_train, y_train = images("train")
    x_test, y_test = images("t10k")
    models = {"mlp_seed0": (Mlp, 0, 5), "mlp_seed1": (Mlp, 1, 5), "cnn_seed0": (Cnn, 0, 3)}
    summary = {"rows": args.rows, "test_images": f"0..{args.rows - 1}", "latent_dim": 64,
               "torch": torch.__version__, "numpy": np.__version__, "models": {}}
    for name, (architecture, seed, epochs) in models.items():
        print(f"{name}: training", flush=True)
        torch.manual_seed(seed)
        model = architecture()
        started = time.time()
        train(model, x_train, y_train, epochs, seed)
        accuracy = evaluate(model, x_test, y_test)
        latents = np.ascontiguousarray(encode(model, x_test[:args.rows]), dtype="<f4")
        np.save(os.path.join(args.out, name + ".npy"), latents)
        summary["models"][name] = {"architecture": architecture.__name__.lower(), "seed": seed,
                                   "epochs": epochs, "test_accuracy": round(accuracy, 4),
                                   "train_seconds": round(time.time() - started, 1)}
        print(f"{name}: test accuracy {accuracy:.4f}, wrote {name}.npy {list(latents.shape)}", flush=True)
    np.save(os.path.join(args.out, "labels.npy"), np.ascontiguousarray(y_test[:args.rows].numpy(), dtype="<i8"))
    with open(os.path.join(args.out, "encoders.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
