"""latent: measure, repair, align, compress and search embedding spaces.

The functions and classes here are the native library's (C++, pybind11): arrays
of float32 or float64 go in without a copy when their rows are contiguous, the
GIL is released while the library computes, results are new numpy arrays, and
errors are ``latent.Error`` subclasses (also ``ValueError`` for bad arguments,
shapes and values, ``OSError`` for files). Names, defaults and definitions are
those of the C++ API and of the ``latent`` command-line tool.
"""

from ._latent import (  # noqa: F401  (the public surface)
    __version__,
    Error,
    InvalidArgument,
    DimensionMismatch,
    NonFiniteValue,
    EmptyInput,
    InvalidK,
    NotFitted,
    NumericalError,
    IoError,
    UnsupportedIsa,
    BackendError,
    knn,
    similarity,
    active_isa,
    best_isa,
    set_isa,
    poincare_distances,
    lorentz_distances,
    lorentz_inner_products,
    mobius_add,
    hubness,
    reduce_hubness,
    csls_search,
    k_occurrence,
    select_hubs,
    hubness_measures,
    isotropy,
    average_cosine,
    select_anchors,
    compare_spaces,
    l2_normalize,
    center_rows,
    standardize_rows,
    truncate_dims,
    pool,
    quantize,
    Quantizer,
    MuveraEncoder,
    chamfer_similarity,
    retrieval_scores,
    knn_accuracy,
    knn_predict,
    knn_regress,
    neighbor_recall,
    pearson,
    spearman,
    alignment,
    uniformity,
    effective_rank,
    linear_cka,
    rbf_cka,
    rsa,
    affine_r2,
    silhouette,
    classification_report,
    PrototypeClassifier,
    zero_shot_predict,
    read,
    list_arrays,
    hdf5_supported,
    write_npy,
)
from . import _latent

from ._estimators import (  # noqa: F401
    Whitening,
    Centering,
    Standardizer,
    FNorm,
    RelativeProjection,
    LatentTranslator,
    LinearMap,
    HubnessReduction,
)
from ._graphs import compare, epsilon_graph, symmetric_knn_graph  # noqa: F401

if hasattr(_latent, "Index"):
    from ._latent import Index, BinaryIndex, faiss_version  # noqa: F401
