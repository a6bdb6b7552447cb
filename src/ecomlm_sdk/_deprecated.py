"""Old names kept for one release: a module ``__getattr__`` that warns and hands out the new one.

Example (in a module that renamed ``Old`` to ``New``)::

    __getattr__ = renamed(__name__, {"Old": "New"}, globals())
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["renamed"]


def renamed(
    module: str, names: Mapping[str, str], namespace: Mapping[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving each old name in ``names`` to its new name.

    Args:
        module: The module's ``__name__`` (shown in the warning).
        names: Old name -> new name.
        namespace: The module's ``globals()``, where the new names live.
    """

    def __getattr__(name: str) -> Any:
        new = names.get(name)
        if new is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} is deprecated and will be removed in the next release; "
            f"use {module}.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return namespace[new]

    return __getattr__
