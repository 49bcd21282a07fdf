"""Layer descriptions (:class:`ParamInfo`, :class:`LayerInfo`) and the base of every layer.

Kept apart from :mod:`soundscapes.layers` so layer modules can import them without importing
the registry that imports the layer modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from soundscapes.dsp import ChunkedSource

#: Every layer's integrated loudness at its default parameters (BS.1770, 60 s render).
CALIBRATED_LUFS = -30.0


@dataclass(frozen=True, kw_only=True)
class ParamInfo:
    """One numeric parameter of a layer."""

    name: str
    """Keyword accepted by :func:`soundscapes.layers.create_layer`."""
    default: float
    """Value used when the parameter is not given; the layer is calibrated at the defaults."""
    minimum: float
    """Smallest accepted value (inclusive)."""
    maximum: float
    """Largest accepted value (inclusive)."""
    unit: str
    """Unit of the value, for help text (``""`` for a 0..1 amount)."""
    description: str
    """One line: what turning it up does."""


@dataclass(frozen=True, kw_only=True)
class LayerInfo:
    """What a layer is and which parameters it takes."""

    name: str
    """Registry name, e.g. ``"storm-hush"``."""
    description: str
    """One line for ``narrator layers``."""
    params: tuple[ParamInfo, ...]
    """Accepted parameters, in display order."""
    calibrated_lufs: float = CALIBRATED_LUFS
    """Integrated loudness at default parameters (60 s render, any seed, within 1 dB)."""


def intensity_param(default: float, description: str) -> ParamInfo:
    """The common 0..1 ``intensity`` parameter."""
    return ParamInfo(
        name="intensity",
        default=default,
        minimum=0.0,
        maximum=1.0,
        unit="",
        description=description,
    )


def distance_param(default: float) -> ParamInfo:
    """The common 0..1 ``distance`` parameter: farther is quieter, darker and narrower."""
    return ParamInfo(
        name="distance",
        default=default,
        minimum=0.0,
        maximum=1.0,
        unit="",
        description="how far away it sounds: farther is quieter, darker and narrower",
    )


def width_param(default: float) -> ParamInfo:
    """The common 0..1 ``width`` parameter (0 mono, 1 full stereo)."""
    return ParamInfo(
        name="width",
        default=default,
        minimum=0.0,
        maximum=1.0,
        unit="",
        description="stereo width: 0 is mono, 1 is fully wide",
    )


class ProceduralLayer(ChunkedSource):
    """Base of the registered layers: a :class:`ChunkedSource` with an :class:`LayerInfo`.

    Subclasses set :attr:`info` and implement ``_render_chunk``. ``params`` arrive complete and
    validated (every name in :attr:`info`, each within its range).
    """

    info: ClassVar[LayerInfo]

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed)
        self.params = dict(params)
