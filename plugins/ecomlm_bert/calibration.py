"""Temperature scaling (Guo et al., 2017): one scalar that makes softmax confidences honest.

A fine-tuned classifier is usually over-confident: it says 0.99 where it is right 90% of the
time. Dividing the logits by a temperature ``T`` fitted on held-out data (minimizing negative
log-likelihood) fixes the confidence without changing which label wins.
"""

from __future__ import annotations

import itertools

import torch

__all__ = ["expected_calibration_error", "fit_temperature"]


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, *, max_iter: int = 100) -> float:
    """The temperature minimizing the NLL of ``softmax(logits / T)`` on ``targets``.

    Args:
        logits: Held-out logits, shape ``(n, classes)``.
        targets: True class indices, shape ``(n,)``.
        max_iter: L-BFGS iterations.

    Returns:
        ``T`` in ``[0.05, 20]``; 1.0 when there is nothing to fit on.
    """
    if logits.numel() == 0 or logits.shape[0] < 2:
        return 1.0
    logits = logits.detach().float().cpu()
    targets = targets.detach().long().cpu()
    # Optimize log T so T stays positive without constraints.
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")
    loss_fn = torch.nn.CrossEntropyLoss()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss: torch.Tensor = loss_fn(logits / log_t.exp(), targets)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    with torch.enable_grad():
        optimizer.step(closure)  # type: ignore[no-untyped-call]
    value = float(log_t.exp().item())
    if value != value:  # NaN: the optimizer diverged, keep the raw logits
        return 1.0
    return min(max(value, 0.05), 20.0)


def expected_calibration_error(
    probabilities: torch.Tensor, targets: torch.Tensor, *, bins: int = 10
) -> float:
    """Expected calibration error: weighted gap between confidence and accuracy per bin."""
    if probabilities.shape[0] == 0:
        return 0.0
    confidence, predicted = probabilities.max(dim=1)
    correct = (predicted == targets).float()
    edges = torch.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            gap = (confidence[in_bin].mean() - correct[in_bin].mean()).abs()
            total += float(gap) * float(in_bin.float().mean())
    return total
