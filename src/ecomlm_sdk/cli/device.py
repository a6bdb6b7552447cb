"""``ecomlm device``: which device and dtype models will use, and why."""

from __future__ import annotations

from typing import Any

import click

from ecomlm_sdk.cli.common import emit_json, json_option

__all__ = ["device_command", "device_report"]


def device_report(preference: str | None = None) -> dict[str, Any]:
    """What ``select_device`` chooses for ``preference``, with the facts behind the choice."""
    import torch

    from ecomlm_sdk.models.device import resolve_device

    choice = resolve_device(preference)
    cuda = torch.cuda.is_available()
    gpus = []
    if cuda:
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gpus.append(
                {
                    "index": index,
                    "name": props.name,
                    "memory_gib": round(props.total_memory / 2**30, 1),
                    "capability": f"{props.major}.{props.minor}",
                }
            )
    mps = getattr(torch.backends, "mps", None)
    return {
        "device": choice.device,
        "dtype": choice.dtype,
        "reason": choice.reason,
        "chosen_by": choice.chosen_by,
        "requested": preference or "auto",
        "torch": torch.__version__,
        "torch_cuda_build": torch.version.cuda,
        "cuda_available": cuda,
        "cuda_devices": gpus,
        "mps_available": bool(mps is not None and mps.is_available()),
        "cpu_threads": torch.get_num_threads(),
    }


@click.command("device")
@click.option(
    "--device",
    "preference",
    default=None,
    help="Ask for a device ('cpu', 'cuda', 'cuda:1', 'mps'); default: automatic.",
)
@json_option("Print JSON instead of text.")
def device_command(preference: str | None, as_json: bool) -> None:
    """Print the device and dtype models will use, and why (honours ECOMLM_DEVICE)."""
    report = device_report(preference)
    if as_json:
        emit_json(report)
        return
    click.echo(f"device:      {report['device']} ({report['dtype']})")
    click.echo(f"why:         {report['reason']}")
    click.echo(f"chosen by:   {report['chosen_by']}")
    click.echo(f"torch:       {report['torch']} (CUDA build: {report['torch_cuda_build'] or 'no'})")
    click.echo(f"cpu threads: {report['cpu_threads']}")
    for gpu in report["cuda_devices"]:
        click.echo(
            f"cuda:{gpu['index']}:      {gpu['name']}, {gpu['memory_gib']} GiB, "
            f"compute capability {gpu['capability']}"
        )
    if report["mps_available"]:
        click.echo("mps:         available")
