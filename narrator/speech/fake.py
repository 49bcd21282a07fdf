"""A fake engine: speech-shaped tones, instant and deterministic, for tests and dry runs.

Each sentence becomes a harmonic tone whose length follows its word count, amplitude-modulated
at a syllable rate, with engine-like silence at both edges so trimming has work to do. Pitch and
level come from a hash of the sentence, so passages differ in loudness the way real ones do and
level matching is exercised.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from narrator.errors import SpeechError, VoiceError
from narrator.speech.base import Engine, EngineSpec
from narrator.text.script import words_of

DEFAULT_VOICE = "tone"
#: ``seconds_per_word`` 0.38 gives about 158 wpm of voiced time: a little faster than the
#: 130 wpm sleep pace, like the real engines' defaults, so pacing adds pauses.
DEFAULT_SETTINGS: dict[str, float | int | str] = {"seconds_per_word": 0.38}
_TUNED_PACE_WPM = 130.0


#: ``sample_rate_hz`` changes the output rate (to exercise resampling); ``fail_on`` makes any
#: sentence containing that text fail, to exercise error paths.
OPTIONAL_SETTINGS: dict[str, type] = {"sample_rate_hz": int, "fail_on": str}
SETTING_RANGES: dict[str, tuple[float, float, str]] = {
    "seconds_per_word": (0.05, 5.0, "seconds"),
    "sample_rate_hz": (8_000, 192_000, "Hz"),
}
VOICES = ("tone", "low", "high")
_VOICE_F0_HZ = {"tone": (110.0, 170.0), "low": (80.0, 110.0), "high": (180.0, 240.0)}

#: Piper's rate, so a fake render resamples to 44.1 kHz as a real one does.
SAMPLE_RATE_HZ = 22_050
#: Edge silence around each clip, as real engines leave it, for the trimming to find.
LEAD_SILENCE_S, TRAIL_SILENCE_S = 0.05, 0.15
#: Voiced time added to every sentence, like a real engine's breath at the ends.
EXTRA_VOICED_S = 0.12
#: Syllables a second (about 4 in English speech): the rate of the voice's level swings.
SYLLABLE_RATE_HZ = 4.0
#: Raised-cosine onset and release of each clip: no click where the voice starts or stops.
_RAMP_S = 0.03


def check_voice(voice: str) -> str:
    if voice in VOICES:
        return voice
    raise VoiceError(f"unknown fake voice {voice!r}; choose one of: {', '.join(VOICES)}")


class FakeEngine:
    """Deterministic speech-like tones; see the module docstring."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.voice = check_voice(spec.voice or DEFAULT_VOICE)
        self.sample_rate_hz = int(spec.setting("sample_rate_hz", SAMPLE_RATE_HZ))
        self.seconds_per_word = float(
            spec.setting("seconds_per_word", DEFAULT_SETTINGS["seconds_per_word"])
        )
        self.fail_on = str(spec.setting("fail_on", ""))

    def synthesize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """One mono float32 clip per sentence, at :attr:`sample_rate_hz`."""
        return [self._sentence(text) for text in sentences]

    def close(self) -> None:
        pass

    def _sentence(self, text: str) -> np.ndarray:
        if self.fail_on and self.fail_on in text:
            raise SpeechError(f"the fake engine was told to fail on {self.fail_on!r}")
        rate = self.sample_rate_hz
        digest = zlib.crc32(f"{self.voice}\0{text}".encode())
        low_hz, high_hz = _VOICE_F0_HZ[self.voice]
        f0_hz = low_hz + (high_hz - low_hz) * ((digest & 0xFF) / 255.0)
        gain = 0.12 + 0.2 * (((digest >> 8) & 0xFF) / 255.0)  # about 8 dB of spread
        phase = 2.0 * np.pi * (((digest >> 16) & 0xFF) / 255.0)

        voiced_s = EXTRA_VOICED_S + self.seconds_per_word * max(1, len(words_of(text)))
        n = round(voiced_s * rate)
        t = np.arange(n) / rate
        # A slow glide in pitch and a few falling harmonics: enough to look like a voice on a
        # spectrum without being one.
        inst_hz = f0_hz * (1.0 + 0.04 * np.sin(2.0 * np.pi * 0.7 * t + phase))
        theta = 2.0 * np.pi * np.cumsum(inst_hz) / rate
        tone = sum(np.sin(k * theta) / k for k in range(1, 6))
        # Syllable-rate AM that never reaches zero, so the whole voiced span counts as voice.
        envelope = 0.6 + 0.4 * np.sin(2.0 * np.pi * SYLLABLE_RATE_HZ * t + phase)
        ramp = min(round(_RAMP_S * rate), n // 2)
        edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        envelope[:ramp] *= edge
        envelope[n - ramp :] *= edge[::-1]
        voiced = gain * tone * envelope / 1.6

        lead = np.zeros(round(LEAD_SILENCE_S * rate))
        trail = np.zeros(round(TRAIL_SILENCE_S * rate))
        return np.concatenate([lead, voiced, trail]).astype(np.float32)


class Fake(Engine):
    """Test tones shaped like speech: fast, deterministic, no install."""

    name = "fake"
    default_voice = DEFAULT_VOICE
    default_settings = DEFAULT_SETTINGS
    optional_settings = OPTIONAL_SETTINGS
    setting_ranges = SETTING_RANGES

    def available(self) -> bool:
        return True

    def voices(self) -> list[str]:
        return list(VOICES)

    def resolve_voice(self, voice: str) -> str:
        return check_voice(voice)

    def version(self, spec: EngineSpec) -> str:
        return "fake-1"

    def create(self, spec: EngineSpec) -> FakeEngine:
        return FakeEngine(spec)

    def settings_for_pace(self, pace_wpm: float) -> dict[str, float]:
        """``seconds_per_word`` for ``pace_wpm``, like the real engines' rates."""
        ratio = _TUNED_PACE_WPM / pace_wpm
        per_word_s = float(DEFAULT_SETTINGS["seconds_per_word"]) * ratio**1.25
        return {"seconds_per_word": round(min(max(per_word_s, 0.15), 0.8), 3)}
