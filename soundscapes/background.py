"""Render a source in another process, a block ahead of the one that consumes it.

The ambience under a story costs as much as everything else in the mix; rendered in a child
process it runs on the second core while this one mixes, meters and writes. Sources are
block-invariant, so the child's block size does not change a sample.

The child is started from a forkserver (a process that has only imported modules, never run
them: :func:`preload`), so the parent may run threads (a progress display) safely; the source
travels to it pickled, before it has rendered anything.

The ambience can use both cores: with ``split``, :class:`BackgroundAnalysis` renders the second
part of a :class:`~soundscapes.source.SumSource` (two layer groups, or a stem made of one) in a
third process that sends its blocks straight to the measuring child, which adds them to its own
part exactly as :meth:`SumSource.render` does in one process: same bytes either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import numpy as np

from soundscapes.children import become_child, hangups_ignored, usable_cpus
from soundscapes.errors import SoundscapeError
from soundscapes.files import name_multiprocessing_folder
from soundscapes.scratch import ScratchWriter
from soundscapes.source import SAMPLE_RATE_HZ, Source

#: Frames the child renders per message: 1.5 s at 44.1 kHz, 512 KiB of stereo float32.
CHILD_BLOCK_FRAMES = 1 << 16
#: Pipe capacity between the two halves of a split render: about two blocks, so the half that
#: sends can render ahead while the measuring child is busy with a dear block (one with events)
#: instead of the two waiting for each other at every block (Linux's default pipe is 64 KiB).
_HALF_PIPE_BYTES = 1 << 20
#: Blocks the measuring child takes from the other half's pipe before it needs them (see
#: :class:`_Blocks`): the hour of the four story layers, its two processes balanced, rendered
#: and metered in 10.8-11.5 s with six against 11.7-11.9 s with the pipe's two alone, and
#: sixteen did no better (three interleaved rounds each, 2026-12-05). 3 MiB.
_AHEAD_BLOCKS = 6
#: Shortest stem whose parts are split between two processes: starting the second one takes
#: about a tenth of a second, what 20 s of half of the layers costs.
SPLIT_MIN_S = 20.0

_context = multiprocessing.get_context("forkserver")
# Imported once by the fork server, not again by every child it forks; the first makes every
# child start with Ctrl-C ignored (soundscapes.forkserver_signals).
_PRELOAD = ["soundscapes.forkserver_signals", "numpy", "scipy.signal", "soundscapes.timeline",
            "soundscapes.output.meter", "soundscapes.output.mix"]  # fmt: skip
_context.set_forkserver_preload(_PRELOAD)


def preload(*modules: str) -> None:
    """Have the fork server import ``modules`` too (once, for every child it forks), when it
    starts: call before :func:`warm_up` or the first child. A module that cannot be imported
    is skipped there (multiprocessing ignores its ImportError)."""
    _PRELOAD.extend(m for m in modules if m not in _PRELOAD)
    _context.set_forkserver_preload(_PRELOAD)


def child_context() -> multiprocessing.context.BaseContext:
    """The fork server's context, for a process pool whose workers should be forked from it
    (a clean process that has imported what :func:`preload` named, and nothing has run in)."""
    return _context


@runtime_checkable
class Splittable(Protocol):
    """A source made of two parts added together (a :class:`~soundscapes.source.SumSource`, or
    a stem of one), whose :attr:`second` part may play in another process."""

    sample_rate_hz: int
    channels: int

    @property
    def second(self) -> Source | None: ...

    def render(self, frames: int) -> np.ndarray: ...

    def with_second(self, second: Source) -> Source: ...


def split_pays(source: Source, frames: int) -> bool:
    """Whether rendering ``source``'s second part in a process of its own saves time: it has
    one, with layers in it, the stem is long enough to pay for the process, and there is a
    core for it (counted, not its load). Only time: the bytes are the same either way."""
    second = source.second if isinstance(source, Splittable) else None
    # A layer group with no layers plays silence: nothing to share.
    has_work = second is not None and bool(getattr(second, "keys", True))
    return has_work and frames >= SPLIT_MIN_S * SAMPLE_RATE_HZ and usable_cpus() >= 2


def warm_up(only: Sequence[str] | None = None) -> None:
    """Start the fork server now, so that its imports (about a second) run beside the caller's
    work instead of delaying the first child; a no-op once it runs.

    With ``only``, a server started here imports just those modules (and the signal set-up
    every child needs): speech workers wanted on their own need not wait for the ambience's
    imports, scipy.signal most (the demo story's speech stage, called alone, started 0.6-1.4 s
    sooner). A child that wants more imports it itself; a render starts the server whole."""
    from multiprocessing import forkserver

    name_multiprocessing_folder()  # before the server's socket is made in it
    if only is not None:
        _context.set_forkserver_preload([_PRELOAD[0], *only])
    try:
        with hangups_ignored():  # the server and the resource tracker it starts first
            forkserver.ensure_running()
    finally:  # a server started again (one that died) imports everything
        _context.set_forkserver_preload(_PRELOAD)


class _ChildFailed(SoundscapeError):
    """A child failed or died; its message is whole, so a child that reads another child passes
    it on unchanged (one line for the user, however many processes it crossed)."""


@contextlib.contextmanager
def _reporting(conn: Connection, owner_pid: int) -> Iterator[None]:
    """In a child: die with ``owner_pid`` (see :mod:`soundscapes.children`), send any error to
    the reader of ``conn`` (the owner, or the child it works for), and close the pipe."""
    become_child(owner_pid)
    try:
        yield
    except BrokenPipeError:  # the reader stopped listening: nothing to report to
        pass
    # A reader gone while this one fails (a Ctrl-C stopping a batch): nothing to report to
    # either, and no traceback on the user's terminal.
    except SoundscapeError as exc:  # said for the user already (or by a child this one read)
        with contextlib.suppress(OSError):
            conn.send(("failed", str(exc)))
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


def _receive(conn: Connection) -> tuple:
    """The next message a child sent down ``conn``; its error, or its death, raised as
    :class:`SoundscapeError`."""
    try:
        message = conn.recv()
    except (EOFError, OSError):
        raise _ChildFailed(
            "the ambience process stopped unexpectedly (out of memory?); run again"
        ) from None
    if message[0] == "error":
        raise _ChildFailed(f"rendering the ambience failed: {message[1]}")
    if message[0] == "failed":
        raise _ChildFailed(message[1])
    return message


def _serve(source: Source, total_frames: int, owner_pid: int, conn: Connection) -> None:
    """Child: render ``total_frames`` of ``source`` in blocks and send them, then its time.

    Each block goes as a small ``("block", frames)`` message and then its samples as raw
    bytes, which :class:`_Blocks` reads straight into an array: pickling the array instead
    cost a copy on each side and a fresh array per block: 800 blocks of 512 KiB through a
    1 MiB pipe took the reader 0.54-0.68 CPU s pickled against 0.21-0.23 s so (three
    interleaved rounds on the 2-core EPYC), about 1.2 CPU s less for an hour of stereo."""
    busy_s = 0.0
    with _reporting(conn, owner_pid):
        done = 0
        while done < total_frames:
            n = min(CHILD_BLOCK_FRAMES, total_frames - done)
            started = time.process_time()
            block = np.ascontiguousarray(source.render(n), dtype=np.float32)
            busy_s += time.process_time() - started
            conn.send(("block", block.shape[1]))
            conn.send_bytes(block)
            done += n
        conn.send(("done", busy_s))


def _start(
    target: Callable[..., None], args: tuple, name: str, *, pipe_bytes: int = 0
) -> tuple[Connection, multiprocessing.process.BaseProcess]:
    """A child from the fork server running ``target(*args, send)``; the read end of ``send``
    (with room for ``pipe_bytes`` where the system allows) and the process."""
    receive, send = _context.Pipe(duplex=False)
    if pipe_bytes and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):  # above the system's limit: the default will do
            fcntl.fcntl(send.fileno(), fcntl.F_SETPIPE_SZ, pipe_bytes)
    warm_up()  # started here if no command did: with SIGHUP ignored, as there
    proc = _context.Process(target=target, args=(*args, send), name=name)
    proc.daemon = True
    # A stop (Ctrl-C, a batch's SIGTERM) waits until the child has its start-up data: cut
    # off mid-handshake, the fork server's child printed "EOFError: Ran out of input".
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            proc.start()
        finally:  # the mask as it was (a batch worker may hold SIGTERM itself)
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
    except BaseException:
        receive.close()
        raise
    finally:
        send.close()  # the child's end: its death must reach the reader as the end of the pipe
    return receive, proc


def _stop(proc: multiprocessing.process.BaseProcess) -> None:
    if proc.is_alive():
        proc.terminate()
    proc.join(timeout=5)


class _Child:
    """A child process from the fork server that sends its results down a pipe; errors in it
    arrive here as :class:`SoundscapeError`. A context manager, so it never outlives its
    user."""

    def __init__(self, target: Callable[..., None], args: tuple, name: str) -> None:
        self._conn, self._proc = _start(target, args, name)

    def _recv(self) -> tuple:
        """The child's next message; its error, or its death, raised."""
        return _receive(self._conn)

    def close(self) -> None:
        self._conn.close()
        _stop(self._proc)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Blocks:
    """A :class:`~soundscapes.source.Source` of the blocks :func:`_serve` sends down ``conn``,
    ``total_frames`` in all, then silence; the sender's errors raised as
    :class:`SoundscapeError`.

    With ``reuse``, every block lands in one array, so what :meth:`render` returns holds
    only until the next call: for a reader that adds it to something at once (a split
    render's sum), which then costs no fresh memory per block.

    With ``ahead``, a thread takes the blocks from the pipe as they come, up to ``ahead``
    blocks before :meth:`render` asks, into ``ahead + 2`` arrays kept for the whole render
    (what :meth:`render` returns holds until the next call, as with ``reuse``). Two processes
    of about equal work whose blocks cost unevenly (a gull's bout in one, a roll of thunder
    in the other) then stop waiting for each other at every block: the pipe alone holds two.
    """

    def __init__(
        self,
        conn: Connection,
        total_frames: int,
        sample_rate_hz: int,
        channels: int,
        *,
        reuse: bool = False,
        ahead: int = 0,
    ):
        self.sample_rate_hz = sample_rate_hz
        self.channels = channels
        self._conn = conn
        self._total = total_frames
        self._given = 0
        self._buffer = np.zeros((self.channels, 0), dtype=np.float32)
        self._landing = np.empty((channels, CHILD_BLOCK_FRAMES), np.float32) if reuse else None
        #: CPU seconds the sender spent rendering, known once it has sent everything.
        self.busy_s = 0.0
        self._arrived: queue.SimpleQueue[tuple] | None = None
        if ahead:
            self._free: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
            for _ in range(ahead + 2):  # one held by the caller, one being filled
                self._free.put(np.empty((channels, CHILD_BLOCK_FRAMES), np.float32))
            self._held: np.ndarray | None = None
            self._arrived = queue.SimpleQueue()
            threading.Thread(target=self._read_ahead, name="narrator-blocks", daemon=True).start()

    def render(self, frames: int) -> np.ndarray:
        while self._buffer.shape[1] < frames and self._given < self._total:
            self._take()
        if self._buffer.shape[1] < frames:  # past the end: silence, like a Timeline's
            missing = frames - self._buffer.shape[1]
            pad = np.zeros((self.channels, missing), dtype=np.float32)
            self._buffer = np.concatenate([self._buffer, pad], axis=1)
        out, self._buffer = self._buffer[:, :frames], self._buffer[:, frames:]
        return out

    def _take(self) -> None:
        kind, value = self._next()
        if kind == "done":
            self.busy_s = value
            return
        block = value
        self._given += block.shape[1]
        if self._given >= self._total:
            self._take()  # the child's closing message: its time
        self._buffer = np.concatenate([self._buffer, block], axis=1) if self._buffer.size else block

    def _next(self) -> tuple[str, np.ndarray | float]:
        """``("block", samples)`` or ``("done", the sender's CPU seconds)``."""
        if self._arrived is not None:
            kind, value = self._arrived.get()
            if kind == "failed":
                raise value
            if kind == "block":
                if self._buffer.size:  # what is left of the last block: out of its array
                    self._buffer = self._buffer.copy()
                if self._held is not None and self._held.shape[1] == CHILD_BLOCK_FRAMES:
                    self._free.put(self._held)
                self._held = value
            return kind, value
        message = _receive(self._conn)
        if message[0] == "done":
            return "done", float(message[1])
        frames = int(message[1])
        lands = self._landing is not None and frames == self._landing.shape[1]
        if lands and self._buffer.size:  # what is left of the last block lives where it lands
            self._buffer = self._buffer.copy()
        block = self._landing if lands else np.empty((self.channels, frames), np.float32)
        self._receive_into(block)
        return "block", block

    def _receive_into(self, block: np.ndarray) -> None:
        try:
            got = self._conn.recv_bytes_into(memoryview(block).cast("B"))
        except (EOFError, OSError):
            raise _ChildFailed(
                "the ambience process stopped unexpectedly (out of memory?); run again"
            ) from None
        if got != block.nbytes:
            raise _ChildFailed(f"the ambience process sent {got} bytes for {block.shape[1]} frames")

    def _read_ahead(self) -> None:
        """The reader thread: every message, in order, onto :attr:`_arrived`; a failure as
        the last one."""
        assert self._arrived is not None
        try:
            while True:
                message = _receive(self._conn)
                if message[0] == "done":
                    self._arrived.put(("done", float(message[1])))
                    return
                frames = int(message[1])
                block = self._free.get()
                if frames != block.shape[1]:
                    block = np.empty((self.channels, frames), np.float32)
                self._receive_into(block)
                self._arrived.put(("block", block))
        except Exception as exc:  # raised where the blocks are read: never a reader left waiting
            self._arrived.put(("failed", exc))


class _Arriving:
    """Stands for a split source's second part on its way to the measuring child, which puts
    what arrives in its place (:meth:`Splittable.with_second`) before it renders anything."""

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.channels = channels

    def render(self, frames: int) -> np.ndarray:
        raise RuntimeError("the second part arrives from its own process; it is not played here")


class BackgroundSource(_Child):
    """A :class:`~soundscapes.source.Source` whose samples come from ``source`` rendered in
    a child process; at most :data:`CHILD_BLOCK_FRAMES` frames beyond what was asked for.

    With ``reuse``, a block :meth:`render` returns holds only until the next call (see
    :class:`_Blocks`). Use as a context manager (or call :meth:`close`) so the child never
    outlives the render.
    """

    def __init__(self, source: Source, total_frames: int, *, reuse: bool = False) -> None:
        self.sample_rate_hz = source.sample_rate_hz
        self.channels = source.channels
        super().__init__(_serve, (source, total_frames, os.getpid()), "narrator-ambience")
        self._blocks = _Blocks(
            self._conn, total_frames, self.sample_rate_hz, self.channels, reuse=reuse
        )

    @property
    def busy_s(self) -> float:
        """CPU seconds the child spent rendering, known once it has sent everything."""
        return self._blocks.busy_s

    def render(self, frames: int) -> np.ndarray:
        return self._blocks.render(frames)


@dataclass(frozen=True)
class StemMeasure:
    """What :class:`BackgroundAnalysis` measured of a source, without keeping its audio."""

    #: Channel-weighted K-weighted energy of every complete 100 ms step (see
    #: :meth:`~soundscapes.output.meter.LoudnessMeter.step_energies`); empty when not kept.
    step_energies: np.ndarray
    step_frames: int
    #: Largest absolute sample.
    sample_peak: float
    #: Integrated loudness (BS.1770-4), from the meter's histogram: what a caller that needs
    #: no steps reads, in memory that does not grow with the length.
    integrated_lufs: float
    #: CPU seconds the child spent rendering and measuring.
    busy_s: float
    #: CPU seconds the process that rendered the other half spent (a split render), else 0.
    half_busy_s: float = 0.0
    #: When the child started and finished, ``time.monotonic()`` (one clock for every process
    #: on Linux), for a render's stage timeline.
    started_at: float = 0.0
    ended_at: float = 0.0


def _measure(
    source: Source,
    total_frames: int,
    bandwidth_hz: float | None,
    scratch: str | None,
    keep_steps: bool,
    owner_pid: int,
    half: Connection | None,
    conn: Connection,
) -> None:
    """Child: render ``total_frames`` of ``source``, meter it (and keep it in ``scratch``),
    send the measure. With ``half``, ``source`` is :class:`Splittable` and its second part
    arrives down ``half``."""
    from soundscapes.output.meter import LoudnessMeter

    with _reporting(conn, owner_pid):
        second = None
        if half is not None:
            # Added to the first part at once (SumSource.render): a few arrays kept will do.
            second = _Blocks(
                half, total_frames, source.sample_rate_hz, source.channels, ahead=_AHEAD_BLOCKS
            )
            source = source.with_second(second)
        started = time.process_time()
        started_at = time.monotonic()
        meter = LoudnessMeter(
            source.sample_rate_hz,
            source.channels,
            true_peak=False,
            bandwidth_hz=bandwidth_hz,
            keep_steps=keep_steps,
        )
        peak = 0.0
        done = 0
        writer = ScratchWriter(scratch, source.channels, frames=total_frames) if scratch else None
        with writer or contextlib.nullcontext() as kept:
            while done < total_frames:
                block = source.render(min(CHILD_BLOCK_FRAMES, total_frames - done))
                meter.add(block)
                peak = max(peak, float(np.abs(block).max(initial=0.0)))
                if kept is not None:
                    kept.write(block)
                done += block.shape[1]
        measured = StemMeasure(
            step_energies=meter.step_energies() if keep_steps else np.zeros(0),
            step_frames=meter.step_frames,
            sample_peak=peak,
            integrated_lufs=meter.integrated_lufs,
            busy_s=time.process_time() - started,
            half_busy_s=second.busy_s if second is not None else 0.0,
            started_at=started_at,
            ended_at=time.monotonic(),
        )
        conn.send(("done", measured))


class BackgroundAnalysis(_Child):
    """Render and meter ``source`` in a child process while this one does other work; only
    the measure comes back (a float per 100 ms, or with ``steps=False`` only the totals, for
    a caller that needs no more: then nothing grows with the length), never the audio through
    a pipe. With ``scratch``, the child also keeps the audio there (read back by
    :func:`soundscapes.scratch.read_scratch`), so it is rendered once however often it is
    played.

    With ``split``, ``source`` is :class:`Splittable` and its ``second`` part renders in a
    third process, beside the measuring child: the same samples on two cores
    (:func:`split_pays` says when that saves time).

    Use as a context manager (or call :meth:`close`) so the children never outlive the caller.
    """

    def __init__(
        self,
        source: Source,
        total_frames: int,
        *,
        bandwidth_hz: float | None = None,
        scratch: Path | None = None,
        split: bool = False,
        steps: bool = True,
    ) -> None:
        kept = str(scratch) if scratch else None
        self._scratch = scratch
        self._channels = source.channels
        self._half: multiprocessing.process.BaseProcess | None = None
        half_conn = None
        if split:
            second = source.second if isinstance(source, Splittable) else None
            if second is None:
                raise TypeError(f"{type(source).__name__} has no second part to split off")
            # The half's blocks go straight to the measuring child, never through here.
            half_conn, self._half = _start(
                _serve,
                (second, total_frames, os.getpid()),
                "narrator-ambience-half",
                pipe_bytes=_HALF_PIPE_BYTES,
            )
            # The measuring child needs no copy of the second part: it plays what arrives.
            source = source.with_second(_Arriving(source.sample_rate_hz, source.channels))
        try:
            super().__init__(
                _measure,
                (source, total_frames, bandwidth_hz, kept, steps, os.getpid(), half_conn),
                "narrator-ambience-measure",
            )
        except BaseException:
            if self._half is not None:
                _stop(self._half)
            raise
        finally:
            if half_conn is not None:
                # The measuring child holds its own copy: when it dies, the half's next send
                # fails and the half exits.
                half_conn.close()

    def close(self) -> None:
        super().close()
        if self._half is not None:
            _stop(self._half)

    def poll(self, timeout_s: float) -> bool:
        """Whether the measure has arrived (waiting up to ``timeout_s``)."""
        return self._conn.poll(timeout_s)

    def scratch_frames(self) -> int:
        """Frames written to the scratch file so far (for a progress display)."""
        if self._scratch is None:
            return 0
        try:
            return os.path.getsize(self._scratch) // (4 * self._channels)
        except OSError:
            return 0

    def result(self) -> StemMeasure:
        """Wait for the child's measure.

        Raises
        ------
        SoundscapeError
            The child failed or died.
        """
        return self._recv()[1]
