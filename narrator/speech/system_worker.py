"""Child process for the system engine: pyttsx3 in a process of its own, one batch per process.

Run by :mod:`narrator.speech.system` as a script (it imports only the standard library and
pyttsx3, so it starts fast and needs no install of narrator):

``python system_worker.py info``
    prints JSON: the driver's voices, espeak variants, and versions.
``python system_worker.py synth`` with a JSON job on stdin
    ``{"voice", "rate_wpm", "pitch", "utterance_timeout_s", "items": [[text, wav_path], ...]}``;
    writes each WAV and prints JSON ``{"errors": {wav_path: message}}``.

Why a process per batch (SPEECH_ENGINES.md, traps 1 and 2): ``runAndWait()`` can return before
the WAV is written, and re-creating the engine in one process has segfaulted. Here every file
waits for its ``finished-utterance`` event; the parent still checks every file, retries the bad
ones in a fresh process, and kills a process that hangs. The espeak driver prints "Audio saved
to …" on stdout, so stdout is redirected while pyttsx3 runs and only our JSON reaches the parent.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
from importlib.metadata import PackageNotFoundError, version


def _info() -> dict[str, object]:
    import pyttsx3

    engine = pyttsx3.init()
    voices = [
        {
            "id": str(v.id),
            "name": str(v.name or ""),
            "languages": [str(x) for x in v.languages or []],
        }
        for v in engine.getProperty("voices")
    ]
    driver = engine.proxy._module.__name__.rsplit(".", 1)[-1]
    variants: list[str] = []
    driver_version = ""
    if driver == "espeak":
        import ctypes

        from pyttsx3.drivers import _espeak

        driver_version = (_espeak.Info(None) or b"").decode("utf-8", "replace")
        spec = _espeak.VOICE()
        spec.languages = b"variant"
        for v in _espeak.ListVoices(ctypes.pointer(spec)):
            ident = v.identifier.decode("utf-8", "replace")
            variants.append(ident.split("/", 1)[-1])
    try:
        pyttsx3_version = version("pyttsx3")
    except PackageNotFoundError:
        pyttsx3_version = "unknown"
    return {
        "driver": driver,
        "driver_version": driver_version,
        "pyttsx3": pyttsx3_version,
        "voices": voices,
        "variants": variants,
    }


def _synth(job: dict) -> dict[str, object]:
    import pyttsx3

    engine = pyttsx3.init()
    finished = threading.Event()
    failures: list[str] = []
    engine.connect("finished-utterance", lambda name, completed: finished.set())
    engine.connect("error", lambda name, exception: failures.append(str(exception)))
    engine.setProperty("voice", job["voice"])
    engine.setProperty("rate", int(job["rate_wpm"]))
    if job.get("pitch") is not None:
        engine.setProperty("pitch", int(job["pitch"]))
    # Apply the properties now, before any text, so that a refused voice fails every file
    # instead of silently speaking them in the default voice (trap 3).
    engine.runAndWait()
    if failures:
        setup_error = "; ".join(failures)
        return {"errors": {path: setup_error for _, path in job["items"]}}
    timeout_s = float(job.get("utterance_timeout_s", 30.0))
    errors: dict[str, str] = {}
    for text, path in job["items"]:
        finished.clear()
        failures.clear()
        engine.save_to_file(text, path)
        engine.runAndWait()
        if not finished.wait(timeout_s):
            errors[path] = f"no finished-utterance event within {timeout_s:g} s"
        elif failures:
            errors[path] = "; ".join(failures)
    return {"errors": errors}


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(io.StringIO()):
        if command == "info":
            result = _info()
        elif command == "synth":
            result = _synth(json.loads(sys.stdin.read()))
        else:
            sys.stderr.write("usage: system_worker.py info|synth\n")
            return 2
    real_stdout.write(json.dumps(result))
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
