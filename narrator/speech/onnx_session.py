"""The onnxruntime session every neural engine (piper, Kokoro) loads its model into."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def one_thread_session(model: Path, providers: Sequence[str]) -> Any:
    """An ``onnxruntime.InferenceSession`` of ``model`` with one intra- and one inter-op thread:
    ``--jobs`` runs one such worker per core, and more threads in each only fight over them.

    onnxruntime raises its own, untyped errors: the caller names the model in its message.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: no warnings on the user's terminal
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=list(providers))
