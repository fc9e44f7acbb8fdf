"""Prototype and zero-shot classifiers and the confusion-matrix report against
scikit-learn and numpy, on the bundled encoder latents of Fashion-MNIST images."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix
from sklearn.neighbors import NearestCentroid

import latent


def test_prototype_classifier_equals_nearest_centroid(encoders):
    a, _, labels = encoders
    train, test = slice(0, 1500), slice(1500, 2000)
    for dtype in (np.float32, np.float64):
        x = a.astype(dtype)
        ours = latent.PrototypeClassifier(metric="l2").fit(x[train], labels[train])
        theirs = NearestCentroid().fit(x[train].astype(np.float64), labels[train])
        np.testing.assert_allclose(ours.prototypes_, theirs.centroids_, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        predicted = ours.predict(x[test])
        assert (predicted == theirs.predict(x[test].astype(np.float64))).mean() >= 0.998
        report = ours.score(x[test], labels[test])
        assert report["accuracy"] == pytest.approx((predicted == labels[test]).mean(), abs=1e-15)
        np.testing.assert_array_equal(report["confusion"], confusion_matrix(labels[test], predicted))
        assert 0.5 < report["accuracy"] < 1.0


def test_prototype_classifier_cosine_against_numpy(encoders):
    a, _, labels = encoders
    classifier = latent.PrototypeClassifier().fit(a[:1500], labels[:1500])
    means = np.stack([a[:1500][labels[:1500] == c].astype(np.float64).mean(0) for c in range(10)])
    x = a[1500:].astype(np.float64)
    cosine = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (means / np.linalg.norm(means, axis=1, keepdims=True)).T
    assert (classifier.predict(a[1500:]) == cosine.argmax(1)).mean() >= 0.998
    with pytest.raises(latent.NotFitted):
        latent.PrototypeClassifier().predict(a)
    with pytest.raises(latent.InvalidArgument, match="metric"):
        latent.PrototypeClassifier(metric="ip")
    with pytest.raises(latent.DimensionMismatch):
        latent.PrototypeClassifier().fit(a, labels[:10])


def test_zero_shot_from_given_class_embeddings(encoders):
    """Zero-shot from class embeddings given from outside: the class means of the
    rows, and numpy's argmax of the cosine as the reference."""
    a, _, labels = encoders
    prompts = np.stack([a[labels == c].mean(0) for c in range(10)]).astype(np.float32)
    names = np.arange(10) * 100
    predicted = latent.zero_shot_predict(a, prompts, class_labels=names)
    x = a.astype(np.float64)
    p = prompts.astype(np.float64)
    cosine = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (p / np.linalg.norm(p, axis=1, keepdims=True)).T
    assert (predicted == names[cosine.argmax(1)]).mean() >= 0.998
    nearest = ((x[:, None, :] - p[None]) ** 2).sum(2).argmin(1)
    assert (latent.zero_shot_predict(a, prompts, metric="l2") == nearest).mean() >= 0.998
    report = latent.classification_report(labels * 100, predicted)
    np.testing.assert_array_equal(report["classes"], names)
    np.testing.assert_array_equal(report["confusion"], confusion_matrix(labels * 100, predicted))
    np.testing.assert_allclose(report["per_class_accuracy"],
                               np.diag(report["confusion"]) / report["confusion"].sum(1))
    with pytest.raises(latent.DimensionMismatch, match="class_labels"):
        latent.zero_shot_predict(a, prompts, class_labels=[1, 2])


def test_knn_vote_and_regression_match_scikit_learn(encoders):
    """Majority and distance-weighted votes, and k-NN regression (decoding the second
    encoder's latents from the first one's neighbours), against scikit-learn's
    KNeighborsClassifier / KNeighborsRegressor (brute force, l2) on the encoder latents."""
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    a, b, labels = encoders
    train, test = slice(0, 1500), slice(1500, 2000)
    k = 10
    ids, distances = latent.knn(a[train], a[test], k=k, metric="l2")
    for weights in ("uniform", "distance"):
        reference = KNeighborsClassifier(n_neighbors=k, weights=weights, algorithm="brute")
        expected = reference.fit(a[train], labels[train]).predict(a[test])
        ours = latent.knn_predict(ids, labels[train], distances=distances if weights == "distance" else None)
        assert ours.dtype == np.int64
        if weights == "distance":
            np.testing.assert_array_equal(ours, expected)
        else:
            # scikit-learn breaks a tied majority by the smaller class, latent by the
            # nearest tied neighbour: equal where the top count is unique
            votes = labels[train][ids]
            counts = np.stack([np.sum(votes == c, axis=1) for c in range(10)], axis=1)
            unique = np.sum(counts == counts.max(axis=1, keepdims=True), axis=1) == 1
            assert unique.sum() > 400
            np.testing.assert_array_equal(ours[unique], expected[unique])
            for row in np.flatnonzero(~unique):
                tied = np.flatnonzero(counts[row] == counts[row].max())
                assert ours[row] == next(v for v in votes[row] if v in tied)

        regressor = KNeighborsRegressor(n_neighbors=k, weights=weights, algorithm="brute")
        decoded = regressor.fit(a[train], b[train]).predict(a[test])
        ours = latent.knn_regress(ids, b[train], distances=distances if weights == "distance" else None)
        np.testing.assert_allclose(ours, decoded, rtol=1e-4, atol=1e-5)
        one = latent.knn_regress(ids, b[train][:, 3], k=k, distances=distances if weights == "distance" else None)
        np.testing.assert_allclose(one, decoded[:, 3], rtol=1e-4, atol=1e-5)

    with pytest.raises(latent.InvalidArgument, match="distances"):
        latent.knn_predict(ids, labels[train], distances=-distances)
    with pytest.raises(latent.DimensionMismatch, match="distances"):
        latent.knn_regress(ids, b[train], distances=distances[:, :3])
