"""The shop's policies (return window, delivery time, ...), filled into answers only when given.

A support bot must not promise a 30-day return window to the customers of a shop that gives 14.
Answers therefore name policies as placeholders (``{return_days}``, ``{delivery_days}``, ...),
filled from the task options or from the ``policies`` object of the shop's FAQ file. An answer
whose placeholders are not all known is never sent: the reply points to ``policy_page`` when
the shop gave one, and hands off otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = ["POLICY_NAMES", "fill", "missing_policies", "policy_values"]

#: Policy placeholders an answer may hold, and what each means (the option of the same name).
POLICY_NAMES: Final = {
    "return_days": "days after delivery within which an item can be returned, e.g. 30",
    "refund_days": "working days to refund once a return arrives, e.g. 5",
    "delivery_days": "standard delivery time, e.g. '3-5 working days'",
    "delivery_options": "the delivery options, e.g. 'standard (3-5 working days) and express'",
    "payment_methods": "accepted payment methods, e.g. 'Visa, Mastercard and PayPal'",
    "cancellation_fee": "what cancelling before dispatch costs, e.g. 'nothing'",
    "opening_hours": "when customer service answers, e.g. 'Monday to Friday, 9am to 5pm'",
}
_PLACEHOLDER: Final = re.compile(r"\{([a-z_]+)\}")


def policy_values(
    options: Mapping[str, object], from_file: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The known policies: the FAQ file's, overridden by the options that are set."""
    values = {k: str(v) for k, v in (from_file or {}).items() if k in POLICY_NAMES}
    for name in POLICY_NAMES:
        value = options.get(name)
        if value is not None:
            values[name] = str(value)
    return values


def missing_policies(answer: str, values: Mapping[str, str]) -> list[str]:
    """The policy placeholders of ``answer`` that ``values`` does not fill."""
    return [
        name for name in _PLACEHOLDER.findall(answer) if name in POLICY_NAMES and name not in values
    ]


def fill(answer: str, values: Mapping[str, str]) -> str:
    """``answer`` with every known placeholder (policies, ``{shop}``, ``{contact}``) filled."""

    def one(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(one, answer)
