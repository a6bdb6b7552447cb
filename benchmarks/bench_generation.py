"""Generation: the ``gpt2`` plugin's overhead over a bare ``model.generate``, and batching gain.

No hub is reachable, so the model is a GPT-2-small-shaped network (12 layers, 768 wide) with
random weights and a byte-level BPE tokenizer trained on clothing reviews: the compute per token
is that of GPT-2 small (smaller vocabulary), which is what the overhead is measured against.

* overhead: ``gen.generate(8 prompts)`` vs the same prompts through the tokenizer (left
  padding), ``model.generate`` with identical settings, and ``batch_decode``;
* batching: tokens/s of one call with 8 prompts vs 8 sequential one-prompt calls.

Medians over ``--repeat`` interleaved runs.

Usage::

    .venv/bin/python benchmarks/bench_generation.py [--repeat 5] [--new-tokens 32] [--scratch]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

import torch
from _modeldata import reviews

warnings.filterwarnings("ignore")

PROMPTS = [
    "Subject line for a spring sale:",
    "This dress",
    "Write a short description of a red ceramic heart mug:",
    "Thank you for your order! Your parcel",
    "Love it",
    "New in: linen shirts for summer, perfect for",
    "We are sorry your order arrived late. As an apology",
    "Top picks for you:",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--scratch", action="store_true", help="also time training from scratch")
    args = parser.parse_args()

    from transformers import GPT2Config, GPT2LMHeadModel

    import ecomlm_sdk
    from ecomlm_gpt2.training import Gpt2FitOptions, new_model
    from ecomlm_sdk.models.base import GenerationOptions

    corpus = reviews()["text"].head(5000).to_list()
    _, tokenizer = new_model(corpus, Gpt2FitOptions(vocab_size=8000))
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=256,
        n_embd=768,
        n_layer=12,
        n_head=12,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config).eval()
    folder = tempfile.mkdtemp(prefix="bench-gpt2-")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    gen = ecomlm_sdk.load_model("gpt2", name_or_path=folder, device="cpu", quiet=True)
    bare_model, bare_tok = gen.model, gen.tokenizer
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; model "
        f"{sum(p.numel() for p in bare_model.parameters()) / 1e6:.0f}M parameters"
    )

    settings = {"max_new_tokens": args.new_tokens, "do_sample": False}
    kwargs = gen.generation_kwargs(GenerationOptions(**settings))

    def bare() -> list[str]:
        enc = bare_tok(PROMPTS, padding=True, return_tensors="pt")
        with torch.inference_mode():
            out = bare_model.generate(**enc, **kwargs)
        return list(
            bare_tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        )

    def plugin() -> list[str]:
        return list(gen.generate(PROMPTS, **settings))  # type: ignore[arg-type]

    def sequential() -> list[str]:
        return [gen.generate([p], **settings)[0] for p in PROMPTS]  # type: ignore[misc]

    def tokens(outputs: list[str]) -> int:
        return sum(len(ids) for ids in bare_tok(outputs, add_special_tokens=False)["input_ids"])

    assert plugin() == bare(), "plugin and bare generate must give the same text"
    times: dict[str, list[float]] = {
        "bare model.generate": [],
        "ecomlm gpt2": [],
        "8 sequential calls": [],
    }
    counts: dict[str, int] = {}
    for rep in range(args.repeat):
        for name, run in (
            ("bare model.generate", bare),
            ("ecomlm gpt2", plugin),
            ("8 sequential calls", sequential),
        ):
            started = time.perf_counter()
            outputs = run()
            times[name].append(time.perf_counter() - started)
            counts[name] = tokens(outputs)
        print(
            f"run {rep + 1}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()),
            flush=True,
        )
    # Load-independent view: time inside model.generate vs the whole plugin call, same calls.
    inner: list[float] = []
    original = bare_model.generate

    def timed_generate(*a: object, **k: object) -> object:
        started = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            inner.append(time.perf_counter() - started)

    bare_model.generate = timed_generate
    shares = []
    for _ in range(args.repeat):
        inner.clear()
        started = time.perf_counter()
        plugin()
        total = time.perf_counter() - started
        shares.append(100 * (total - sum(inner)) / sum(inner))
    bare_model.generate = original
    print(
        f"time outside model.generate within the plugin's own calls: {statistics.median(shares):.2f}% (median)"
    )
    med = {n: statistics.median(t) for n, t in times.items()}
    overhead = 100 * (med["ecomlm gpt2"] / med["bare model.generate"] - 1)
    batch_rate = counts["ecomlm gpt2"] / med["ecomlm gpt2"]
    seq_rate = counts["8 sequential calls"] / med["8 sequential calls"]
    print("\nmedian seconds: " + ", ".join(f"{n} {t:.3f}" for n, t in med.items()))
    print(f"plugin overhead over bare model.generate: {overhead:+.1f}%")
    print(
        f"batch-8 {batch_rate:.1f} tokens/s vs sequential {seq_rate:.1f} tokens/s: {batch_rate / seq_rate:.2f}x"
    )
    if args.scratch:
        texts = reviews()["text"].str.split(".").list.first().drop_nulls().head(3000).to_list()
        started = time.perf_counter()
        small = ecomlm_sdk.load_model("gpt2", name_or_path=None, device="cpu", quiet=True)
        small.fit(texts, from_scratch=True)
        report = small.fit_report
        print(
            f"\nfrom scratch, default small config, {len(texts)} review first sentences: "
            f"{time.perf_counter() - started:.0f}s, {report.epochs_run} epochs, "
            f"eval perplexity {report.perplexity:.0f}"
        )


if __name__ == "__main__":
    main()
