"""``gpt2``: a :class:`TextGenerator` over any Hugging Face causal language model."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from pydantic import Field, ValidationError

from ecomlm_gpt2.training import Gpt2FitOptions, Gpt2FitReport, new_model, train_language_model
from ecomlm_sdk.errors import ModelError
from ecomlm_sdk.models.base import GenerationOptions, ModelOptions, TextGenerator, as_texts
from ecomlm_sdk.models.hf import (
    load_pretrained,
    load_tokenizer,
    read_metadata,
    saving,
    write_metadata,
)

__all__ = ["Gpt2Generator", "Gpt2Options"]


class Gpt2Options(ModelOptions):
    """Options of ``gpt2``."""

    name_or_path: str | None = Field(
        default="gpt2",
        description="Hub id or local folder of a causal LM; None: no weights until "
        "fit(texts, from_scratch=True).",
    )
    batch_size: int = Field(default=8, ge=1, description="Prompts generated together.")
    trust_remote_code: bool = Field(
        default=False, description="Allow code from the model repository to run."
    )


@contextmanager
def _seeded(seed: int | None, device: str) -> Iterator[None]:
    """Seed torch for one call without disturbing the caller's random state."""
    if seed is None:
        yield
        return
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class Gpt2Generator(TextGenerator[Gpt2Options]):
    """Batched, left-padded generation with any causal LM; fine-tuning and training from scratch.

    Example:
        ```py
        gen = ecomlm_sdk.load_model("gpt2", name_or_path="gpt2")   # or a local folder
        gen.generate(["Subject line for a spring sale:"], max_new_tokens=30, do_sample=True, seed=0)
        ```
    """

    name: ClassVar[str] = "gpt2"
    Options: ClassVar[type[ModelOptions]] = Gpt2Options

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._model: Any = None
        self._tokenizer: Any = None
        self.fit_report: Gpt2FitReport | None = None

    # ------------------------------------------------------------------------------ loading
    def _ensure_loaded(self) -> None:
        if self._model is not None:
            return
        source = self.options.name_or_path
        if source is None:
            raise ModelError(
                "Model 'gpt2' has no weights: it was created with name_or_path=None. Train one "
                "with fit(texts, from_scratch=True), or pass name_or_path=<hub id or folder>."
            )
        from transformers import AutoModelForCausalLM

        tokenizer = load_tokenizer(
            source, plugin="ecomlm_gpt2", trust_remote_code=self.options.trust_remote_code
        )
        model = load_pretrained(
            AutoModelForCausalLM,
            source,
            plugin="ecomlm_gpt2",
            trust_remote_code=self.options.trust_remote_code,
        )
        self._attach(model, tokenizer)

    def _attach(self, model: Any, tokenizer: Any) -> None:
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        if self.device != "cpu" and self.device_choice.dtype != "float32":
            model = model.to(self.device_choice.torch_dtype)
        self._model, self._tokenizer = model.to(self.device).eval(), tokenizer

    @property
    def model(self) -> Any:
        """The transformers causal LM (loaded on first use)."""
        self._ensure_loaded()
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The tokenizer (loaded on first use); pads on the left for batched generation."""
        self._ensure_loaded()
        return self._tokenizer

    # ------------------------------------------------------------------------------ generation
    def _encode(self, prompts: list[str], max_new_tokens: int) -> list[list[int]]:
        context = int(getattr(self.model.config, "n_positions", 0) or 1024)
        room = context - max_new_tokens
        if room < 1:
            raise ModelError(
                f"max_new_tokens={max_new_tokens} leaves no room for the prompt in this model's "
                f"context of {context} tokens; ask for fewer tokens."
            )
        start = self.tokenizer.bos_token_id or self.tokenizer.eos_token_id
        encoded = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        # An empty prompt starts from the start-of-text token; long prompts keep their end.
        return [list(ids)[-room:] if ids else [start] for ids in encoded]

    def generation_kwargs(self, config: GenerationOptions) -> dict[str, Any]:
        """The ``model.generate`` keyword arguments matching ``config`` (used by benchmarks too)."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "do_sample": config.do_sample,
            "num_return_sequences": config.num_return_sequences,
            "repetition_penalty": config.repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
        }
        if config.do_sample:
            kwargs.update(temperature=config.temperature, top_p=config.top_p, top_k=config.top_k)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def _generate(self, prompts: list[str], config: GenerationOptions) -> list[list[str]]:
        from ecomlm_sdk.models.batching import pad_batch

        ids = self._encode(prompts, config.max_new_tokens)
        # Similar lengths together: less left padding, fewer wasted positions.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        kwargs = self.generation_kwargs(config)
        outputs: list[list[str]] = [[] for _ in prompts]
        size = self.options.batch_size
        # TextGenerator.generate runs this under inference mode (Model.inference).
        with _seeded(config.seed, self.device):
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                input_ids, mask = pad_batch(
                    [ids[i] for i in batch], self.tokenizer.pad_token_id, left=True
                )
                generated = self.model.generate(
                    input_ids=self.place(input_ids),
                    attention_mask=self.place(mask),
                    **kwargs,
                )
                texts = self.tokenizer.batch_decode(
                    generated[:, input_ids.shape[1] :], skip_special_tokens=True
                )
                n = config.num_return_sequences
                for row, index in enumerate(batch):
                    outputs[index] = texts[row * n : (row + 1) * n]
        return outputs

    def stream(self, prompt: str, **options: Any) -> Iterator[str]:
        """Yield the continuation of one prompt piece by piece as it is generated.

        Takes the same options as :meth:`generate` (``num_return_sequences`` must be 1). Greedy
        streaming yields exactly the text ``generate`` returns.
        """
        from transformers.generation.logits_process import (
            LogitsProcessorList,
            RepetitionPenaltyLogitsProcessor,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        try:
            config = GenerationOptions(**options)
        except ValidationError as exc:
            raise ModelError(f"Invalid generation options: {exc}") from exc
        if config.num_return_sequences != 1:
            raise ModelError(
                "stream() yields one sequence; use generate() for num_return_sequences > 1"
            )
        (text,) = as_texts(prompt, what="prompt")
        processors = LogitsProcessorList()
        if config.repetition_penalty != 1.0:
            processors.append(RepetitionPenaltyLogitsProcessor(config.repetition_penalty))
        if config.do_sample:
            processors.append(TemperatureLogitsWarper(config.temperature))
            if config.top_k > 0:
                processors.append(TopKLogitsWarper(config.top_k))
            if config.top_p < 1.0:
                processors.append(TopPLogitsWarper(config.top_p))
        yield from self._stream(text, config, processors)

    def _stream(self, text: str, config: GenerationOptions, processors: Any) -> Iterator[str]:
        ids = torch.tensor([self._encode([text], config.max_new_tokens)[0]], device=self.device)
        eos = self.tokenizer.eos_token_id
        new: list[int] = []
        emitted = ""
        past, step_input = None, ids
        # transformers 5 names the key/value cache `cache`; older models `past_key_values`.
        params = inspect.signature(self.model.forward).parameters
        cache_arg = "cache" if "cache" in params else "past_key_values"
        # A private generator: the caller's random state is untouched between yields.
        rng = torch.Generator(device=self.device)
        if config.seed is not None:
            rng.manual_seed(config.seed)
        else:
            rng.seed()
        for _ in range(config.max_new_tokens):
            with self.inference():
                out = self.model(input_ids=step_input, use_cache=True, **{cache_arg: past})
                past = out.get(cache_arg)
                scores = processors(ids, out.logits[:, -1, :].float())
                if config.do_sample:
                    token = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=rng)
                else:
                    token = scores.argmax(dim=-1, keepdim=True)
            if int(token) == eos:
                break
            new.append(int(token))
            ids = torch.cat([ids, token], dim=1)
            step_input = token
            decoded = self.tokenizer.decode(new, skip_special_tokens=True)
            if config.stop and any(s and s in decoded for s in config.stop):
                cut = min(decoded.find(s) for s in config.stop if s and s in decoded)
                if cut > len(emitted):
                    yield decoded[len(emitted) : cut]
                return
            # Hold back a partial multi-byte character until it is complete.
            if len(decoded) > len(emitted) and not decoded.endswith("\ufffd"):
                yield decoded[len(emitted) :]
                emitted = decoded

    # ------------------------------------------------------------------------------ training
    def fit(self, texts: Any, *, from_scratch: bool = False, **kwargs: Any) -> Self:
        """Fine-tune on a corpus, or train a new small model and tokenizer on it.

        Args:
            texts: The corpus (product descriptions, support replies, ...).
            from_scratch: Train a new byte-level BPE tokenizer and a small GPT-2 (no hub needed).
            **kwargs: Fields of :class:`~ecomlm_gpt2.training.Gpt2FitOptions`.

        Returns:
            ``self``; ``self.fit_report`` holds losses, perplexity and the epoch kept.
        """
        corpus = [t for t in as_texts(texts) if t.strip()]
        if not corpus:
            raise ModelError("fit() got no non-empty texts: pass a corpus of strings")
        try:
            options = Gpt2FitOptions(**kwargs)
        except ValidationError as exc:
            raise ModelError(
                f"Invalid fit() arguments for 'gpt2': {exc}. Accepted: "
                f"{sorted(Gpt2FitOptions.model_fields)}"
            ) from exc
        if from_scratch:
            model, tokenizer = new_model(corpus, options)
        else:
            model, tokenizer = self.model.float(), self.tokenizer
        self.fit_report = train_language_model(
            model,
            tokenizer,
            corpus,
            options,
            device=self.device,
            from_scratch=from_scratch,
            quiet=self.options.quiet,
        )
        self._attach(model, tokenizer)
        return self

    # ------------------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write model, tokenizer (``save_pretrained`` layout, safetensors) and metadata.

        The save is atomic (see :func:`ecomlm_sdk.models.hf.saving`); ``ecomlm_model.json``
        records the sha256 of every file, checked by :meth:`load`.
        """
        folder = Path(path)
        model, tokenizer = self.model, self.tokenizer
        with saving(folder) as temp:
            model.save_pretrained(temp, safe_serialization=True)
            tokenizer.save_pretrained(temp)
            write_metadata(temp, self.name, source=self.options.name_or_path)
        return folder

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """Load a folder written by :meth:`save` (or any ``save_pretrained`` causal LM folder).

        A folder with ``ecomlm_model.json`` is checked against its manifest first. Code shipped
        in the folder (``auto_map``) runs only when the caller passes ``trust_remote_code=True``.
        """
        folder = Path(path)
        if (folder / "ecomlm_model.json").exists():
            read_metadata(folder, cls.name)
        if "name_or_path" in options:
            raise ModelError("load() takes the folder as `path`; do not pass name_or_path too")
        model = cls(name_or_path=str(folder), **options)
        model._ensure_loaded()
        return model
