"""Layer descriptions (:class:`ParamInfo`, :class:`LayerInfo`) and the base of every layer.

Kept apart from :mod:`soundscapes.layers` so layer modules can import them without importing
the registry that imports the layer modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from soundscapes.dsp import ChunkedSource, db_to_gain

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
    words: Mapping[str, float] = field(default_factory=dict)
    """Words and phrases that call the layer up in a story, with a weight: 1.0 for a word that
    names the sound or its source ("rain", "piano"), less for one that only suggests it
    ("puddle"). Scene direction (narrator) reads them from here."""
    noun_only: frozenset[str] = frozenset()
    """Of :attr:`words`, those whose verb forms mean something else ("waved" is a hand, "fired"
    a job): they match only as nouns and plurals."""
    bed: bool = False
    """A continuous layer: a scene holding one never falls silent between events (gulls,
    chimes and melody come and go; tide, rain and wind do not)."""


def param(
    name: str, default: float, span: tuple[float, float], unit: str, description: str
) -> ParamInfo:
    """A :class:`ParamInfo` in one line: name, default, ``(minimum, maximum)``, unit, description.

    >>> param("bpm", 55.0, (40.0, 72.0), "beats/min", "beats per minute").maximum
    72.0
    """
    minimum, maximum = span
    return ParamInfo(
        name=name,
        default=default,
        minimum=minimum,
        maximum=maximum,
        unit=unit,
        description=description,
    )


def _fraction(name: str, default: float, description: str) -> ParamInfo:
    """A 0..1 amount (no unit)."""
    return param(name, default, (0.0, 1.0), "", description)


def intensity_param(default: float, description: str) -> ParamInfo:
    """The common 0..1 ``intensity`` parameter."""
    return _fraction("intensity", default, description)


def distance_param(default: float) -> ParamInfo:
    """The common 0..1 ``distance`` parameter: farther is quieter, darker and narrower."""
    return _fraction(
        "distance", default, "how far away it sounds: farther is quieter, darker and narrower"
    )


def width_param(default: float) -> ParamInfo:
    """The common 0..1 ``width`` parameter (0 mono, 1 full stereo)."""
    return _fraction("width", default, "stereo width: 0 is mono, 1 is fully wide")


def placement(
    intensity: float, intensity_help: str, *, distance: float, width: float | None
) -> tuple[ParamInfo, ...]:
    """The parameters most layers share, in display order: :func:`intensity_param` (what
    ``intensity_help`` says turning it up does), :func:`distance_param` and, but for a mono
    layer (``width=None``), :func:`width_param`; the numbers are their defaults."""
    shared = intensity_param(intensity, intensity_help), distance_param(distance)
    return shared if width is None else (*shared, width_param(width))


class ProceduralLayer(ChunkedSource):
    """Base of the registered layers: a :class:`ChunkedSource` with an :class:`LayerInfo`.

    Subclasses set :attr:`info` and :attr:`_GAIN_DB`, set themselves up in :meth:`_build` and
    implement ``_render_chunk``. ``params`` arrive complete and validated (every name in
    :attr:`info`, each within its range).
    """

    info: ClassVar[LayerInfo]
    #: The layer's gain in dB, found by measurement so that its defaults read
    #: :data:`CALIBRATED_LUFS` (60 s renders over several seeds); ``_gain`` is its amplitude.
    _GAIN_DB: ClassVar[float] = 0.0

    def __init__(self, *, sample_rate_hz: int, seed: int, params: Mapping[str, float]) -> None:
        super().__init__(sample_rate_hz=sample_rate_hz, seed=seed)
        self.params = dict(params)
        self._gain = db_to_gain(self._GAIN_DB)
        self._build(**self.params)

    def _build(self, **params: float) -> None:
        """Set the layer up from its parameters, passed by name (those of :attr:`info`); the
        rate, :attr:`rng` and chunking are ready. Nothing to do here."""
