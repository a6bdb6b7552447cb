"""The report's campaign section and title: nothing synthetic presented as the shop's (issue 13)."""

from __future__ import annotations

from ecomlm_sdk import EcomStore, testing
from ecomlm_sdk.app.quickstart import QuickstartOptions, campaign_report, report_title
from ecomlm_sdk.report.campaigns import (
    NO_CAMPAIGNS_TITLE,
    STORE_CAMPAIGNS_TITLE,
    SYNTHETIC_TITLE,
)
from ecomlm_sdk.report.html import HtmlReport
from ecomlm_sdk.report.quickstart import versus


def _quiet(_: str) -> None:
    pass


def _without_campaigns(store: EcomStore) -> EcomStore:
    return store.replace(
        campaigns=store.campaigns.clear(), campaign_exposures=store.campaign_exposures.clear()
    )


def test_own_campaigns_are_measured_from_the_store() -> None:
    report = HtmlReport("t")
    headline = campaign_report(
        report, testing.fixture_store(), "exports/", QuickstartOptions(), _quiet
    )
    assert [s.title for s in report.sections] == [STORE_CAMPAIGNS_TITLE]
    assert list(headline) == ["campaign spring (treatment) incremental ROI"]
    page = report.render()
    assert "Spring sale (spring)" in page and "synthetic" not in page.lower()


def test_exports_without_campaigns_show_no_figures_and_how_to_measure() -> None:
    report = HtmlReport("t")
    store = _without_campaigns(testing.fixture_store())
    headline = campaign_report(report, store, "exports/", QuickstartOptions(), _quiet)
    assert headline == {}
    assert [s.title for s in report.sections] == [NO_CAMPAIGNS_TITLE]
    page = report.render()
    assert "no campaign exposures" in page and "campaign_experiment" in page
    assert "synthetic" not in page.lower() and "<table" not in page


def test_sample_shop_synthetic_experiment_is_labelled_everywhere() -> None:
    report = HtmlReport("t")
    store = _without_campaigns(testing.fixture_store())
    headline = campaign_report(report, store, None, QuickstartOptions(), _quiet)
    assert headline and all("synthetic" in key for key in headline)
    assert [s.title for s in report.sections] == [SYNTHETIC_TITLE]
    section = report.sections[0]
    captions = [part for part in section.parts if "<figcaption>" in part]
    assert captions and all("Synthetic experiment" in part for part in captions)


def test_title_names_the_store_source() -> None:
    assert "sample shop" in report_title(None)
    title = report_title("exports/", testing.fixture_store())
    assert "exports/" in title and "fixture" in title and "sample" not in title


def test_versus_names_the_strongest_baseline_and_the_fallback() -> None:
    baselines = {"popularity": {"ndcg@10": 0.1}, "repeat": {"ndcg@10": 0.566}}
    fallback = {"baseline": "repeat", "baseline_value": 0.566}
    text = versus("NDCG@10", {"ndcg@10": 0.546}, baselines, "ndcg@10", fallback)
    assert "does not beat" in text and "0.546" in text and "0.566" in text
    assert "buy-again" in text and "uses" in text
    win = versus("NDCG@10", {"ndcg@10": 0.6}, baselines, "ndcg@10", None)
    assert "above the strongest baseline, buy-again" in win
