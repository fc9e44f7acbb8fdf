"""scikit-learn style estimators over the native models.

Each estimator keeps its constructor arguments as attributes of the same names
(so ``get_params``, ``set_params``, ``sklearn.base.clone`` and
``sklearn.pipeline.Pipeline`` work without importing scikit-learn), ``fit``
returns ``self``, and the fitted native model (float32 or float64, after the
rows it was fitted on) is ``model_``.
"""

import inspect

import numpy as np

from . import _latent


class _Params:
    """get_params / set_params / repr from the constructor's signature."""

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise _latent.InvalidArgument(
                    f"{type(self).__name__}.set_params: unknown parameter '{name}' "
                    f"(expected one of: {', '.join(valid)})")
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [f"{name}={getattr(self, name)!r}" for name in self._param_names()
                   if getattr(self, name) != defaults[name].default]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _require_fitted(self):
        if getattr(self, "model_", None) is None:
            raise _latent.NotFitted(f"{type(self).__name__}: not fitted (call fit first)")
        return self.model_


def _precision(x):
    """The precision the work runs in: float64 rows stay float64, else float32."""
    return "float64" if np.asarray(x).dtype == np.float64 else "float32"


def _native(name, precision):
    return getattr(_latent, f"_{name}_{precision}")


class _Transform(_Params):
    """fit / partial_fit / transform / fit_transform / inverse_transform / save."""

    def _new_model(self, precision):
        raise NotImplementedError

    def fit(self, x, y=None):
        self.model_ = self._new_model(_precision(x))
        self.model_.fit(x)
        return self

    def partial_fit(self, x, y=None):
        if getattr(self, "model_", None) is None:
            self.model_ = self._new_model(_precision(x))
        self.model_.partial_fit(x)
        return self

    def transform(self, x):
        return self._require_fitted().transform(x)

    def fit_transform(self, x, y=None):
        self.model_ = self._new_model(_precision(x))
        return self.model_.fit_transform(x)

    def inverse_transform(self, y):
        return self._require_fitted().inverse_transform(y)

    def save(self, path):
        """Writes the fitted model as a latent model file (as the CLI's --save)."""
        self._require_fitted().save(path)


class Whitening(_Transform):
    """PCA (BERT), ZCA or Cholesky whitening, the PCA projection, or all-but-the-top.

    method "pca": y = (x - mu) U diag(1 / sqrt(lambda)), the top ``dim``
    components (None: all), or with ``variance`` (instead of dim) the fewest
    whose share of the variance exceeds it (scikit-learn's
    PCA(n_components=0.95) rule); "projection": y = (x - mu) U, the same
    components unscaled (scikit-learn's PCA up to signs); "zca": the whitening
    rotated back, y = ... U^T (no dim); "cholesky": y = (x - mu) L^-T with
    Sigma = L L^T (no dim);
    "abtt": all-but-the-top, x - mu with its top ``dim`` principal directions
    removed (None: d / 100, at least 1). Moments in double. shrinkage: None,
    "ridge" (``alpha`` added to every eigenvalue) or "ledoit-wolf";
    covariance "population" (1/n) or "sample" (1/(n-1), as numpy.cov);
    eigenvalues below ``epsilon`` x the largest are floored there.
    """

    def __init__(self, method="pca", dim=None, variance=None, center=True, normalize=False,
                 covariance="population", shrinkage=None, alpha=0.0, epsilon=1e-9, threads=None):
        self.method = method
        self.dim = dim
        self.variance = variance
        self.center = center
        self.normalize = normalize
        self.covariance = covariance
        self.shrinkage = shrinkage
        self.alpha = alpha
        self.epsilon = epsilon
        self.threads = threads

    def _new_model(self, precision):
        if self.method == "abtt":
            ignored = [name for name, default in (("variance", None), ("center", True), ("normalize", False),
                                                  ("covariance", "population"), ("shrinkage", None),
                                                  ("alpha", 0.0), ("epsilon", 1e-9))
                       if getattr(self, name) != default]
            if ignored:
                raise _latent.InvalidArgument(
                    f"Whitening: {', '.join(ignored)} apply to methods pca, projection, zca and cholesky, not abtt")
            return _native("AllButTheTop", precision)(components=self.dim or 0, threads=self.threads)
        if self.method in ("zca", "cholesky") and self.dim is not None:
            raise _latent.InvalidArgument(
                f"Whitening: dim applies to methods pca, projection and abtt, not {self.method}")
        return _native("Whitening", precision)(
            method=self.method, dim=self.dim or 0, variance=self.variance or 0.0, center=self.center, normalize=self.normalize,
            covariance=self.covariance, shrinkage=self.shrinkage or "none", alpha=self.alpha,
            epsilon=self.epsilon, threads=self.threads)

    def inverse_transform(self, y):
        if self.method == "abtt":
            raise _latent.InvalidArgument(
                "Whitening.inverse_transform: all-but-the-top removes directions, it has no inverse")
        return super().inverse_transform(y)

    @property
    def mean_(self):
        return self._require_fitted().mean

    @property
    def eigenvalues_(self):
        return self._require_fitted().eigenvalues

    @property
    def components_(self):
        """The eigenvectors as rows, largest eigenvalue first (scikit-learn's PCA layout)."""
        return self._require_fitted().eigenvectors.T.copy()

    @classmethod
    def load(cls, path, dtype="float32"):
        """A Whitening fitted earlier and saved (by save or the CLI's --save)."""
        model = _native("Whitening", np.dtype(dtype).name).load(path)
        estimator = cls(**model.params)
        estimator.model_ = model
        return estimator


class Centering(_Transform):
    """Subtracts the column means of the rows fitted on."""

    def __init__(self):
        pass

    def _new_model(self, precision):
        return _native("Centering", precision)()


class Standardizer(_Transform):
    """(x - mean) / population standard deviation per column (a constant column is only centred)."""

    def __init__(self):
        pass

    def _new_model(self, precision):
        return _native("Standardizer", precision)()


class FNorm(_Params):
    """Rank-to-Gaussian transform per column: each value is replaced by the normal
    quantile of its rank among the fitted rows."""

    def __init__(self, threads=None):
        self.threads = threads

    def fit(self, x, y=None):
        self.model_ = _native("FNorm", _precision(x))(threads=self.threads)
        self.model_.fit(x)
        return self

    def transform(self, x):
        return self._require_fitted().transform(x)

    def fit_transform(self, x, y=None):
        return self.fit(x).transform(x)

    def save(self, path):
        self._require_fitted().save(path)


class RelativeProjection(_Params):
    """Relative representations: each row as its similarities to the anchors.

    similarity: one of cosine, angular, dot, l2, l1, linf, lp, basis, or several
    (a list or "cosine,l2"), aggregated by ``aggregate`` (concat, sum, mean;
    each block scaled to unit norm first when ``normalize_blocks``). center:
    subtract the anchors' mean from rows and anchors first. post: none, l2 or
    standardize per block. fit(anchors) takes the anchor rows, or fit(x,
    anchor_ids=ids) the rows of x with those ids.
    """

    def __init__(self, similarity="cosine", aggregate="concat", center=False, post="none", p=3.0,
                 normalize_blocks=True, zero_norm="raise", rcond=0.0, threads=None):
        self.similarity = similarity
        self.aggregate = aggregate
        self.center = center
        self.post = post
        self.p = p
        self.normalize_blocks = normalize_blocks
        self.zero_norm = zero_norm
        self.rcond = rcond
        self.threads = threads

    def _similarities(self):
        if isinstance(self.similarity, str):
            return [name.strip() for name in self.similarity.split(",")]
        return list(self.similarity)

    def _new_model(self, precision):
        return _native("RelativeProjection", precision)(
            similarities=self._similarities(), p=self.p, pre="center" if self.center else "none",
            post=self.post, normalize_blocks=self.normalize_blocks, aggregate=self.aggregate,
            zero_norm=self.zero_norm, rcond=self.rcond, threads=self.threads)

    def fit(self, anchors, y=None, anchor_ids=None):
        self.model_ = self._new_model(_precision(anchors))
        if anchor_ids is None:
            self.model_.fit(anchors)
        else:
            self.model_.fit_ids(anchors, anchor_ids)
        return self

    def transform(self, x):
        return self._require_fitted().transform(x)

    def fit_transform(self, anchors, y=None):
        return self.fit(anchors).transform(anchors)

    def save(self, path):
        self._require_fitted().save(path)


class LatentTranslator(_Params):
    """Maps one embedding space into another from paired rows.

    method: procrustes (orthogonal, on centred and Frobenius-scaled rows;
    scale=False: a pure rotation; proper_rotation: det R = +1), lstsq, affine
    (with bias), ridge (``alpha``) or orthogonal-lstsq. standardize: scale both
    spaces per column for the fit and undo it on the output. fit(source,
    target) pairs row i of each (ids: only those rows).
    """

    def __init__(self, method="procrustes", scale=True, proper_rotation=False, alpha=1.0, standardize=False,
                 rcond=0.0, threads=None):
        self.method = method
        self.scale = scale
        self.proper_rotation = proper_rotation
        self.alpha = alpha
        self.standardize = standardize
        self.rcond = rcond
        self.threads = threads

    def fit(self, source, target, ids=None):
        self.model_ = _native("LatentTranslator", _precision(source))(
            method=self.method, scale=self.scale, proper_rotation=self.proper_rotation, alpha=self.alpha,
            standardize=self.standardize, rcond=self.rcond, threads=self.threads)
        self.model_.fit(source, target, ids)
        return self

    def transform(self, x):
        return self._require_fitted().transform(x)

    def fit_transform(self, source, target):
        return self.fit(source, target).transform(source)

    def save(self, path):
        self._require_fitted().save(path)

    @property
    def matrix_(self):
        return self._require_fitted().matrix

    def linear_map(self):
        """The fitted map as a LinearMap: y = x W + b with W = matrix_ and b the
        output shift minus the input shift times W."""
        native = self._require_fitted().linear_map()
        return LinearMap(native.matrix, native.bias, threads=self.threads)


class LinearMap:
    """A given linear map y = x W + b (W [d_in x d_out], b [d_out], default 0),
    applied to rows in their own precision (float32 or float64; W and b are kept
    in float64). save / load as the CLI's ``latent align --load-map ... --save``."""

    def __init__(self, matrix, bias=None, threads=None):
        self._models = {"float64": _native("LinearMap", "float64")(matrix, bias, threads)}
        self.threads = threads

    def _model(self, precision):
        if precision not in self._models:
            base = self._models["float64"]
            self._models[precision] = _native("LinearMap", precision)(base.matrix, base.bias, self.threads)
        return self._models[precision]

    def transform(self, x):
        return self._model(_precision(x)).transform(x)

    def save(self, path):
        self._models["float64"].save(path)

    @classmethod
    def load(cls, path, threads=None):
        native = _native("LinearMap", "float64").load(path)
        return cls(native.matrix, native.bias, threads=threads)

    @property
    def matrix_(self):
        return self._models["float64"].matrix

    @property
    def bias_(self):
        return self._models["float64"].bias


from ._graphs import HubnessReduction  # noqa: E402,F401  (defined with the graph conversions)
