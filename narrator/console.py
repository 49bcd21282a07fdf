"""The ``narrator`` process itself (the installed command and ``python -m narrator``): the CLI,
then an exit that skips the interpreter's teardown.

Everything registered to run at exit still runs first (multiprocessing stops its helpers and
removes its folder, the threads the CLI left are joined); what is skipped is Python freeing
every module and object one by one, which the system does at once when the process ends:
0.09 s after importing scipy.signal alone, 0.13 s after an hour's bed (2-core Intel Xeon
host, 2026-12-06), on every command. In-process callers use :func:`narrator.cli.main`, which leaves
their interpreter alone.

Some modules are imported only when first used (:func:`defer_import`, :data:`DEFERRED`): the
render's processes come from a fork server that imports them anyway, at the same time as this
one starts, and this one may not need them for seconds, or at all. For the commands that
render (:data:`SERVER_FIRST`) that fork server is started here, before the CLI's own imports,
and it is stopped with the process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import signal
import sys
import threading
import types

#: Imported here only when first used. scipy.signal brings scipy.stats, .optimize,
#: .interpolate and .spatial with it (0.55-0.8 s of this process's start-up, 2-core Xeon);
#: a render first needs it when it meters the voice, once the ambience's processes are busy,
#: and a FLAC bed never does. The demo story's warm render took 11.07-11.18 s against
#: 11.36-11.56 s (six interleaved rounds, 2026-12-06), a bed as long as before.
DEFERRED = ("scipy.signal",)
#: Commands that start the fork server as their first step (:mod:`narrator.cli.sound`,
#: :mod:`narrator.cli.render`; their own calls then do nothing): started here instead, before
#: the CLI's imports, so that its second of imports ends that much sooner. An hour's bed of
#: the four story layers 20.3-21.5 s against 20.8-21.6 s, a minute's 1.53-1.59 s against
#: 1.64-1.81 s (2-core Xeon, interleaved rounds, 2026-12-06).
SERVER_FIRST = ("render", "soundscape")


def run() -> None:
    # What an exception the CLI lets through exits with, after Python prints its traceback.
    status = [1]
    # Registered before the CLI imports anything that registers its own: the last to run.
    atexit.register(_exit_now, status)
    for name in DEFERRED:
        defer_import(name)
    _start_fork_server(sys.argv[1:])
    from narrator.cli import main

    try:
        main()
    except SystemExit as exc:
        status[0] = _status(exc.code)
        raise
    except KeyboardInterrupt:
        status[0] = 130
        raise
    status[0] = 0


def _start_fork_server(args: list[str]) -> None:
    """Start the fork server for a command of :data:`SERVER_FIRST` (not for its help). One
    that cannot start (a TMPDIR too long for its socket) is left to the command's own call,
    which reports it as the command's error."""
    if not args or args[0] not in SERVER_FIRST or {"-h", "--help"} & set(args):
        return
    from soundscapes.errors import SoundscapeError

    if args[0] == "render":  # the speech workers come from the server too
        from narrator.speech import warm_up_for_render as warm_up
    else:
        from soundscapes.background import warm_up
    with contextlib.suppress(SoundscapeError, OSError):
        warm_up()


def _status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: 0 for none, the number, or 1 for a message
    (which Python has printed by then)."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _exit_now(status: list[int]) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # closed, or a reader gone (`| head`)
            stream.flush()
    _stop_fork_server()
    os._exit(status[0])


def _stop_fork_server() -> None:
    """Stop the fork server, of no use once this process ends. It would stop by itself, but
    only once its imports are done: a command that failed on its arguments while the server
    booted (:func:`_start_fork_server`) would leave it running for up to a second more. Its
    children, if any were left, die with it (:func:`soundscapes.children.become_child`). Its
    pid is still its own: a server that ended is this process's zombie until this one ends."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid is not None:
        with contextlib.suppress(OSError):  # already gone
            os.kill(pid, signal.SIGTERM)


#: Reentrant: a module imported through a stand-in may read a stand-in as it loads.
_IMPORTING = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands for a module not imported yet, in ``sys.modules`` and on its package. The first
    attribute read imports it, once, under a lock (two threads may read first together:
    :class:`importlib.util.LazyLoader` is not safe for that before Python 3.12.3), and copies
    its namespace in, so that names bound to this stand-in read the module's own objects."""

    def __getattr__(self, attr: str) -> object:
        with _IMPORTING:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
                try:
                    module = importlib.import_module(self.__name__)
                except BaseException:  # the next read fails the same way, not on a KeyError
                    sys.modules[self.__name__] = self
                    raise
                vars(self).update(vars(module))
        return getattr(sys.modules[self.__name__], attr)


def defer_import(name: str) -> None:
    """Import the module ``name`` (``package.module``) at its first use rather than when an
    ``import`` statement names it. ``import package.module``, ``from package import module``
    and ``from package.module import x`` all work as usual; the last imports it there."""
    if name in sys.modules:
        return
    package, _, module = name.rpartition(".")
    stand_in = _Deferred(name)
    if package:
        setattr(importlib.import_module(package), module, stand_in)
    sys.modules[name] = stand_in
