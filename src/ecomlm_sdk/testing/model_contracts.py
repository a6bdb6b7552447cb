"""Contracts for the model bases: ``check_text_classifier``, ``check_text_generator``,
``check_embedder``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from ecomlm_sdk.errors import ModelError, NotFittedError
from ecomlm_sdk.models.base import Embedder, Model, TextClassifier, TextGenerator
from ecomlm_sdk.testing._checks import expect, pickled_files, scratch_folder

__all__ = ["check_embedder", "check_text_classifier", "check_text_generator"]

# A separable toy problem. Labels first appear in an order that is neither sorted nor reversed,
# so probability columns in sorted order (sklearn's classes_) or in first-seen order cannot
# both match `labels` by luck.
_TOY: Final = {
    "track": ["where is my parcel", "track my parcel please", "has my parcel shipped yet"],
    "refund": ["refund my money", "I want a refund", "money back refund please"],
    "cancel": ["cancel my order", "please cancel it now", "cancel the purchase"],
}
_PROBES: Final = {
    "track": "where is the parcel",
    "refund": "refund the money",
    "cancel": "cancel it",
}


def _toy_problem() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for _ in range(3):
        for i in range(3):
            for label, examples in _TOY.items():
                texts.append(examples[i])
                labels.append(label)
    return texts, labels


def _round_trip(model: Model, folder: Path) -> Model:
    label = type(model).__name__
    try:
        saved = model.save(folder)
    except ModelError as exc:
        raise AssertionError(
            f"{label}.save() failed ({exc}): implement save(path) -> Path and the classmethod "
            "load(path, **options), writing a folder of safetensors/JSON files plus metadata "
            "with the SDK version (see docs/plugins/bases.md)"
        ) from exc
    expect(
        isinstance(saved, Path) and saved.is_dir(),
        f"{label}.save() must return the folder it wrote (a Path), got {saved!r}",
    )
    pickles = pickled_files(saved)
    expect(
        not pickles,
        f"{label}.save() wrote pickle files {pickles}: loading a pickle runs arbitrary code; "
        "write tensors with safetensors and everything else as JSON",
    )
    try:
        return type(model).load(saved)
    except ModelError as exc:
        raise AssertionError(f"{label}.load() cannot read what save() wrote: {exc}") from exc


# ----------------------------------------------------------------------------- classifier
def check_text_classifier(
    model: TextClassifier,
    *,
    tmp_path: str | Path | None = None,
    fit_options: Mapping[str, Any] | None = None,
) -> None:
    """Contract for a classifier, on a separable three-label toy problem it builds.

    Checks that predicting before ``fit`` raises :class:`~ecomlm_sdk.errors.NotFittedError`;
    that ``labels`` are the training labels; that probabilities are finite, sum to one, are
    neither flat (near ``1/k``) nor constant across texts, and that column ``j`` holds the
    probability of ``labels[j]``; that held-out texts get the right label; that save/load
    round-trips (no pickle; same probabilities within 1e-5); and that unknown fit options and
    mismatched lengths raise :class:`~ecomlm_sdk.errors.ModelError`.

    Args:
        model: An unfitted (or fitted: it is refitted) classifier.
        tmp_path: Folder for the save/load round trip (a temporary folder when ``None``).
        fit_options: Keyword arguments for every ``fit`` call (e.g. a fast mode).

    Raises:
        AssertionError: A rule is broken; the message says which and how to fix it.
    """
    label = type(model).__name__
    options = dict(fit_options or {})
    if not getattr(model, "labels", None):
        try:
            model.predict(["hello"])
        except NotFittedError:
            pass
        else:
            raise AssertionError(
                f"{label}.predict() before fit() must raise NotFittedError: leave `labels` "
                "unset until _fit() sets it"
            )
    texts, labels = _toy_problem()
    fitted = model.fit(texts, labels, **options)
    expect(fitted is model, f"{label}.fit() must return self")
    expect(
        isinstance(model.labels, list) and all(isinstance(x, str) for x in model.labels),
        f"{label}.labels must be a list of str after fit, got {model.labels!r}",
    )
    expect(
        sorted(model.labels) == sorted(_TOY) and len(model.labels) == len(_TOY),
        f"{label}.labels after fit is {model.labels}; it must hold each training label once "
        f"({sorted(_TOY)}), as str",
    )
    probs = model.predict_proba(texts)
    _check_probabilities(label, probs, len(texts), len(model.labels))
    _check_columns(label, model.labels, probs, labels)
    again = model.predict_proba(texts)
    expect(
        np.allclose(probs, again, atol=1e-6),
        f"{label}.predict_proba() gave different results on the same texts: make inference "
        "deterministic (eval mode, no dropout, no sampling)",
    )
    predictions = model.predict(list(_PROBES.values()))
    for prediction in predictions:
        expect(
            list(prediction.probabilities) == model.labels,
            f"Prediction.probabilities keys {list(prediction.probabilities)} must be labels "
            f"{model.labels} in order",
        )
    got = [p.label for p in predictions]
    expect(
        got == list(_PROBES),
        f"{label} misclassifies held-out texts of a separable problem: {list(_PROBES.values())}"
        f" -> {got}, expected {list(_PROBES)}",
    )
    with scratch_folder(tmp_path, "classifier") as folder:
        loaded = _round_trip(model, folder)
        expect(isinstance(loaded, TextClassifier), f"{label}.load() must return a {label}")
        assert isinstance(loaded, TextClassifier)
        expect(
            loaded.labels == model.labels,
            f"{label}: labels after load {loaded.labels} != before save {model.labels}; save "
            "them in order with the weights",
        )
        # inside the block: a model may read its weights lazily, on first use
        reloaded = loaded.predict_proba(texts)
    expect(
        reloaded.shape == probs.shape and np.allclose(reloaded, probs, atol=1e-5),
        f"{label}: a saved and loaded model predicts other probabilities (largest difference "
        f"{_max_diff(reloaded, probs)}): save every fitted parameter, and the label order",
    )
    try:
        model.fit(texts, labels, **options, __not_a_fit_option__=1)
    except ModelError:
        pass
    else:
        raise AssertionError(
            f"{label}.fit() accepted the unknown option __not_a_fit_option__: validate fit "
            "options (a pydantic model with extra='forbid') and raise ModelError naming the "
            "accepted ones, so a misspelt option is not silently ignored"
        )
    try:
        model.fit(["a", "b"], ["x"], **options)
    except ModelError:
        pass
    else:
        raise AssertionError(f"{label}.fit() with mismatched lengths must raise ModelError")


def _max_diff(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    return f"{float(np.abs(a - b).max()):.3g}"


def _check_probabilities(label: str, probs: np.ndarray, n: int, k: int) -> None:
    expect(probs.shape == (n, k), f"{label}.predict_proba() shape {probs.shape}, not {(n, k)}")
    expect(bool(np.isfinite(probs).all()), f"{label}.predict_proba() returned NaN or inf")
    expect(
        bool(((probs >= -1e-6) & (probs <= 1 + 1e-6)).all()),
        f"{label}.predict_proba() returned values outside [0, 1]: apply a softmax to scores",
    )
    expect(
        bool(np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)),
        f"{label}.predict_proba() rows must sum to 1 (got {probs.sum(axis=1)[:3]}...)",
    )
    spread = float(probs.std(axis=0).max())
    expect(
        spread > 1e-3,
        f"{label}.predict_proba() returns the same probabilities {np.round(probs[0], 3)} for "
        "every text of a separable problem: the model ignores its input (did _fit train "
        "anything? does _predict_proba return class priors?)",
    )
    margin = float((probs.max(axis=1) - 1.0 / k).mean())
    expect(
        margin > 0.05,
        f"{label}.predict_proba() is flat: on a separable problem its training texts get "
        f"probabilities close to 1/{k} (mean top probability {margin + 1.0 / k:.3f}). The model "
        "did not learn, or _predict_proba squashes its scores",
    )


def _check_columns(label: str, labels: list[str], probs: np.ndarray, truth: list[str]) -> None:
    index = {lab: i for i, lab in enumerate(labels)}
    truth_idx = np.array([index[t] for t in truth])
    mean = np.stack([probs[truth_idx == i].mean(axis=0) for i in range(len(labels))])
    top = mean.argmax(axis=1)
    if (top == np.arange(len(labels))).all():
        return
    moved = [
        f"{labels[i]!r} texts peak in column {int(j)} ({labels[j]!r})"
        for i, j in enumerate(top)
        if i != j
    ]
    if sorted(top.tolist()) == list(range(len(labels))):
        raise AssertionError(
            f"{label}: probability columns do not follow `labels` {labels}: "
            + "; ".join(moved)
            + ". Return columns in self.labels order (with scikit-learn: self.labels = "
            "[str(c) for c in estimator.classes_])"
        )
    raise AssertionError(f"{label} does not learn a separable toy problem: " + "; ".join(moved))


# ----------------------------------------------------------------------------- generator
def _token_counter(model: TextGenerator) -> Callable[[str], int]:
    counter = getattr(model, "count_tokens", None)
    if callable(counter):
        return lambda text: int(counter(text))
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is not None and callable(getattr(tokenizer, "encode", None)):
        return lambda text: len(tokenizer.encode(text, add_special_tokens=False))
    return lambda text: len(text.split())


def check_text_generator(
    model: TextGenerator,
    *,
    tmp_path: str | Path | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> None:
    """Contract for a generator.

    Checks a list in gives a list out (one string per prompt, one list per prompt with
    ``num_return_sequences > 1``, nothing for no prompts); ``max_new_tokens`` bounds every
    output; greedy decoding is deterministic and the same batched as one prompt at a time;
    sampling with one ``seed`` repeats; save/load (no pickle) gives the same greedy outputs.

    Args:
        model: The generator.
        tmp_path: Folder for the save/load round trip (a temporary folder when ``None``).
        count_tokens: Counts the tokens of one output. By default the model's own
            ``count_tokens(text)``, else its ``tokenizer.encode``, else whitespace words.

    Raises:
        AssertionError: A rule is broken; the message says which and how to fix it.
    """
    label = type(model).__name__
    prompts = ["Hello", "Subject line: spring sale on", "red heart mug"]
    out = model.generate(prompts, max_new_tokens=5)
    expect(
        isinstance(out, list) and len(out) == len(prompts),
        f"{label}.generate() must return one output per prompt",
    )
    expect(all(isinstance(o, str) for o in out), f"{label}.generate() must return strings")
    single = model.generate("Hello", max_new_tokens=5)
    expect(
        single == [out[0]],
        f"{label}.generate('Hello') must equal [generate(['Hello', ...])[0]]: {single!r} vs "
        f"{out[0]!r}. One string in gives a list of one; batching must not change outputs "
        "(pad on the left and pass the attention mask)",
    )
    one_by_one = [model.generate([p], max_new_tokens=5)[0] for p in prompts]
    expect(
        one_by_one == out,
        f"{label}: greedy outputs differ batched ({out!r}) and one prompt at a time "
        f"({one_by_one!r}): pad on the left and pass the attention mask",
    )
    expect(
        model.generate(prompts, max_new_tokens=5) == out,
        f"{label}: greedy decoding (do_sample=False) must be deterministic",
    )
    counter = count_tokens or _token_counter(model)
    for limit in (1, 3):
        for text in model.generate(prompts, max_new_tokens=limit):
            assert isinstance(text, str)
            expect(
                counter(text) <= limit,
                f"{label} ignored max_new_tokens={limit}: {text!r} has {counter(text)} tokens. "
                "Pass config.max_new_tokens to the decoder and return only the new text",
            )
    many = model.generate(
        ["Hello"], max_new_tokens=3, num_return_sequences=2, do_sample=True, seed=0
    )
    expect(
        len(many) == 1 and isinstance(many[0], list) and len(many[0]) == 2,
        f"{label}: num_return_sequences=2 must give one list of 2 per prompt, got {many!r}",
    )
    sampled = model.generate(prompts, max_new_tokens=4, do_sample=True, seed=123)
    expect(
        model.generate(prompts, max_new_tokens=4, do_sample=True, seed=123) == sampled,
        f"{label}: sampling with seed=123 twice gave different outputs: seed every random "
        "generator you use (torch, numpy, random) from config.seed",
    )
    expect(model.generate([], max_new_tokens=3) == [], f"{label}: no prompts must give []")
    with scratch_folder(tmp_path, "generator") as folder:
        loaded = _round_trip(model, folder)
        assert isinstance(loaded, TextGenerator)
        again = loaded.generate(prompts, max_new_tokens=5)
    expect(
        again == out,
        f"{label}: a saved and loaded generator decodes differently: {again!r} vs {out!r}",
    )


# ----------------------------------------------------------------------------- embedder
def check_embedder(model: Embedder, *, atol: float = 1e-5) -> None:
    """Contract for an embedder.

    Checks a float32 ``(n, dimension)`` array of finite values; the same vectors on a second
    call and for each text alone as in a batch (within ``atol``); unit length when the model
    declares ``normalize=True`` in its options; different vectors for different texts; similar
    texts closer than unrelated ones; one string in gives ``(1, d)``, no texts ``(0, d)``.

    Raises:
        AssertionError: A rule is broken; the message says which and how to fix it.
    """
    label = type(model).__name__
    dimension = model.dimension
    expect(
        isinstance(dimension, int) and dimension > 0,
        f"{label}.dimension must be a positive int, got {dimension!r}",
    )
    texts = ["red heart mug", "red heart mug gift", "shipping invoice refund", "a"]
    vectors = model.embed(texts)
    expect(
        vectors.dtype == np.float32 and vectors.shape == (len(texts), dimension),
        f"{label}.embed() must return float32 of shape {(len(texts), dimension)}, got "
        f"{vectors.dtype} {vectors.shape}",
    )
    expect(bool(np.isfinite(vectors).all()), f"{label}.embed() returned NaN or inf")
    expect(
        np.allclose(model.embed(texts), vectors, atol=atol),
        f"{label}.embed() gave different vectors for the same texts: make inference "
        "deterministic (eval mode, no dropout)",
    )
    alone = np.concatenate([model.embed([t]) for t in texts])
    expect(
        np.allclose(alone, vectors, atol=atol),
        f"{label}: a text embedded alone differs from the same text in a batch (largest "
        f"difference {_max_diff(alone, vectors)}): padding leaks into the vectors; pool with "
        "the attention mask",
    )
    if getattr(model.options, "normalize", False):
        norms = np.linalg.norm(vectors, axis=1)
        expect(
            bool(np.allclose(norms, 1.0, atol=1e-4)),
            f"{label} declares normalize=True but its vector norms are {np.round(norms, 4)}: "
            "divide each vector by its L2 norm",
        )
    expect(
        float(np.abs(vectors[0] - vectors[2]).max()) > atol,
        f"{label}.embed() returns the same vector for different texts",
    )

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))

    expect(
        cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]),
        f"{label}: similar texts must be closer than unrelated ones",
    )
    one = model.embed("red heart mug")
    expect(one.shape == (1, dimension), f"{label}.embed(str) must give shape (1, {dimension})")
    empty = model.embed([])
    expect(
        empty.shape == (0, dimension) and empty.dtype == np.float32,
        f"{label}: no texts must give a float32 (0, {dimension}) array",
    )
