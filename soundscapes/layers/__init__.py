"""The registry of procedural ambient layers.

>>> from soundscapes.layers import create_layer, layer_names
>>> layer = create_layer("tide", seed=7, intensity=0.3)
>>> block = layer.render(44100)   # float32, shape (2, 44100)

Every layer is a stateful :class:`~soundscapes.Source`: stereo, float32 ``(2, frames)``, with
all randomness drawn from its own ``numpy.random.default_rng(seed)``. At its default
parameters each measures :data:`~soundscapes.layers.spec.CALIBRATED_LUFS` integrated (BS.1770,
60 s); scenes set the gains.
"""

from __future__ import annotations

import difflib
import math
import operator

from soundscapes.errors import LayerError
from soundscapes.layers import bells, breath, fire, gulls, music, night, rain, storm, tide, wind
from soundscapes.layers.spec import LayerInfo, ParamInfo, ProceduralLayer
from soundscapes.source import SAMPLE_RATE_HZ, Source

__all__ = [
    "LayerInfo",
    "ParamInfo",
    "create_layer",
    "layer_class",
    "layer_info",
    "layer_names",
    "register_layer",
]

_MIN_SAMPLE_RATE_HZ = 8_000
_MAX_SAMPLE_RATE_HZ = 192_000

_LAYERS: dict[str, type[ProceduralLayer]] = {
    cls.info.name: cls
    for module in (storm, rain, wind, tide, gulls, breath, fire, night, music, bells)
    for cls in module.LAYERS
}


def register_layer(cls: type[ProceduralLayer]) -> type[ProceduralLayer]:
    """Make ``cls`` (a :class:`ProceduralLayer` with its :class:`LayerInfo`) a layer by its
    name: playable in scenes, listed by ``narrator layers``, and called up by its words. A new
    layer is one module and this one line (usable as a class decorator)."""
    _LAYERS[cls.info.name] = cls
    return cls


def layer_names() -> list[str]:
    """Names of every registered layer, sorted."""
    return sorted(_LAYERS)


def layer_class(name: str) -> type[ProceduralLayer]:
    """The class of the layer called ``name`` (see :func:`layer_info` for errors)."""
    return _layer_class(name)


def _layer_class(name: str) -> type[ProceduralLayer]:
    if isinstance(name, str) and name.startswith("file:"):
        # The user's own recording, looped. Imported here: soundscapes.recording builds on
        # soundscapes.layers.spec, whose import runs this module.
        from soundscapes.recording import recording_layer

        return recording_layer(name)
    try:
        return _LAYERS[name]
    except (KeyError, TypeError):
        pass
    close = difflib.get_close_matches(str(name), _LAYERS, n=3, cutoff=0.5)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = "valid layers: " + ", ".join(layer_names())
    raise LayerError(f"unknown layer {name!r}; {hint}")


def layer_info(name: str) -> LayerInfo:
    """Description and parameters of the layer called ``name``.

    Raises
    ------
    LayerError
        For an unknown name; the message lists the closest valid names.
    """
    return _layer_class(name).info


def create_layer(
    name: str | type[ProceduralLayer],
    *,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
    seed: int = 0,
    **params: float,
) -> Source:
    """Start a layer: a stateful stereo source rendering float32 ``(2, frames)`` blocks.

    Parameters
    ----------
    name : str or layer class
        A name from :func:`layer_names`, or ``file:PATH`` to loop a recording (see
        :mod:`soundscapes.recording`); or the class itself (:func:`layer_class`), which a
        source sent to another process carries instead of a name that process may not have
        registered.
    sample_rate_hz : int
        Output rate; the calibration holds at 44100 Hz (other rates are close, not checked).
    seed : int
        Seeds the layer's own random generator: same name, parameters and seed give the same
        samples.
    **params : float
        Values for the layer's parameters (see :func:`layer_info`); missing ones take their
        defaults.

    Raises
    ------
    LayerError
        Unknown layer or parameter, a value outside its range, a bad sample rate or seed.
    """
    cls = name if isinstance(name, type) else _layer_class(name)
    info = cls.info
    name = info.name
    known = {p.name: p for p in info.params}
    for key in params:
        if key not in known:
            valid = ", ".join(known) or "none"
            raise LayerError(f"layer {name!r} has no parameter {key!r}; valid parameters: {valid}")
    values: dict[str, float] = {}
    for spec in info.params:
        raw = params.get(spec.name, spec.default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise LayerError(
                f"layer {name!r}: parameter {spec.name!r} must be a number in "
                f"[{spec.minimum:g}, {spec.maximum:g}], got {raw!r}"
            ) from None
        if not (math.isfinite(value) and spec.minimum <= value <= spec.maximum):
            unit = f" {spec.unit}" if spec.unit else ""
            raise LayerError(
                f"layer {name!r}: parameter {spec.name!r} must be in "
                f"[{spec.minimum:g}, {spec.maximum:g}]{unit}, got {raw!r}"
            )
        values[spec.name] = value
    try:
        rate = operator.index(sample_rate_hz)
        seed_int = operator.index(seed)
    except TypeError:
        raise LayerError(
            f"layer {name!r}: sample_rate_hz and seed must be integers, "
            f"got {sample_rate_hz!r} and {seed!r}"
        ) from None
    if not _MIN_SAMPLE_RATE_HZ <= rate <= _MAX_SAMPLE_RATE_HZ:
        raise LayerError(
            f"layer {name!r}: sample_rate_hz must be in "
            f"[{_MIN_SAMPLE_RATE_HZ}, {_MAX_SAMPLE_RATE_HZ}], got {rate}"
        )
    if seed_int < 0:
        raise LayerError(f"layer {name!r}: seed must be a non-negative integer, got {seed_int}")
    return cls(sample_rate_hz=rate, seed=seed_int, params=values)
