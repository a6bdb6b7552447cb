"""The ``gpt2`` generator plugin: loading, generation, streaming, training, saving, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ecomlm_sdk
from ecomlm_gpt2.generator import Gpt2Generator
from ecomlm_sdk import ModelError, testing


@pytest.fixture(scope="module")
def gen(tiny_gpt2_dir: str) -> Gpt2Generator:
    model = ecomlm_sdk.load_model("gpt2", name_or_path=tiny_gpt2_dir, device="cpu")
    assert isinstance(model, Gpt2Generator)
    return model


def test_load_model_from_local_folder_passes_the_contract(gen: Gpt2Generator) -> None:
    testing.check_text_generator(gen)
    assert gen.device == "cpu"
    assert gen.tokenizer.padding_side == "left"


def test_batched_generation_matches_one_prompt_at_a_time(gen: Gpt2Generator) -> None:
    prompts = ["red heart mug", "vintage star lamp for", "where is my"]
    batched = gen.generate(prompts, max_new_tokens=6)
    single = [gen.generate([p], max_new_tokens=6)[0] for p in prompts]
    assert batched == single


def test_greedy_output_is_the_argmax_continuation(gen: Gpt2Generator) -> None:
    ids = gen.tokenizer("red heart mug", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        for _ in range(4):
            next_id = gen.model(input_ids=ids).logits[0, -1].argmax()
            if int(next_id) == gen.tokenizer.eos_token_id:
                break
            ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
    expected = gen.tokenizer.decode(ids[0], skip_special_tokens=True)
    out = gen.generate("red heart mug", max_new_tokens=4)
    assert "red heart mug" + out[0] == expected


def test_sampling_is_reproducible_with_a_seed_and_leaves_global_rng_alone(
    gen: Gpt2Generator,
) -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = gen.generate(["large"], max_new_tokens=8, do_sample=True, temperature=1.5, seed=7)
    after = torch.rand(1)
    b = gen.generate(["large"], max_new_tokens=8, do_sample=True, temperature=1.5, seed=7)
    assert a == b
    assert torch.equal(before, after)


def test_num_return_sequences_gives_a_list_per_prompt(gen: Gpt2Generator) -> None:
    out = gen.generate(
        ["red", "blue"], max_new_tokens=5, do_sample=True, num_return_sequences=3, seed=1
    )
    assert len(out) == 2 and all(isinstance(group, list) and len(group) == 3 for group in out)


def test_stop_strings_cut_the_output(gen: Gpt2Generator) -> None:
    full = gen.generate(["small"], max_new_tokens=10)[0]
    assert len(full) > 2
    stop = full.strip()[:2]
    cut = gen.generate(["small"], max_new_tokens=10, stop=[stop])[0]
    assert stop not in cut and full.startswith(cut)


def test_greedy_stream_yields_exactly_what_generate_returns(gen: Gpt2Generator) -> None:
    pieces = list(gen.stream("handmade canvas", max_new_tokens=8))
    assert "".join(pieces) == gen.generate("handmade canvas", max_new_tokens=8)[0]
    assert len(pieces) >= 1


def test_stream_rejects_several_sequences(gen: Gpt2Generator) -> None:
    with pytest.raises(ModelError, match="one sequence"):
        list(gen.stream("red", num_return_sequences=2))


def test_long_prompt_keeps_its_end_within_the_context(gen: Gpt2Generator) -> None:
    out = gen.generate(["red mug " * 200], max_new_tokens=4)
    assert isinstance(out[0], str)


def test_missing_weights_error_names_the_fixes(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=1") as info:
        ecomlm_sdk.load_model("gpt2", name_or_path="no-such-org/no-such-model").generate("hi")
    assert "local folder" in str(info.value) and "from_scratch=True" in str(info.value)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="safetensors"):
        ecomlm_sdk.load_model("gpt2", name_or_path=str(tmp_path)).generate("hi")


def test_no_weights_until_trained_from_scratch() -> None:
    with pytest.raises(ModelError, match="from_scratch=True"):
        ecomlm_sdk.load_model("gpt2", name_or_path=None).generate("hi")


def test_from_scratch_training_learns_and_round_trips(tmp_path: Path) -> None:
    corpus = [
        f"the {c} {t} ships today" for c in ("red", "blue", "green") for t in ("mug", "lamp")
    ] * 12
    gen = ecomlm_sdk.load_model("gpt2", name_or_path=None, device="cpu", quiet=True)
    gen.fit(
        corpus,
        from_scratch=True,
        epochs=6,
        n_layer=1,
        n_embd=32,
        n_head=2,
        n_positions=64,
        block_size=32,
        vocab_size=300,
        learning_rate=1e-2,
        batch_size=2,
    )
    report = gen.fit_report
    assert report is not None and report.from_scratch and report.epochs_run >= 1
    assert report.history[0].train_loss > report.history[-1].train_loss
    assert report.perplexity is not None and report.perplexity < 20  # uniform over 300 tokens: 300
    greedy = gen.generate(["the red mug"], max_new_tokens=3)[0]
    assert greedy.strip().startswith("ships")
    folder = gen.save(tmp_path / "model")
    assert (folder / "model.safetensors").exists() and (folder / "ecomlm_model.json").exists()
    again = Gpt2Generator.load(folder, device="cpu")
    assert again.generate(["the red mug"], max_new_tokens=3)[0] == greedy


def test_fine_tuning_lowers_the_evaluation_loss(tiny_gpt2_dir: str) -> None:
    gen = Gpt2Generator.load(tiny_gpt2_dir, device="cpu", quiet=True)
    corpus = ["free shipping on every order over fifty pounds"] * 40
    gen.fit(corpus, epochs=3, learning_rate=5e-3, block_size=16, patience=3)
    losses = [h.eval_loss for h in gen.fit_report.history if h.eval_loss is not None]  # type: ignore[union-attr]
    assert len(losses) >= 2 and losses[-1] < losses[0]


def test_invalid_fit_option_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="Accepted"):
        Gpt2Generator(name_or_path=None).fit(["a b c"], from_scratch=True, epochz=2)


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ModelError, match="name_or_path"):
        ecomlm_sdk.load_model("gpt2", nme_or_path="x")
