"""The model contracts pass on the fakes, a scikit-learn classifier and the tiny offline models,
and fail on a broken component for each mistake."""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kit_tfidf import FitOptions, TfidfClassifier

import ecomlm_sdk
from ecomlm_sdk import GenerationOptions, testing


# ------------------------------------------------------------------------------ classifier
def test_classifiers_pass(tmp_path: Path) -> None:
    testing.check_text_classifier(testing.FakeClassifier(), tmp_path=tmp_path / "fake")
    testing.check_text_classifier(TfidfClassifier(), tmp_path=tmp_path / "tfidf")
    testing.check_text_classifier(TfidfClassifier(), fit_options={"c": 20.0})


def test_shuffled_probability_columns_are_caught() -> None:
    class FirstSeenLabels(TfidfClassifier):
        def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
            super()._fit(texts, labels, **kwargs)
            self.labels = list(dict.fromkeys(labels))  # but columns follow estimator.classes_

    with pytest.raises(AssertionError, match=r"columns do not follow `labels`.*classes_"):
        testing.check_text_classifier(FirstSeenLabels())


def test_flat_probabilities_are_caught() -> None:
    class OverRegularized(TfidfClassifier):
        def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
            super()._fit(texts, labels, c=0.01)

    with pytest.raises(AssertionError, match=r"is flat.*close to 1/3"):
        testing.check_text_classifier(OverRegularized())


def test_constant_probabilities_are_caught() -> None:
    class Priors(testing.FakeClassifier):
        def _predict_proba(self, texts: list[str]) -> np.ndarray:
            return np.full((len(texts), len(self.labels)), 1 / len(self.labels))

    with pytest.raises(AssertionError, match=r"same probabilities .* for every text"):
        testing.check_text_classifier(Priors())


def test_silently_accepted_fit_options_are_caught() -> None:
    class Lenient(TfidfClassifier):
        def _fit(self, texts: list[str], labels: list[str], **kwargs: Any) -> None:
            known = {k: v for k, v in kwargs.items() if k in FitOptions.model_fields}
            super()._fit(texts, labels, **known)  # drops misspelt options on the floor

    with pytest.raises(AssertionError, match="accepted the unknown option __not_a_fit_option__"):
        testing.check_text_classifier(Lenient())


def test_a_save_that_loses_state_or_pickles_is_caught(tmp_path: Path) -> None:
    class ForgetsLabelOrder(TfidfClassifier):
        @classmethod
        def load(cls, path: str | Path, **options: Any) -> Any:
            model = super().load(path, **options)
            model.labels = sorted(model.labels, reverse=True)
            return model

    with pytest.raises(AssertionError, match="labels after load"):
        testing.check_text_classifier(ForgetsLabelOrder())

    class Pickles(testing.FakeClassifier):
        def save(self, path: str | Path) -> Path:
            folder = super().save(path)
            (folder / "state.pkl").write_bytes(pickle.dumps(self._counts))
            return folder

    with pytest.raises(AssertionError, match=r"pickle files \['state.pkl'\]"):
        testing.check_text_classifier(Pickles(), tmp_path=tmp_path)


def test_a_classifier_without_save_is_told_how() -> None:
    class NoSave(TfidfClassifier):
        def save(self, path: str | Path) -> Path:
            return ecomlm_sdk.TextClassifier.save(self, path)

    with pytest.raises(AssertionError, match="implement save"):
        testing.check_text_classifier(NoSave())


# ------------------------------------------------------------------------------ generator
def test_generators_pass(tmp_path: Path, tiny_gpt2_dir: str) -> None:
    testing.check_text_generator(testing.FakeGenerator(), tmp_path=tmp_path / "fake")
    gpt2 = ecomlm_sdk.load_model("gpt2", name_or_path=tiny_gpt2_dir, device="cpu")
    testing.check_text_generator(gpt2, tmp_path=tmp_path / "gpt2")


def test_a_generator_ignoring_max_new_tokens_is_caught() -> None:
    class Rambles(testing.FakeGenerator):
        def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
            return super()._generate(prompts, config.model_copy(update={"max_new_tokens": 20}))

    with pytest.raises(AssertionError, match="ignored max_new_tokens=1"):
        testing.check_text_generator(Rambles())


def test_an_unseeded_sampler_is_caught() -> None:
    class Unseeded(testing.FakeGenerator):
        def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
            out = super()._generate(prompts, config)
            if config.do_sample:  # samples without seeding from config.seed
                return [[f"{o} {random.random()}" for o in group] for group in out]
            return out

    with pytest.raises(AssertionError, match="seed=123 twice gave different outputs"):
        testing.check_text_generator(Unseeded())


def test_batch_dependent_outputs_are_caught() -> None:
    class PadsOnTheRight(testing.FakeGenerator):
        def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
            width = max(len(p) for p in prompts)
            return super()._generate([p.ljust(width, "_") for p in prompts], config)

    with pytest.raises(AssertionError, match="pad on the left"):
        testing.check_text_generator(PadsOnTheRight())


def test_a_generator_returning_one_string_per_batch_is_caught() -> None:
    class Joins(testing.FakeGenerator):
        def generate(self, prompts: Any, **options: Any) -> Any:
            return [" ".join(map(str, super().generate(prompts, **options)))]

    with pytest.raises(AssertionError, match="one output per prompt"):
        testing.check_text_generator(Joins())


# ------------------------------------------------------------------------------ embedder
def test_embedders_pass(tiny_bert_dir: str) -> None:
    testing.check_embedder(testing.FakeEmbedder())
    testing.check_embedder(testing.FakeEmbedder(normalize=False, dimension=16))
    testing.check_embedder(
        ecomlm_sdk.load_model("minilm-embedder", name_or_path=tiny_bert_dir, device="cpu")
    )


def test_an_embedder_declaring_normalize_but_not_normalizing_is_caught() -> None:
    class Unnormalized(testing.FakeEmbedder):
        def _embed(self, texts: list[str]) -> np.ndarray:
            return 3.0 * super()._embed(texts)

    with pytest.raises(AssertionError, match="declares normalize=True"):
        testing.check_embedder(Unnormalized())


def test_padding_leaking_into_vectors_is_caught() -> None:
    class PoolsPadding(testing.FakeEmbedder):
        def _embed(self, texts: list[str]) -> np.ndarray:
            vectors = super()._embed(texts)
            longest = max(len(t) for t in texts)
            # mean over padded length instead of the text's own length
            scale = np.array([len(t) / longest for t in texts], dtype=np.float32)
            return vectors * scale[:, None]

    with pytest.raises(AssertionError, match="padding leaks into the vectors"):
        testing.check_embedder(PoolsPadding(normalize=False))


def test_nondeterministic_or_constant_embeddings_are_caught() -> None:
    class Noisy(testing.FakeEmbedder):
        def _embed(self, texts: list[str]) -> np.ndarray:
            noise = np.random.default_rng().normal(0, 0.01, (len(texts), self.dimension))
            return super()._embed(texts) + noise

    with pytest.raises(AssertionError, match="different vectors for the same texts"):
        testing.check_embedder(Noisy(normalize=False))

    class Constant(testing.FakeEmbedder):
        def _embed(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), self.dimension)) / np.sqrt(self.dimension)

    with pytest.raises(AssertionError, match="same vector for different texts"):
        testing.check_embedder(Constant())
