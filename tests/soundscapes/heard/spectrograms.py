"""Spectrogram pictures of layers, with what the tagger hears, for ``HEARD.md``.

    .venv/bin/python -m tests.soundscapes.heard.spectrograms after gulls fire
    .venv/bin/python -m tests.soundscapes.heard.spectrograms before     # every layer

Each picture is 20 s from the steady middle of a 70 s render at the defaults, seed 0 (from
30 s), as a log-frequency spectrogram, titled with the tagger's top 3 over 30–70 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from soundscapes.layers import create_layer, layer_names
from tests import ears

SR = 44_100
HERE = Path(__file__).parent


def picture(name: str, folder: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import signal

    audio = create_layer(name, seed=0).render(70 * SR).astype(np.float64)
    heard = ears.hear(audio[:, 30 * SR :], SR)
    mono = audio.mean(axis=0)[30 * SR : 50 * SR]
    freqs, times, power = signal.spectrogram(mono, fs=SR, nperseg=2048, noverlap=1536)
    level = 10 * np.log10(power + 1e-14)
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=90)
    keep = freqs >= 30
    ax.pcolormesh(times, freqs[keep], level[keep], shading="auto", cmap="magma",
                  vmin=level.max() - 80, vmax=level.max())  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylim(30, SR / 2)
    ax.set_xlabel("seconds")
    ax.set_ylabel("Hz")
    ax.set_title(f"{name} ({folder.name}): " + heard.describe(3), fontsize=9)
    fig.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str]) -> None:
    which, *names = argv
    for name in names or layer_names():
        print(picture(name, HERE / which))


if __name__ == "__main__":
    main(sys.argv[1:])
