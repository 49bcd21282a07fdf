"""White and stereo noise drawn in fixed 64-frame blocks (block-size invariant)."""

from __future__ import annotations

import math

import numpy as np

# --- noise ------------------------------------------------------------------------------------


#: Frames per block of :func:`white_noise`'s stream (a divisor of every chunk at any rate).
_NOISE_BLOCK = 64


def white_noise(
    rng: np.random.Generator, shape: tuple[int, ...], scale: float | np.ndarray = 1.0
) -> np.ndarray:
    """Uniform white noise with standard deviation ``scale`` (unit variance by default).

    ``scale`` is a number or one per row (``shape[0]`` of a 2-D shape).

    Drawn as raw 64-bit words from the generator's bit stream, read as four 16-bit integers
    each: the fastest i.i.d. samples numpy offers (about a quarter of the cost of
    ``standard_normal``); after any filtering the uniform distribution is indistinguishable
    from a Gaussian one. The stream is laid out in blocks of 64 frames (each row's 64 samples
    in turn: contiguous reads, a third cheaper than sample by sample), so consecutive draws
    continue one stream whatever the block sizes, as long as each draw's frame count is a
    multiple of 64 (every chunk's is, at any rate); any remainder is drawn frame by frame.

    Returns
    -------
    numpy.ndarray
        float32 of the given shape.
    """
    count = math.prod(shape)
    frames = shape[-1]
    rows = count // frames if frames else 0
    words = rng.bit_generator.random_raw(-(-count // 4))
    raw = words.view(np.int16)[:count]
    out = np.empty((rows, frames), dtype=np.float32)
    factor = (np.asarray(scale, dtype=np.float32) * np.float32(math.sqrt(3.0) / 32768.0)).reshape(
        -1, 1
    )
    blocks = frames // _NOISE_BLOCK
    whole = blocks * _NOISE_BLOCK
    if blocks:
        stream = raw[: rows * whole].reshape(blocks, rows, _NOISE_BLOCK).transpose(1, 0, 2)
        blocked = out[:, :whole].reshape(rows, blocks, _NOISE_BLOCK)
        np.multiply(stream, factor[:, :, None], out=blocked)
    if whole < frames:
        tail = raw[rows * whole :].reshape(frames - whole, rows).T
        np.multiply(tail, factor, out=out[:, whole:])
    return out.reshape(shape)


def stereo_noise(
    rng: np.random.Generator, frames: int, width: float, scale: float = 1.0
) -> np.ndarray:
    """White noise per ear, as :func:`set_width` on independent ears: float32 ``(2, frames)``.

    Drawn as mid and side noise, ``L = M + S`` and ``R = M - S``, the side ``width`` times the
    mid: the same level and correlation between the ears as the width applied afterwards, in
    two passes over the audio instead of six.
    """
    # M at sqrt(1/2) of ``scale`` and S ``width`` times that: each ear then carries
    # sqrt((1 + width^2) / 2) of ``scale`` and the ears correlate by (1 - width^2) / (1 + width^2),
    # exactly what set_width makes of two independent ears at ``scale``.
    half = scale * math.sqrt(0.5)
    mid, side = white_noise(rng, (2, frames), [half, half * width])
    out = np.empty((2, frames), dtype=np.float32)
    np.add(mid, side, out=out[0])
    np.subtract(mid, side, out=out[1])
    return out
