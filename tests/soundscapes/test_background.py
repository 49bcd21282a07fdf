"""Rendering a source in a child process: same samples, errors reach the parent."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from soundscapes.background import BackgroundSource
from soundscapes.errors import SoundscapeError
from soundscapes.layers import create_layer
from tests.conftest import TimeSource

SR = 44_100


def _fails_after_2_s(t_s: np.ndarray) -> np.ndarray:
    """A signal that breaks after two seconds, as a bad recording would."""
    if t_s[-1] > 2.0:
        raise ValueError("decoder gave up at 2 s")
    return np.zeros_like(t_s)


@pytest.mark.parametrize("reuse", [False, True])
def test_same_samples_as_rendering_here(reuse):
    """In blocks of any size, shorter and longer than the child's: with ``reuse`` what is left
    of a block must outlive the next one landing where it was."""
    total = 5 * SR + 123
    expected = create_layer("tide", seed=3).render(total)
    rng = np.random.default_rng(0)
    pieces = []
    with BackgroundSource(create_layer("tide", seed=3), total, reuse=reuse) as bg:
        got = 0
        while got < total + 500:
            n = int(rng.integers(1, 90_000))
            pieces.append(bg.render(n).copy())  # a reused block holds until the next call
            got += n
    out = np.concatenate(pieces, axis=1)
    np.testing.assert_array_equal(out[:, :total], expected)
    assert np.all(out[:, total:] == 0)  # past the end: silence
    assert bg.busy_s > 0


def test_an_error_in_the_child_is_raised_here():
    with (
        BackgroundSource(TimeSource(_fails_after_2_s), 10 * SR) as bg,
        pytest.raises(SoundscapeError, match="decoder gave up at 2 s"),
    ):
        for _ in range(10):
            bg.render(SR)


def test_a_killed_child_is_a_clear_error():
    with BackgroundSource(create_layer("rain", seed=1), 600 * SR) as bg:
        bg.render(1000)
        os.kill(bg._proc.pid, signal.SIGKILL)
        with pytest.raises(SoundscapeError, match="stopped unexpectedly"):
            for _ in range(1000):
                bg.render(SR)


def test_a_child_that_fails_after_its_reader_is_gone_says_nothing(monkeypatch):
    """A batch's Ctrl-C: the ambience process failed as its reader went, its report hit a
    broken pipe, and a traceback reached the user's terminal under "interrupted"."""
    from multiprocessing import Pipe

    import soundscapes.background as background
    from soundscapes.errors import SoundscapeError

    monkeypatch.setattr(background, "become_child", lambda owner_pid: None)
    for failure in (SoundscapeError("the ambience process stopped"), ValueError("boom")):
        reader, writer = Pipe(duplex=False)
        reader.close()
        with background._reporting(writer, os.getpid()):
            raise failure
