"""Built-in tasks. Each is registered by the SDK's own plugin and resolved by name.

Importing this package loads only the :class:`Task` base: the task implementations (and the
scipy, lightgbm and scikit-learn they use) are imported by the ``ecomlm_sdk`` plugin
(:mod:`ecomlm_sdk._builtins`) when the registry is first built, or by importing a task's own
package (``ecomlm_sdk.tasks.prediction``, ...).
"""

from __future__ import annotations

from ecomlm_sdk.tasks.base import EvaluationReport, Task, TaskOptions

__all__ = ["EvaluationReport", "Task", "TaskOptions"]
