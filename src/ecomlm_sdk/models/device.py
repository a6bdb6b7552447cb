"""Device choice: which device and dtype a model runs on, decided through the ``select_device`` hook."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ecomlm_sdk.errors import DeviceError
from ecomlm_sdk.plugins import call_hook

if TYPE_CHECKING:
    import torch

__all__ = ["DeviceChoice", "DeviceManager", "resolve_device"]

DType = Literal["float32", "bfloat16", "float16"]


class DeviceChoice(BaseModel):
    """The device a model runs on, the dtype it computes in, and why.

    Attributes:
        device: A torch device string: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
        dtype: Compute dtype for inference.
        reason: One sentence saying why this was chosen (shown by ``ecomlm device``).
        chosen_by: Name of the plugin or component that decided.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    device: str
    dtype: DType = "float32"
    reason: str = ""
    chosen_by: str = ""

    @property
    def torch_dtype(self) -> torch.dtype:
        """The dtype as a ``torch.dtype``."""
        import torch

        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
            self.dtype
        ]


class DeviceManager(ABC):
    """Decides devices. The built-in ``ecomlm_gpu`` plugin provides one through ``select_device``."""

    name: ClassVar[str]

    def select(self, preference: str | None = None) -> DeviceChoice:
        """Choose a device for ``preference`` (``None``/``"auto"``, ``"cpu"``, ``"cuda:0"``, ...).

        Raises:
            DeviceError: The preference names a device that cannot be used.
        """
        normalized = None if preference in (None, "", "auto") else str(preference).strip().lower()
        choice = self._select(normalized)
        if not isinstance(choice, DeviceChoice):
            raise DeviceError(
                f"Device manager {self.name!r} returned {choice!r}, not a DeviceChoice"
            )
        return choice

    @abstractmethod
    def _select(self, preference: str | None) -> DeviceChoice:
        """Choose a device; ``preference`` is ``None`` for automatic choice."""


def resolve_device(preference: str | None = None) -> DeviceChoice:
    """Ask the plugins (``select_device`` hook) for a device; CPU/float32 when none answers.

    ``ECOMLM_DEVICE`` is honoured by the built-in device manager when ``preference`` is None.
    """
    choice = call_hook("select_device", preference=preference)
    if choice is None:
        if preference not in (None, "", "auto", "cpu"):
            raise DeviceError(
                f"Device {preference!r} requested but no device plugin is loaded to provide it; "
                "install/enable the ecomlm_gpu plugin or pass device='cpu'."
            )
        return DeviceChoice(
            device="cpu", reason="no device plugin answered; using CPU", chosen_by="ecomlm_sdk"
        )
    if not isinstance(choice, DeviceChoice):
        raise DeviceError(f"select_device returned {choice!r}, not a DeviceChoice")
    return choice
