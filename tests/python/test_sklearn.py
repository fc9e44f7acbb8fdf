"""scikit-learn conventions: get_params / set_params, fit returns self, clone,
Pipeline."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import latent

ESTIMATORS = [
    latent.Whitening(method="zca", shrinkage="ridge", alpha=0.1),
    latent.Whitening(method="abtt", dim=2),
    latent.Centering(),
    latent.Standardizer(),
    latent.FNorm(threads=1),
    latent.RelativeProjection(similarity=("cosine", "l2"), aggregate="mean"),
    latent.LatentTranslator(method="ridge", alpha=0.5),
    latent.HubnessReduction(method="ls", k_local=3),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_params_and_clone(estimator):
    params = estimator.get_params()
    copy = clone(estimator)
    assert copy is not estimator and copy.get_params() == params
    assert type(copy).__name__ in repr(copy)
    if params:
        name = next(iter(params))
        assert copy.set_params(**{name: params[name]}) is copy


def test_fit_returns_self_and_pipeline(encoders):
    a, b, labels = encoders
    whitening = latent.Whitening(dim=32)
    assert whitening.fit(a) is whitening
    pipeline = Pipeline([("whiten", latent.Whitening(dim=32)), ("classify", LogisticRegression(max_iter=300))])
    pipeline.fit(a[:1500], labels[:1500])
    accuracy = pipeline.score(a[1500:], labels[1500:])
    assert accuracy > 0.7
    fitted = clone(pipeline).set_params(whiten__dim=16).fit(a[:1500], labels[:1500])
    assert fitted.named_steps["whiten"].model_.matrix.shape == (64, 16)
    translator = latent.LatentTranslator()
    assert translator.fit(a, b) is translator
    projection = latent.RelativeProjection()
    assert projection.fit(a[:100]) is projection
