"""The ``generate-copy`` task: email subject lines and product blurbs from segments and
recommended products. See :class:`CopyTask` and ``docs/guides/marketing-copy.md``.
"""

from __future__ import annotations

from ecomlm_sdk.tasks.copy.corpus import build_corpus, nice_title
from ecomlm_sdk.tasks.copy.segments import SEGMENTS, customer_segments
from ecomlm_sdk.tasks.copy.task import CopyOptions, CopyTask

__all__ = ["SEGMENTS", "CopyOptions", "CopyTask", "build_corpus", "customer_segments", "nice_title"]
