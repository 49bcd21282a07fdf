"""The onnxruntime session every neural engine (piper, Kokoro) loads its model into.

Loading a model makes onnxruntime rewrite its graph (fusing and folding nodes) every time:
for piper's joe voice 0.26 s of the 0.3 s a worker spends loading it, in every worker of
every render. The portable part of that rewrite (``ORT_ENABLE_EXTENDED``) is kept once per
model in the user's cache (``<cache>/narrator/models``, or ``$NARRATOR_MODEL_CACHE``) and
loaded from there: 0.13 s, with the same output and speed (measured on the demo's sentences,
2026-12-04). The rest (layouts for this CPU) is still done at each load, so a cache shared
between machines stays valid. A file that will not load is made again; a folder that cannot
be written only costs the time it would have saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from soundscapes.files import scratch_name, sweep_scratch

#: Bump to drop every kept graph (a change in how they are made).
_PREPARED_FORMAT = 1


def prepared_folder() -> Path:
    """Where rewritten model graphs are kept: ``$NARRATOR_MODEL_CACHE``, else
    ``<user cache dir>/narrator/models``."""
    configured = os.environ.get("NARRATOR_MODEL_CACHE")
    return (
        Path(configured) if configured else Path(platformdirs.user_cache_dir("narrator")) / "models"
    )


def _prepared_path(model: Path, providers: Sequence[str], version: str) -> Path | None:
    """The kept graph of ``model`` (by its path, size and time: no read of its bytes), or
    ``None`` when the model cannot be looked at."""
    try:
        real = model.resolve()
        stat = real.stat()
    except OSError:
        return None
    identity = repr(
        (_PREPARED_FORMAT, str(real), stat.st_size, stat.st_mtime_ns, version,
         tuple(providers), platform.machine())
    )  # fmt: skip
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    # Named by the file itself: a link to it (voices/my.onnx -> joe.onnx) shares its graph.
    return prepared_folder() / f"{real.stem}-{digest}.onnx"


def one_thread_session(model: Path, providers: Sequence[str]) -> Any:
    """An ``onnxruntime.InferenceSession`` of ``model`` with one intra- and one inter-op thread:
    ``--jobs`` runs one such worker per core, and more threads in each only fight over them.
    Its rewritten graph comes from the cache when kept there, and is kept there when not.

    onnxruntime raises its own, untyped errors: the caller names the model in its message.
    """
    import onnxruntime

    def options(save_to: Path | None = None) -> Any:
        chosen = onnxruntime.SessionOptions()
        chosen.intra_op_num_threads = 1
        chosen.inter_op_num_threads = 1
        chosen.log_severity_level = 3  # errors only: no warnings on the user's terminal
        if save_to is not None:
            chosen.optimized_model_filepath = str(save_to)
            chosen.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        return chosen

    def load(path: Path, save_to: Path | None = None) -> Any:
        return onnxruntime.InferenceSession(
            str(path), sess_options=options(save_to), providers=list(providers)
        )

    prepared = _prepared_path(Path(model), providers, onnxruntime.__version__)
    if prepared is None:
        return load(Path(model))
    if prepared.exists():
        try:
            return load(prepared)
        except Exception:  # cut short or damaged: made again below
            with contextlib.suppress(OSError):
                prepared.unlink()
    kept = _keep(prepared, lambda path: load(Path(model), save_to=path))
    # The session that wrote the graph ran only the portable rewrite: load the kept graph for
    # this CPU's (as every later load will), or the model itself when nothing was kept.
    return load(prepared) if kept else load(Path(model))


def _keep(prepared: Path, write: Callable[[Path], object]) -> bool:
    """Write the graph to ``prepared`` through ``write(path)`` (under a scratch name, then
    renamed, so a reader never sees half a file); whether it is there."""
    folder = prepared.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    sweep_scratch(folder)  # graphs cut short by a killed render
    scratch = folder / f"{scratch_name('graph')}-{prepared.name}"
    try:
        write(scratch)
        os.replace(scratch, prepared)
        return True
    except Exception:  # a full or read-only disk: the model loads without it
        return False
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink()
