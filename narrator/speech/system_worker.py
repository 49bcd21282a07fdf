"""Child process for the system engine: pyttsx3 in a process of its own, one batch per process.

Run by :mod:`narrator.speech.system` as a script (it imports only the standard library and
pyttsx3, so it starts fast and needs no install of narrator):

``python system_worker.py info``
    prints JSON: the driver's voices, espeak variants, and versions.
``python system_worker.py synth`` with a JSON job on stdin
    ``{"voice", "rate_wpm", "pitch", "utterance_timeout_s", "items": [[text, wav_path], ...]}``;
    writes each WAV and prints JSON ``{"errors": {wav_path: message}}``.

Why a process per batch (nateshmbhat/pyttsx3#219, and measured with pyttsx3 2.99): ``runAndWait()``
can return before the WAV is written, and re-creating the engine in one process has segfaulted. Here
every file waits for its ``finished-utterance`` event; the parent still checks every file, retries
the bad ones in a fresh process, and kills a process that hangs. The espeak driver prints "Audio
saved to …" on stdout, so stdout is redirected while pyttsx3 runs and only our JSON reaches the
parent.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

#: Times the worker sets the voice's rate and pitch before it gives up on a process.
SETTING_ATTEMPTS = 5


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


def _espeak_settings_check(engine) -> Callable[[dict[int, int]], bool] | None:
    """On the espeak driver, a check that espeak now holds the given settings; else ``None``.

    Why (measured with espeak-ng 1.51, pyttsx3 2.99): espeak runs asynchronously here, and in
    about one process of three hundred the rate we set was lost behind the driver's own initial
    rate 200, so the whole batch spoke 40 % too fast. pyttsx3 reads settings back with a
    one-argument call to ``espeak_GetParameter(parameter, current)``, which is why its read-back
    looks unreliable (trap 4); with both arguments it is exact.
    """
    if engine.proxy._module.__name__.rsplit(".", 1)[-1] != "espeak":
        return None
    import ctypes

    from pyttsx3.drivers import _espeak

    prototype = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
    current = prototype(("espeak_GetParameter", _espeak.dll))

    def holds(wanted: dict[int, int]) -> bool:
        _espeak.Synchronize()  # every queued setting applied first
        return all(current(parameter, 1) == value for parameter, value in wanted.items())

    return holds


def _synth(job: dict) -> dict[str, object]:
    import pyttsx3

    engine = pyttsx3.init()
    finished = threading.Event()
    failures: list[str] = []
    engine.connect("finished-utterance", lambda name, completed: finished.set())
    engine.connect("error", lambda name, exception: failures.append(str(exception)))
    settings = {"rate": int(job["rate_wpm"])}
    if job.get("pitch") is not None:
        settings["pitch"] = int(job["pitch"])
    engine.setProperty("voice", job["voice"])
    holds = _espeak_settings_check(engine)
    wanted: dict[int, int] = {}
    if holds is not None:
        from pyttsx3.drivers import _espeak

        codes = {"rate": _espeak.RATE, "pitch": _espeak.PITCH}
        wanted = {codes[name]: value for name, value in settings.items()}
    # Apply the properties now, before any text, so that a refused voice fails every file
    # instead of silently speaking them in the default voice (trap 3); on espeak, set them
    # again until espeak holds them.
    for attempt in range(SETTING_ATTEMPTS):
        for name, value in settings.items():
            engine.setProperty(name, value)
        if attempt == 0:
            # The driver starts busy, so pyttsx3 holds the settings until this runs them;
            # afterwards it is idle and applies each setting as it is given (and a
            # runAndWait with nothing to say would never return).
            engine.runAndWait()
        if failures or holds is None or holds(wanted):
            break
    else:
        failures.append(f"espeak did not take the settings {settings} in {SETTING_ATTEMPTS} tries")
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
        elif holds is not None and not holds(wanted):
            errors[path] = f"espeak lost the settings {settings} while speaking"
    return {"errors": errors}


def _die_with_parent() -> None:
    """Exit when the render that started us is gone (a ``kill -9`` leaves no one to read our
    result): a watchdog thread sees us re-parented. Standard library only, like the rest."""
    parent = os.getppid()

    def watch() -> None:
        while not threading.Event().wait(0.25):
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> int:
    _die_with_parent()
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
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group: the parent reports it
        sys.exit(130)
