#!/usr/bin/env bash
# CTest fixture: writes the Fashion-MNIST arrays the golden tests read (train.npy,
# knn_queries.npy, pixels.npy, ...) into OUT_DIR with the golden kit's own script,
# which checks every array against its recorded SHA-256. Exit status 77 (skipped)
# when the kit, Debian's python3-numpy or dataset-fashion-mnist is missing.
#   make_fmnist_rows.sh GOLDEN_DIR OUT_DIR
set -u
golden=$1
out=$2
python=/usr/bin/python3
if [ ! -f "$golden/make_fmnist_rows.py" ]; then
  echo "golden kit not found at $golden: skipped" >&2
  exit 77
fi
if ! "$python" -c "import numpy" 2>/dev/null || ! dpkg-query -W dataset-fashion-mnist >/dev/null 2>&1; then
  echo "needs python3-numpy and dataset-fashion-mnist: skipped" >&2
  exit 77
fi
if [ -f "$out/.complete" ]; then
  exit 0
fi
mkdir -p "$out"
"$python" "$golden/make_fmnist_rows.py" --out "$out" || exit 1
touch "$out/.complete"
