"""Target lists for activation: whom to contact, what to show them, in a file a tool imports.

:func:`target_list` scores every customer with a fitted purchase-prediction task, keeps those
who may be e-mailed (``accepts_marketing`` true and an address; unknown consent counts as no),
plans the campaign with :func:`ecomlm_sdk.roi.planner.plan_campaign` (``kind="propensity"``:
a contact wins ``incremental_share`` of each customer's expected purchase) and adds each
target's segment, recommended products, subject line and blurb. :func:`write_targets` writes it
in one of :data:`TARGET_FORMATS`:

* ``"csv"``: every column (lists joined with ``|``);
* ``"profiles"``: a profile CSV that Klaviyo and Mailchimp import (``Email``, ``First Name``,
  ``Last Name``, ``Tags`` and the figures as custom properties);
* ``"shopify"``: a Shopify customer-import CSV of the targets, each tagged (e.g.
  ``ecomlm-target-2026-12``) so the shop can select the segment in Shopify itself.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl

import ecomlm_sdk
from ecomlm_sdk.data.store import EcomStore
from ecomlm_sdk.errors import TaskError
from ecomlm_sdk.roi.planner import CampaignPlan, plan_campaign
from ecomlm_sdk.tasks.copy.corpus import nice_title, template_blurb, template_subject
from ecomlm_sdk.tasks.copy.recommend import Recommender
from ecomlm_sdk.tasks.copy.segments import customer_segments

__all__ = [
    "TARGET_COLUMNS",
    "TARGET_FORMATS",
    "TargetFormat",
    "TargetList",
    "default_tag",
    "target_list",
    "write_targets",
]

TargetFormat = Literal["csv", "profiles", "shopify"]
#: Formats :func:`write_targets` writes.
TARGET_FORMATS: Final[tuple[str, ...]] = ("csv", "profiles", "shopify")
#: Columns of :attr:`TargetList.targets`, in order.
TARGET_COLUMNS: Final[tuple[str, ...]] = (
    "customer_id",
    "email",
    "first_name",
    "last_name",
    "accepts_marketing",
    "p_buy",
    "expected_revenue",
    "expected_incremental_profit",
    "segment",
    "products",
    "subject",
    "blurb",
    "rank",
)


@dataclass(frozen=True)
class TargetList:
    """The customers to contact (:data:`TARGET_COLUMNS`, best first) and the plan behind them.

    Attributes:
        targets: One row per customer to contact.
        plan: The campaign plan (contacts, cost, expected incremental profit and ROI).
        candidates: Customers considered (after the consent filter).
        skipped_without_consent: Customers left out for lack of consent or of an address.
    """

    targets: pl.DataFrame
    plan: CampaignPlan
    candidates: int
    skipped_without_consent: int


def default_tag(today: dt.date | None = None) -> str:
    """``ecomlm-target-YYYY-MM`` for this month (UTC)."""
    day = today or dt.datetime.now(dt.UTC).date()
    return f"ecomlm-target-{day:%Y-%m}"


def _content(store: EcomStore, ids: list[str], copy: Any | None, products: int) -> pl.DataFrame:
    """``customer_id, segment, products, subject, blurb`` for ``ids``."""
    schema: dict[str, pl.DataType] = {
        "customer_id": pl.String(),
        "segment": pl.String(),
        "products": pl.List(pl.String()),
        "subject": pl.String(),
        "blurb": pl.String(),
    }
    if not ids:
        return pl.DataFrame(schema=schema)
    if copy is not None:
        written: pl.DataFrame = copy.generate(ids, store)
        return written.select(
            "customer_id",
            "segment",
            pl.col("products").list.eval(pl.element().map_elements(nice_title, pl.String)),
            "subject",
            "blurb",
        )
    segments = dict(customer_segments(store).select("customer_id", "segment").iter_rows())
    picks = Recommender.fit(store, name=None, options={}, k=products).recommend(ids, store)
    rows = []
    for i, cid in enumerate(ids):
        segment = str(segments.get(cid, "prospect"))
        titles = [nice_title(t) for t in picks.get(cid, [])]
        lead = titles[0] if titles else "our bestsellers"
        rows.append(
            (cid, segment, titles, template_subject(segment, titles, i), template_blurb(lead, i))
        )
    return pl.DataFrame(rows, schema=schema, orient="row")


def target_list(
    store: EcomStore,
    prediction: Any,
    *,
    budget: float | None = None,
    cost_per_contact: float = 0.10,
    margin: float = 0.35,
    incremental_share: float = 0.10,
    only_consenting: bool = True,
    copy: Any | None = None,
    products: int = 3,
) -> TargetList:
    """Whom to contact, best first, with what to show each of them.

    Args:
        store: The shop's data.
        prediction: A fitted ``purchase-prediction`` task (e.g. ``ecomlm_sdk.load_task(DIR)``).
        budget: Most to spend on contacts (``None``: every profitable contact).
        cost_per_contact: Cost of one e-mail.
        margin: Gross margin in (0, 1].
        incremental_share: Share of a contacted customer's expected purchase the contact
            causes; measure it with a holdout (``relative_lift / (1 + relative_lift)``).
        only_consenting: Keep only customers with ``accepts_marketing`` true and an e-mail
            address (unknown consent counts as no). ``False`` keeps everyone; the
            ``accepts_marketing`` column still says who consented.
        copy: A fitted ``generate-copy`` task for segment, products, subject and blurb; ``None``:
            the customer's own most-bought products topped up by best sellers, and the copy
            templates.
        products: Products per customer when ``copy`` is ``None``.

    Raises:
        TaskError: ``prediction`` is not a fitted purchase-prediction task.
    """
    if getattr(prediction, "name", None) != "purchase-prediction":
        raise TaskError(
            f"target_list needs a fitted purchase-prediction task, got "
            f"{getattr(prediction, 'name', type(prediction).__name__)!r}"
        )
    scores: pl.DataFrame = prediction.predict(store)
    people = store.customers.select(
        "customer_id",
        "email",
        "first_name",
        "last_name",
        pl.col("accepts_marketing").fill_null(False),
    )
    joined = scores.join(people, on="customer_id", how="inner")
    if only_consenting:
        allowed = joined.filter(pl.col("accepts_marketing") & pl.col("email").is_not_null())
    else:
        allowed = joined
    candidates = allowed.with_columns(
        order_value=pl.when(pl.col("p_buy") > 0)
        .then(pl.col("expected_revenue") / pl.col("p_buy"))
        .otherwise(0.0)
    )
    plan = plan_campaign(
        candidates.select("customer_id", "p_buy", "order_value"),
        score="p_buy",
        kind="propensity",
        order_value="order_value",
        incremental_share=incremental_share,
        cost_per_contact=cost_per_contact,
        margin=margin,
        budget=budget,
    )
    chosen = plan.targets.select("customer_id", "expected_incremental_profit", "rank")
    ids = chosen.get_column("customer_id").to_list()
    targets = (
        chosen.join(candidates, on="customer_id", how="left")
        .join(_content(store, ids, copy, products), on="customer_id", how="left")
        .sort("rank")
        .select(TARGET_COLUMNS)
    )
    return TargetList(
        targets=targets,
        plan=plan,
        candidates=candidates.height,
        skipped_without_consent=joined.height - allowed.height,
    )


def _profiles(targets: pl.DataFrame, tag: str) -> pl.DataFrame:
    """Klaviyo / Mailchimp profile import: standard columns, the rest as custom properties."""
    return targets.select(
        pl.col("email").alias("Email"),
        pl.col("first_name").alias("First Name"),
        pl.col("last_name").alias("Last Name"),
        pl.lit(tag).alias("Tags"),
        pl.col("customer_id").alias("ecomlm_customer_id"),
        pl.col("segment").alias("ecomlm_segment"),
        pl.col("p_buy").round(4).alias("ecomlm_p_buy"),
        pl.col("expected_revenue").round(2).alias("ecomlm_expected_revenue"),
        pl.col("products").list.join(" | ").alias("ecomlm_products"),
        pl.col("subject").alias("ecomlm_subject"),
        pl.col("blurb").alias("ecomlm_blurb"),
    )


def _shopify(targets: pl.DataFrame, store: EcomStore, tag: str, path: Path) -> None:
    """The targets' customer rows as a Shopify customer CSV, each with ``tag`` added."""
    if targets.is_empty():
        raise TaskError("the target list is empty: no Shopify customer file to write")
    ids = targets.get_column("customer_id").implode()
    customers = store.customers.filter(pl.col("customer_id").is_in(ids)).with_columns(
        pl.concat_list(pl.col("tags").fill_null([]), pl.lit([tag])).list.unique(maintain_order=True)
    )
    empty = {name: frame.clear() for name, frame in store.tables.items() if name != "customers"}
    with tempfile.TemporaryDirectory() as folder:
        written = store.replace(customers=customers, **empty).to_shopify_csv(folder)
        found = [p for p in written if p.name.startswith("customers")]
        if not found:
            raise TaskError("the shopify_csv writer wrote no customers file; nothing to import")
        shutil.move(str(found[0]), path)


def write_targets(
    targets: TargetList | pl.DataFrame,
    path: str | Path,
    *,
    format: TargetFormat = "csv",
    tag: str | None = None,
    store: EcomStore | None = None,
) -> Path:
    """Write a target list as ``format`` (see the module docstring) to ``path``.

    Args:
        targets: :func:`target_list`'s result, or its ``targets`` frame.
        path: The file (``format="csv"`` also writes ``.parquet`` and ``.jsonl`` by extension).
        format: ``"csv"``, ``"profiles"`` (Klaviyo, Mailchimp) or ``"shopify"``.
        tag: The tag of ``profiles`` and ``shopify`` rows (default :func:`default_tag`).
        store: The store the list came from (needed for ``shopify``: its customer rows).

    Raises:
        TaskError: An unknown format, or ``shopify`` without ``store``.
    """
    frame = targets.targets if isinstance(targets, TargetList) else targets
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    label = tag or default_tag()
    if format == "csv":
        return ecomlm_sdk.write_table(frame, target)
    if format == "profiles":
        _profiles(frame, label).write_csv(target)
        return target
    if format == "shopify":
        if store is None:
            raise TaskError("write_targets(format='shopify') needs the store the list came from")
        _shopify(frame, store, label, target)
        return target
    raise TaskError(
        f"unknown target-list format {format!r}; use one of {', '.join(TARGET_FORMATS)}"
    )
