"""The speech cache: content keys, round trips, atomic writes, corrupt entries as misses."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from narrator.errors import SpeechError
from narrator.speech.base import EngineSpec
from narrator.speech.cache import SpeechCache, passage_key
from narrator.speech.registry import default_spec
from narrator.speech.synthesize import ensure_cached, passage_keys
from narrator.text.script import Passage

SPEC = EngineSpec(engine="fake", voice="tone", settings=(("seconds_per_word", 0.38),))
SENTENCES = ("The tide is slow.", "The lamps are low.")


def _clips(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in (1000, 2500, 17)]


def test_key_is_stable_and_changes_with_everything_that_changes_the_audio():
    key = passage_key(SPEC, "v1", SENTENCES)
    assert key == passage_key(SPEC, "v1", list(SENTENCES))
    assert len(key) == 64 and int(key, 16) >= 0
    variants = [
        passage_key(
            EngineSpec(engine="piper", voice="tone", settings=SPEC.settings), "v1", SENTENCES
        ),
        passage_key(
            EngineSpec(engine="fake", voice="low", settings=SPEC.settings), "v1", SENTENCES
        ),
        passage_key(
            EngineSpec(engine="fake", voice="tone", settings=(("seconds_per_word", 0.4),)),
            "v1",
            SENTENCES,
        ),
        passage_key(SPEC, "v2", SENTENCES),
        passage_key(SPEC, "v1", ("The tide is slow.", "The lamps are low!")),
        passage_key(SPEC, "v1", ("The tide is slow. The lamps are low.",)),
    ]
    assert len({key, *variants}) == len(variants) + 1


def test_key_ignores_settings_order_and_int_float_spelling():
    a = EngineSpec(engine="fake", settings=(("a", 1.0), ("b", "x")))
    b = EngineSpec(engine="fake", settings=(("b", "x"), ("a", 1.0)))
    assert passage_key(a, "v", SENTENCES) == passage_key(b, "v", SENTENCES)
    # default_spec turns a float setting given as an int into a float: one cache entry.
    assert default_spec("fake", seconds_per_word=1) == default_spec("fake", seconds_per_word=1.0)


def test_round_trip_is_exact(tmp_path: Path):
    cache = SpeechCache(tmp_path)
    key = passage_key(SPEC, "v1", SENTENCES)
    assert cache.get(key) is None
    clips = _clips()
    cache.put(key, clips, 22050)
    entry = cache.get(key)
    assert entry is not None and entry.sample_rate_hz == 22050
    assert len(entry.clips) == len(clips)
    for got, want in zip(entry.clips, clips, strict=True):
        assert got.dtype == np.float32 and np.array_equal(got, want)
    assert key in cache and len(cache) == 1
    assert cache.size_bytes() >= sum(c.nbytes for c in clips)


def _huge_header(data: bytes) -> bytes:
    """The entry with its audio's header claiming 10^11 samples over 1000 bytes of data."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            member = src.read(name)
            if name == "audio.npy":
                header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
                header["shape"] = (10**11,)
                buf = io.BytesIO()
                np.lib.format.write_array_header_1_0(buf, header)
                member = buf.getvalue() + bytes(1000)
            dst.writestr(name, member)
    return out.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"not a zip file at all",
        lambda data: data[: len(data) // 2],
        lambda data: b"",
        lambda data: _huge_header(data),  # a traceback: "Unable to allocate 373. GiB"
    ],
    ids=["garbage", "truncated", "empty", "huge-header"],
)
def test_a_corrupt_entry_is_a_miss_and_gets_overwritten(tmp_path: Path, damage):
    cache = SpeechCache(tmp_path)
    passages = [Passage(index=0, chapter=0, sentences=SENTENCES)]
    (key,) = passage_keys(passages, SPEC)
    assert ensure_cached(passages, SPEC, cache) == (0, 1)
    good = cache.get(key)
    path = cache.path(key)
    path.write_bytes(damage(path.read_bytes()))

    assert cache.get(key) is None
    assert ensure_cached(passages, SPEC, cache) == (0, 1)  # a miss, synthesized again
    again = cache.get(key)
    assert again is not None
    assert all(np.array_equal(a, b) for a, b in zip(again.clips, good.clips, strict=True))
    assert ensure_cached(passages, SPEC, cache) == (1, 0)


def test_a_failed_write_leaves_no_entry_no_temp_file_and_keeps_the_old_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cache = SpeechCache(tmp_path)
    key = passage_key(SPEC, "v1", SENTENCES)
    other = passage_key(SPEC, "v1", ("Another passage.",))
    cache.put(other, _clips(1), 22050)

    def broken_savez(handle, **arrays):
        handle.write(b"PK\x03\x04 half of a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        cache.put(key, _clips(), 22050)
    with pytest.raises(OSError, match="disk full"):
        cache.put(other, _clips(2), 22050)
    monkeypatch.undo()

    assert cache.get(key) is None and not cache.path(key).exists()
    kept = cache.get(other)
    assert kept is not None and np.array_equal(kept.clips[0], _clips(1)[0])
    leftovers = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and p not in (cache.path(other), tmp_path / "CACHEDIR.TAG")
    ]
    assert leftovers == []


def test_a_render_killed_mid_write_leaves_no_corrupt_entry(tmp_path: Path):
    """A process killed between writing and renaming (the worst moment) leaves only a stray
    temporary file named for it: the entry itself is absent, so the next render sees a clean
    miss, and sweeps the stray file when it checks the folder (its owner is gone)."""
    key = passage_key(SPEC, "v1", SENTENCES)
    child = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        from narrator.speech.cache import SpeechCache
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        SpeechCache({str(tmp_path)!r}).put({key!r}, [np.ones(50000, np.float32)], 22050)
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert done.returncode == -9
    cache = SpeechCache(tmp_path)
    assert not cache.path(key).exists()
    assert cache.get(key) is None
    (stray,) = [p for p in tmp_path.iterdir() if p.name.startswith(".narrator-")]
    assert stray.stat().st_size > 100_000  # the 200 kB clip, written but never renamed
    assert len(cache) == 0
    cache.check_writable()  # what a render does before synthesis: the dead owner's file goes
    assert not stray.exists()
    cache.put(key, _clips(), 22050)
    assert cache.get(key) is not None
    assert cache.clear() == 1
    assert cache.size_bytes() == 0 and cache.get(key) is None


def test_a_fifo_where_an_entry_goes_is_a_miss_at_once_and_clear_removes_it(tmp_path: Path):
    """A FIFO in place of an entry hung the render at its open, and ``cache --clear`` left
    it, so the next render hung again."""
    import os
    import threading

    cache = SpeechCache(tmp_path)
    passages = [Passage(index=0, chapter=0, sentences=SENTENCES)]
    (key,) = passage_keys(passages, SPEC)
    cache.path(key).parent.mkdir(parents=True)
    os.mkfifo(cache.path(key))
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(cache.get(key)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive() and got == [None]
    assert ensure_cached(passages, SPEC, cache) == (0, 1)  # synthesized, the FIFO replaced
    assert cache.get(key) is not None
    other = cache.path(passage_key(SPEC, "v", ("Another.",)))
    other.parent.mkdir(exist_ok=True)
    os.mkfifo(other)
    assert cache.clear() == 2 and not other.exists() and not cache.path(key).exists()


def test_clear_empties_the_cache(tmp_path: Path):
    cache = SpeechCache(tmp_path / "nested" / "speech")
    assert cache.size_bytes() == 0 and cache.clear() == 0
    for i in range(3):
        cache.put(passage_key(SPEC, "v", (f"Sentence {i}.",)), _clips(i), 22050)
    assert len(cache) == 3
    assert cache.clear() == 3
    assert len(cache) == 0 and cache.size_bytes() == 0


def test_default_folder_is_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert SpeechCache().folder == tmp_path / "narrator" / "speech"


def _dominant_hz(audio: np.ndarray, rate: int) -> float:
    """The strongest frequency between 50 and 400 Hz (a voice's fundamental, here)."""
    spectrum = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(audio.size, 1 / rate)
    band = (freqs > 50) & (freqs < 400)
    return float(freqs[band][np.argmax(spectrum[band])])


def test_another_voice_into_the_same_cache_is_synthesized_in_that_voice(tmp_path: Path):
    """The keys the renderer uses (``passage_keys``, through ``narrate``) hold the voice: the
    same story in the fake engine's ``low`` voice (80-110 Hz) and then its ``high`` one
    (180-240 Hz) into one cache is two sets of misses, and the second is pitched high."""
    from narrator.speech.narration import narrate
    from narrator.text.script import Chapter, Script

    script = Script(
        title="Harbour",
        chapters=(Chapter(index=0, title="Harbour"),),
        passages=(
            Passage(index=0, chapter=0, sentences=SENTENCES[:1]),
            Passage(index=1, chapter=0, sentences=("The lamps are low, and the harbour sleeps.",)),
        ),
    )
    cache = SpeechCache(tmp_path)
    low, high = default_spec("fake", "low"), default_spec("fake", "high")
    spoken = {}
    for spec in (low, high):
        narration = narrate(script, spec=spec, cache=cache)
        assert (narration.cache_hits, narration.cache_misses) == (0, 2), (
            f"voice {spec.voice!r} after another voice in the same cache: "
            f"{narration.cache_hits} hits, {narration.cache_misses} misses; the cache handed "
            "back the other voice's speech"
        )
        audio = narration.source().render(round(narration.end_s * narration.sample_rate_hz))
        spoken[spec.voice] = _dominant_hz(audio[0], narration.sample_rate_hz)
    assert spoken["low"] < 120 and spoken["high"] > 170, (
        f"the high voice speaks at {spoken['high']:.0f} Hz and the low one at "
        f"{spoken['low']:.0f} Hz: the second voice got the first one's cached speech"
    )
    assert set(passage_keys(script.passages, low)).isdisjoint(
        passage_keys(script.passages, high)
    ), "the speech cache key does not hold the voice: two voices share entries"


def test_an_entry_moved_to_another_key_s_place_is_a_miss(tmp_path: Path):
    """Entries swapped between two keys' places were hits: the render said another
    passage's words with "6 hits / 0 new"."""
    import shutil

    cache = SpeechCache(tmp_path)
    first, second = (passage_key(SPEC, "v", (f"Sentence {i}.",)) for i in (1, 2))
    cache.put(first, _clips(1), 22050)
    cache.put(second, _clips(2), 22050)
    cache.path(second).unlink()
    shutil.copy(cache.path(first), cache.path(second))
    assert cache.get(first) is not None
    assert cache.get(second) is None


def test_a_folder_where_an_entry_goes_is_named_and_cleared(tmp_path: Path):
    """The error named a scratch file already gone, and ``cache --clear`` left the folder,
    so every render stopped there again."""
    from narrator.errors import CacheError

    cache = SpeechCache(tmp_path)
    key = passage_key(SPEC, "v", ("Sentence.",))
    cache.path(key).mkdir(parents=True)
    with pytest.raises(CacheError) as caught:
        cache.put(key, _clips(1), 22050)
    assert str(caught.value).startswith(f"{cache.path(key)}: cannot write the speech cache")
    assert cache.clear() == 1 and not cache.path(key).exists()
    cache.put(key, _clips(1), 22050)
    assert cache.get(key) is not None


def test_an_entry_larger_than_any_passage_is_not_read(tmp_path: Path, monkeypatch):
    import narrator.speech.cache as cache_module

    cache = SpeechCache(tmp_path)
    key = passage_key(SPEC, "v", ("Sentence.",))
    cache.put(key, _clips(1), 22050)
    assert cache.get(key) is not None
    monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", cache.path(key).stat().st_size - 1)
    assert cache.get(key) is None


@pytest.mark.parametrize(
    ("clips", "rate", "why"),
    [
        ([np.array([0.1, np.nan, 0.2], np.float32)], 22050, "not numbers"),
        ([np.full(100, 40.0, np.float32)], 22050, "past full scale"),
        ([np.zeros(100, np.float32)], 4000, "sample rate of 4000 Hz"),
        ([np.zeros(8000 * 650, np.float32)], 8000, "650 s long"),
        ([np.zeros(100, np.float32), np.zeros(0, np.float32)], 22050, "an empty clip"),
    ],
)
def test_audio_the_cache_would_not_give_back_is_refused_when_put(tmp_path, clips, rate, why):
    """put refuses what get would refuse (and re-synthesize without end), saying what is wrong;
    it writes nothing."""
    cache = SpeechCache(tmp_path)
    key = passage_key(SPEC, "v", ("Sentence.",))
    with pytest.raises(SpeechError, match=why):
        cache.put(key, clips, rate)
    assert not cache.path(key).exists() and not list(tmp_path.rglob("*.npz"))


def test_a_passage_too_large_to_read_back_is_refused_when_put(tmp_path: Path, monkeypatch):
    import narrator.speech.cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", 2**20)
    cache = SpeechCache(tmp_path)
    key = passage_key(SPEC, "v", ("Sentence.",))
    with pytest.raises(SpeechError, match="MiB of audio"):
        cache.put(key, [np.zeros(2**18, np.float32)], 22050)  # 1 MiB and its headers
    cache.put(key, [np.zeros(2**18 - 2**15, np.float32)], 22050)
    assert cache.get(key) is not None
