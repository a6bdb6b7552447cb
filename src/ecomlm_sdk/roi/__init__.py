"""Honest ROI: money metrics, experiment analysis with intervals, uplift models, campaign planning.

The main entry points::

    from ecomlm_sdk.roi import analyze_experiment, plan_campaign, TwoModelUplift

    result = analyze_experiment(df, arm="arm", control="control", outcome="revenue",
                                cost_per_contact=0.05, margin=0.4)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecomlm_sdk.roi.base import RoiMetric
    from ecomlm_sdk.roi.campaign import (
        CampaignRoi,
        campaign_experiment,
        campaign_outcomes,
        campaign_roi,
    )
    from ecomlm_sdk.roi.experiment import (
        ArmResult,
        ExperimentOptions,
        ExperimentResult,
        SampleRatioCheck,
        SampleRatioMismatchWarning,
        analyze_experiment,
    )
    from ecomlm_sdk.roi.frames import DuplicateUnitWarning
    from ecomlm_sdk.roi.metrics import Cpa, MarginRoi, Profit, Roas, Roi
    from ecomlm_sdk.roi.planner import CampaignPlan, plan_campaign
    from ecomlm_sdk.roi.plots import (
        plot_arm_increments,
        plot_profit_curve,
        plot_qini_curve,
        plot_uplift_curve,
    )
    from ecomlm_sdk.roi.stats import Estimate
    from ecomlm_sdk.roi.synthetic import SyntheticExperiment, SyntheticTruth, synthetic_experiment
    from ecomlm_sdk.roi.uplift import (
        ClassTransformationUplift,
        TwoModelUplift,
        UpliftModel,
        default_classifier,
    )
    from ecomlm_sdk.roi.uplift_eval import (
        auuc,
        evaluate_uplift,
        perfect_qini_curve,
        perfect_uplift_curve,
        qini_coefficient,
        qini_curve,
        uplift_at_k,
        uplift_curve,
    )

# Loaded on first use: ``import ecomlm_sdk`` must not pay for scipy or matplotlib.
_EXPORTS: dict[str, str] = {
    "ArmResult": "ecomlm_sdk.roi.experiment",
    "CampaignPlan": "ecomlm_sdk.roi.planner",
    "CampaignRoi": "ecomlm_sdk.roi.campaign",
    "ClassTransformationUplift": "ecomlm_sdk.roi.uplift",
    "Cpa": "ecomlm_sdk.roi.metrics",
    "DuplicateUnitWarning": "ecomlm_sdk.roi.frames",
    "Estimate": "ecomlm_sdk.roi.stats",
    "ExperimentOptions": "ecomlm_sdk.roi.experiment",
    "ExperimentResult": "ecomlm_sdk.roi.experiment",
    "MarginRoi": "ecomlm_sdk.roi.metrics",
    "Profit": "ecomlm_sdk.roi.metrics",
    "Roas": "ecomlm_sdk.roi.metrics",
    "Roi": "ecomlm_sdk.roi.metrics",
    "RoiMetric": "ecomlm_sdk.roi.base",
    "SampleRatioCheck": "ecomlm_sdk.roi.experiment",
    "SampleRatioMismatchWarning": "ecomlm_sdk.roi.experiment",
    "SyntheticExperiment": "ecomlm_sdk.roi.synthetic",
    "SyntheticTruth": "ecomlm_sdk.roi.synthetic",
    "TwoModelUplift": "ecomlm_sdk.roi.uplift",
    "UpliftModel": "ecomlm_sdk.roi.uplift",
    "analyze_experiment": "ecomlm_sdk.roi.experiment",
    "auuc": "ecomlm_sdk.roi.uplift_eval",
    "campaign_experiment": "ecomlm_sdk.roi.campaign",
    "campaign_outcomes": "ecomlm_sdk.roi.campaign",
    "campaign_roi": "ecomlm_sdk.roi.campaign",
    "default_classifier": "ecomlm_sdk.roi.uplift",
    "evaluate_uplift": "ecomlm_sdk.roi.uplift_eval",
    "perfect_qini_curve": "ecomlm_sdk.roi.uplift_eval",
    "perfect_uplift_curve": "ecomlm_sdk.roi.uplift_eval",
    "plan_campaign": "ecomlm_sdk.roi.planner",
    "plot_arm_increments": "ecomlm_sdk.roi.plots",
    "plot_profit_curve": "ecomlm_sdk.roi.plots",
    "plot_qini_curve": "ecomlm_sdk.roi.plots",
    "plot_uplift_curve": "ecomlm_sdk.roi.plots",
    "qini_coefficient": "ecomlm_sdk.roi.uplift_eval",
    "qini_curve": "ecomlm_sdk.roi.uplift_eval",
    "synthetic_experiment": "ecomlm_sdk.roi.synthetic",
    "uplift_at_k": "ecomlm_sdk.roi.uplift_eval",
    "uplift_curve": "ecomlm_sdk.roi.uplift_eval",
}

__all__ = [
    "ArmResult",
    "CampaignPlan",
    "CampaignRoi",
    "ClassTransformationUplift",
    "Cpa",
    "DuplicateUnitWarning",
    "Estimate",
    "ExperimentOptions",
    "ExperimentResult",
    "MarginRoi",
    "Profit",
    "Roas",
    "Roi",
    "RoiMetric",
    "SampleRatioCheck",
    "SampleRatioMismatchWarning",
    "SyntheticExperiment",
    "SyntheticTruth",
    "TwoModelUplift",
    "UpliftModel",
    "analyze_experiment",
    "auuc",
    "campaign_experiment",
    "campaign_outcomes",
    "campaign_roi",
    "default_classifier",
    "evaluate_uplift",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "plan_campaign",
    "plot_arm_increments",
    "plot_profit_curve",
    "plot_qini_curve",
    "plot_uplift_curve",
    "qini_coefficient",
    "qini_curve",
    "synthetic_experiment",
    "uplift_at_k",
    "uplift_curve",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ecomlm_sdk.roi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
