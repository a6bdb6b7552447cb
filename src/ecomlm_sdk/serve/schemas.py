"""Request and response bodies of ``ecomlm serve`` (the support reply is the SDK's own)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ecomlm_sdk.tasks.support.reply import SupportReply

__all__ = [
    "CustomerScore",
    "Readiness",
    "Recommendations",
    "RecommendedProduct",
    "ScoresRequest",
    "ScoresResponse",
    "SupportReply",
    "SupportRequest",
]


class SupportRequest(BaseModel):
    """``POST /v1/support/answer``."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, description="What the customer wrote.")
    customer_token: str | None = Field(
        default=None,
        description="Token from the shop's backend naming the signed-in customer "
        "(make_customer_token); without one the answer gives no order details.",
    )


class RecommendedProduct(BaseModel):
    """One row of ``RecommendationTask.recommend`` (without the customer id)."""

    model_config = ConfigDict(frozen=True)

    rank: int = Field(description="1 is the best.")
    product_id: str
    title: str | None = None
    score: float


class Recommendations(BaseModel):
    """``GET /v1/recommendations/{customer_id}``."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    cold_start: bool = Field(description="No purchases known: these are the trending products.")
    items: list[RecommendedProduct]


class ScoresRequest(BaseModel):
    """``POST /v1/scores``."""

    model_config = ConfigDict(extra="forbid")

    customer_ids: list[str] = Field(min_length=1, description="Customers to score.")


class CustomerScore(BaseModel):
    """One row of ``PurchasePredictionTask.predict``."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    p_buy: float = Field(description="Probability of a purchase within the horizon.")
    expected_revenue: float


class ScoresResponse(BaseModel):
    """Scores of the known customers, and the ids the store does not hold."""

    model_config = ConfigDict(frozen=True)

    scores: list[CustomerScore]
    unknown: list[str]


class Readiness(BaseModel):
    """``GET /readyz`` and the body of ``POST /v1/admin/reload``."""

    model_config = ConfigDict(frozen=True)

    ready: bool
    version: int = Field(description="Loads of the model folder so far (0: none worked).")
    tasks: list[str] = Field(description="The tasks being served.")
    error: str | None = Field(default=None, description="Why the last load failed.")
