"""Options of the ``support`` task: of the task itself and of its ``evaluate``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ecomlm_sdk.tasks.base import EvaluateOptions, TaskOptions

__all__ = ["SupportEvaluateOptions", "SupportOptions"]


class SupportOptions(TaskOptions):
    """Options of the ``support`` task. The hand-off defaults are documented in the guide."""

    classifier: str = Field(
        default="bert-classifier", description="Registered intent classifier (a TextClassifier)."
    )
    classifier_options: dict[str, Any] = Field(
        default_factory=dict, description="Options passed to load_model for the classifier."
    )
    classifier_fit_options: dict[str, Any] | None = Field(
        default=None,
        description="Keyword arguments for the classifier's fit(); None: its fast mode "
        "(mode='head' for bert-classifier, nothing for other classifiers).",
    )
    embedder: str = Field(
        default="minilm-embedder", description="Registered embedder for FAQ retrieval."
    )
    embedder_options: dict[str, Any] = Field(
        default_factory=dict, description="Options passed to load_model for the embedder."
    )
    generator: str | None = Field(
        default=None,
        description="Registered generator that rewords answers (e.g. 'gpt2'); None: no rewording.",
    )
    generator_options: dict[str, Any] = Field(
        default_factory=dict, description="Options passed to load_model for the generator."
    )
    examples_per_intent: int | None = Field(
        default=60,
        ge=1,
        description="Bitext utterances per intent used by fit() (fast default); None: all.",
    )
    use_store_tickets: bool = Field(
        default=True, description="Also train on the store's tickets that have an intent label."
    )
    builtin_intents: bool = Field(
        default=True,
        description="Train on the bundled Bitext intents (27), the store's labelled tickets "
        "adding the shop's own intents to them; False: the shop's taxonomy only, from the "
        "store's labelled tickets (body, intent), at least min_tickets_per_intent of each.",
    )
    min_tickets_per_intent: int = Field(
        default=5,
        ge=1,
        description="With builtin_intents=False, the fewest labelled tickets an intent needs; "
        "fit refuses a store with an intent under it (label more, or merge the intent).",
    )
    train_on_faq: bool = Field(
        default=True,
        description="Also train on the knowledge base's questions (plain phrasings such as "
        "'Where is my order?'), for the intents the classifier learns.",
    )
    faq_repeats: int = Field(
        default=5,
        ge=1,
        description="Times each FAQ question is repeated in the classifier's training rows, so "
        "one plain phrasing outweighs a few template look-alikes of another intent ('Where is "
        "my order?' against place_order's 'help me order items').",
    )
    min_confidence: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Hand off when the top intent's calibrated probability is lower.",
    )
    calibration_split: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Share of the training rows held out, by whole paraphrase family, to fit "
        "the temperature and the out-of-scope threshold; 0: neither (T = 1, no out_of_scope).",
    )
    family_similarity: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Cosine similarity of embeddings at which two training rows of one intent "
        "are paraphrases of each other (the same family: held out together).",
    )
    oos_neighbours: int = Field(
        default=5,
        ge=1,
        description="Nearest training examples averaged into a message's neighbour similarity.",
    )
    oos_quantile: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="Share of held-out in-scope messages (unseen families) that may fall under "
        "the fitted out-of-scope threshold; higher hands off more.",
    )
    min_neighbour_similarity: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="Out-of-scope threshold on the neighbour similarity; None: fitted on the "
        "held-out families (see oos_quantile).",
    )
    min_margin: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Hand off when the top two intents' probabilities are closer than this.",
    )
    min_similarity: float = Field(
        default=0.15,
        ge=-1,
        le=1,
        description="Hand off when the best FAQ entry's cosine similarity is lower.",
    )
    handoff_intents: tuple[str, ...] = Field(
        default=("contact_human_agent", "complaint"),
        description="Intents always passed to a person.",
    )
    languages: tuple[str, ...] | None = Field(
        default=("en",),
        description="Languages the classifier and embedder read (the bundled MiniLM: English). "
        "A message guessed to be in another (a dependency-free word and script check) is handed "
        "off as 'language' without being classified; None: no check, for a multilingual encoder.",
    )
    max_message_chars: int = Field(
        default=10_000,
        ge=1,
        description="Longer messages are handed to a person (reason 'too_long') without being "
        "redacted, classified or looked up, so one huge message cannot stall a batch.",
    )
    knowledge_base: str | None = Field(
        default=None, description="Path of a FAQ JSON file; None: the bundled one."
    )
    shop_name: str = Field(
        default="our shop", description="Fills {shop} in FAQ answers ('at {shop}')."
    )
    contact: str = Field(
        default="our customer service team", description="Fills {contact} in FAQ answers."
    )
    return_days: int | None = Field(
        default=None,
        ge=0,
        description="Days after delivery within which items can be returned; None: not stated "
        "(answers that need it point to policy_page or hand off).",
    )
    refund_days: int | None = Field(
        default=None, ge=0, description="Working days to refund once a return arrives."
    )
    delivery_days: str | None = Field(
        default=None, description="Standard delivery time, e.g. '3-5 working days'."
    )
    delivery_options: str | None = Field(
        default=None,
        description="Delivery options offered, e.g. 'standard (3-5 working days) and express "
        "(next working day) delivery'.",
    )
    payment_methods: str | None = Field(
        default=None, description="Accepted payment methods, e.g. 'Visa, Mastercard and PayPal'."
    )
    cancellation_fee: str | None = Field(
        default=None, description="What cancelling before dispatch costs, e.g. 'nothing'."
    )
    opening_hours: str | None = Field(
        default=None,
        description="When customer service answers, e.g. 'Monday to Friday, 9am to 5pm'.",
    )
    policy_page: str | None = Field(
        default=None,
        description="Where customers read the shop's policies (a URL or 'the Help page'); "
        "named when an answer needs a policy that is not set. None: hand off instead.",
    )
    cost_per_ticket: float = Field(
        default=6.0,
        ge=0,
        description="Cost of one ticket handled by a person, for evaluate()'s money_saved.",
    )
    test_size: float = Field(
        default=0.2, gt=0, lt=1, description="Share of Bitext held out by evaluate()."
    )
    seed: int = Field(default=0, description="Seed of the subset and of the held-out split.")


class SupportEvaluateOptions(EvaluateOptions):
    """Arguments of :meth:`SupportTask.evaluate` besides ``store`` and ``cutoff``."""

    cost_per_ticket: float | None = Field(
        default=None, ge=0, description="Cost of a ticket a person answers; None: the option."
    )
