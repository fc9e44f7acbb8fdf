# Sourced by scripts/demo and scripts/test: the Debian packages the project needs,
# installed with apt-get when running as root (otherwise the one command to run is
# printed), then the CMake configure and build of a preset.
set -euo pipefail

LATENT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build: compiler, CMake + Ninja, Eigen, OpenBLAS with LAPACKE (the
# eigen-decompositions and SVDs of 64 rows or more), FAISS, CLI11, nlohmann-json;
# the Python module: pybind11 and the headers of Debian's python3, with numpy.
# latent::mpi and `mpirun latent ...`: Open MPI (library and launcher).
# Tests: GoogleTest, Google Benchmark (smoke runs; both are found when the
# build is configured), and for the data provenance check Debian's Fashion-MNIST
# with numpy.
LATENT_PACKAGES=(
  g++ cmake ninja-build
  libeigen3-dev libopenblas-dev liblapacke-dev libfaiss-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libhdf5-dev
  pybind11-dev python3-dev python3-numpy
  libopenmpi-dev openmpi-bin
  libgtest-dev libbenchmark-dev
  dataset-fashion-mnist
)
# Only scripts/test: Chromium for the browser test of the HTML report (headless);
# for the hardening runs clang with libFuzzer and the sanitizer runtimes, LLVM's
# libomp (its archer tool lets TSan see OpenMP's synchronisation) and prlimit
# (util-linux) for the memory-bound test; pytest with scipy, scikit-learn and
# FAISS's Python module, the references the Python tests compare against, and
# h5py, which writes their HDF5 fixture.
LATENT_TEST_PACKAGES=(chromium clang libclang-rt-14-dev libomp-14-dev util-linux
  python3-pytest python3-scipy python3-sklearn python3-faiss python3-h5py)

# latent_ensure_packages [EXTRA_PACKAGE...]: LATENT_PACKAGES and the extras.
latent_ensure_packages() {
  local missing=() package
  for package in "${LATENT_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "latent: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "latent: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# latent_build PRESET [TARGET...]: configure (once) and build.
latent_build() {
  local preset=$1
  shift
  cd "$LATENT_ROOT"
  # Debian's interpreter, not another python3 that may come first on PATH: the
  # module is built for, and tested with, the python3 the packages above serve.
  cmake --preset "$preset" -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build --preset "$preset" --target "$@"
  else
    cmake --build --preset "$preset"
  fi
}
