"""Files in and out, by rule: nothing an input is gets written, nothing strange gets read, and
no scratch outlives its owner.

- **Inputs** are regular files of sane size: :func:`read_input` opens without blocking (a FIFO
  would hang a plain ``open``), checks what it opened (a symlink to ``/dev/zero`` or a device
  is refused, not read until memory runs out) and reads at most ``max_bytes``.
- **Outputs never land on an input**: :func:`check_outputs` compares every path a command will
  write with every path it reads, by resolved path and by file identity (device and inode, so
  a hard link is caught too), before any work starts; an existing output that is not a regular
  file (a device, a FIFO, a folder) is refused rather than replaced.
- **Scratch carries its owner**: every temporary file or folder is named by
  :func:`scratch_name` — ``.narrator-<host>-<pid>-…`` — and :func:`sweep_scratch` removes the
  ones whose owner process on this host is gone (``kill -9`` runs no ``finally``), before a
  command starts its own work in that folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from soundscapes.children import process_alive
from soundscapes.errors import ExportError, SoundscapeError, clip

#: Stories, manifests, plans, scene files and lexicons are text a person wrote: 16 MB is a
#: long novel several times over, and bounds what a mistaken path can make us read.
TEXT_MAX_BYTES = 16 * 2**20


class InputError(SoundscapeError, ValueError):
    """An input file that cannot or must not be read."""


class OutputClashError(SoundscapeError, ValueError):
    """An output path that would overwrite an input, another output or a special file, or
    whose name the disk cannot hold."""


# --- inputs -----------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "folder"),
        (stat.S_ISFIFO, "named pipe (FIFO)"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


def read_input(path: Path | str, *, what: str, max_bytes: int = TEXT_MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (``what`` names it in errors: "story", "cover").

    Raises
    ------
    InputError
        Missing, unreadable, not a regular file, or over ``max_bytes``; the message names the
        path and says what to do. (:class:`FileNotFoundError` is kept as the cause.)
    """
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path of the {what}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: the {what} is a folder; give a file") from None
    except OSError as exc:
        raise InputError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{path}: the {what} is a {_kind(info.st_mode)}, not a regular file; "
                "give a regular file"
            )
        if info.st_size > max_bytes:
            raise InputError(
                f"{path}: the {what} is {human_size(info.st_size)}, more than the "
                f"{human_size(max_bytes)} a {what} may be"
            )
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:  # it grew while we read
                raise InputError(
                    f"{path}: the {what} is more than the {human_size(max_bytes)} a {what} may be"
                )
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def check_input_file(path: Path | str, *, what: str) -> Path:
    """Make sure ``path`` is an existing regular file (for inputs a library opens itself, such
    as a recording or a voice model); returns it.

    Raises
    ------
    InputError
        Missing, or not a regular file.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path of the {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise InputError(
            f"{path}: the {what} is a {_kind(mode)}, not a regular file; give a regular file"
        )
    return path


def human_size(n: float) -> str:
    """``1234567`` → ``1.2 MB``: a size for a message, never rounded to 0.0 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


def human_duration(seconds: float) -> str:
    """``45`` → ``45 seconds``, ``600`` → ``10 minutes``, ``28800`` → ``8.0 hours``."""
    if seconds >= 5400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"


def space_shortfall(needed: float, free: float) -> str:
    """``(2.5 MB free, 40.0 kB short)``: the gap said even where the two round alike."""
    return f"({human_size(free)} free, {human_size(max(needed - free, 1))} short)"


# --- outputs ----------------------------------------------------------------------------------


DISK_FULL = "the disk is full; free some space or write elsewhere"


def write_failure(exc: BaseException) -> str:
    """Why a write failed, in words: a full disk (or quota) says so, else the system's words."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DISK_FULL
    return getattr(exc, "strerror", None) or str(exc)


@contextlib.contextmanager
def writing(
    where: object,
    reason: Callable[[BaseException], str] = write_failure,
    errors: tuple[type[BaseException], ...] = (OSError,),
) -> Iterator[None]:
    """Report a failed write as one :class:`ExportError` line naming ``where`` (an error
    already said that way passes through as it is)."""
    try:
        yield
    except ExportError:
        raise
    except errors as exc:
        raise ExportError(f"{where}: cannot write ({reason(exc)})") from None


def short_of_space(folder: Path, needed: float) -> int | None:
    """The free bytes on ``folder``'s disk when they fall short of ``needed`` (with a 5 %
    margin), for a message that names both; ``None`` when there is room, or when the system
    cannot tell (the write will say, if it comes to that)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    return free if free < needed * 1.05 else None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same resolved path, or (both existing) the
    same device and inode (hard links, bind mounts)."""
    if Path(a).resolve() == Path(b).resolve():
        return True
    ida = _identity(Path(a))
    return ida is not None and ida == _identity(Path(b))


#: How audio files this project writes begin (ID3 tags or an MPEG frame's sync, RIFF/RF64
#: WAV, FLAC, Ogg, an MP4's ``ftyp`` box at byte 4).
_AUDIO_HEADS = (b"ID3", b"RIFF", b"RF64", b"fLaC", b"OggS")


def is_audio_file(path: Path) -> bool:
    """Whether ``path`` begins like an audio file (or is empty: nothing to lose)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return True  # not there (or not readable): nothing of the user's is replaced
    # An MPEG Layer III frame's header: 11 sync bits, a version that is not "reserved", layer
    # III, a bitrate index that is not "bad" (a UTF-16 text's FF FE passed the sync alone).
    mpeg_sync = (
        len(head) >= 3
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and (head[1] >> 3) & 3 != 1
        and head[1] & 0x06 == 0x02
        and head[2] >> 4 != 0xF
    )
    return not head or head.startswith(_AUDIO_HEADS) or mpeg_sync or head[4:8] == b"ftyp"


def check_outputs(
    outputs: Sequence[tuple[str, Path]],
    inputs: Sequence[tuple[str, Path]] = (),
    *,
    audio: Sequence[str] = (),
    marks: Mapping[str, tuple[bytes, ...]] | None = None,
) -> None:
    """Refuse, before any work, a set of outputs that would overwrite something.

    ``outputs`` and ``inputs`` are ``(role, path)`` pairs, e.g. ``("transcript",
    out/night.mp3.vtt)`` and ``("story", night.mp3.vtt)``. An output clashes when it is one of
    the inputs, when two outputs are one file, or when it exists and is not a regular file.
    The roles in ``audio`` are audio files: one that exists and is not audio (``-o notes.txt
    --format mp3``) is the user's and is not replaced. So is a file of a role in ``marks``
    whose first 4 KB hold none of that role's marks (``feed -o notes.txt``: no ``<rss``).

    Raises
    ------
    OutputClashError
        One line naming both files and how to fix it.
    """
    seen: list[tuple[str, Path]] = []
    for role, path in outputs:
        path = Path(path)
        _check_name_length(path, role)
        with contextlib.suppress(OSError):
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode):
                raise OutputClashError(
                    f"{path}: that is a folder, not a file for the {role}; give a file name "
                    "inside it"
                )
            if not stat.S_ISREG(mode):
                raise OutputClashError(
                    f"{path}: the {role} would replace a {_kind(mode)}; "
                    "write to a regular file path instead"
                )
        for in_role, source in inputs:
            if str(source) != "-" and same_file(path, Path(source)):
                raise OutputClashError(
                    f"{path}: the {role} would overwrite the {in_role} {source}; "
                    f"choose {_another(role)}"
                )
        if role in audio and not is_audio_file(path):
            raise OutputClashError(
                f"{path}: that file is there and is not audio; the {role} would "
                f"overwrite it: choose {_another(role)}, or remove it first"
            )
        if marks and role in marks and not _marked(path, marks[role]):
            raise OutputClashError(
                f"{path}: that file is there and is not a {role} narrator wrote; the {role} "
                f"would overwrite it: choose {_another(role)}, or remove it first"
            )
        for other_role, other in seen:
            if same_file(path, other):
                raise OutputClashError(
                    f"{path}: the {role} and the {other_role} would be the same file; "
                    "choose other paths"
                )
        seen.append((role, path))


def _another(role: str) -> str:
    """How to give another path for an output of ``role``: the option that names it."""
    return "another --keep-mix path" if role == "kept mix" else "another output path (-o)"


def check_writable(final: Path) -> None:
    """Make sure a file can be written at ``final`` before any work goes into it: its folder
    exists (it is created) and takes a new file, and ``final`` is not a folder.

    Raises
    ------
    ExportError
        Saying which path is wrong and what to do.
    """
    final = Path(final)
    if final.is_dir():
        raise ExportError(f"{final}: that is a folder; give a file name inside it")
    make_folder(final.parent)
    sweep_scratch(final.parent)  # what a killed command left there; never a live one's
    try:
        fd, probe = tempfile.mkstemp(prefix=scratch_name("probe-"), dir=final.parent)
    except OSError as exc:
        raise ExportError(
            f"{final.parent}: cannot write there ({exc.strerror}); choose a writable folder"
        ) from None
    os.close(fd)
    os.unlink(probe)


def make_folder(folder: Path) -> None:
    """Create ``folder`` and its parents, or say which path stands in the way."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ExportError(f"{blocker}: is a file, not a folder; choose another output path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            f"{folder}: cannot create the folder ({exc.strerror}); choose another path"
        ) from None


def file_head(path: Path, size: int = 4096) -> bytes | None:
    """The first ``size`` bytes of the regular file at ``path`` (not a link); ``None`` when
    there is none or it cannot be read. What a file of this project's begins with says
    whether a file is one (its generator's mark, a format's magic)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None


def _marked(path: Path, marks: tuple[bytes, ...]) -> bool:
    """Whether ``path`` holds one of ``marks`` in its head, or nothing of the user's is there
    to be replaced (no file, an empty one)."""
    head = file_head(path)
    return not head or any(mark in head for mark in marks)


#: The longest file name most Linux file systems take, bytes (ext4, XFS, Btrfs, tmpfs).
_DEFAULT_NAME_MAX = 255


def _name_max(folder: Path) -> int:
    """The longest file name ``folder``'s file system takes (of its nearest existing folder:
    the output's folder may not exist yet), in bytes."""
    for candidate in (folder, *folder.parents):
        try:
            return int(os.pathconf(candidate, "PC_NAME_MAX"))
        except (OSError, ValueError):  # not there yet (or a name too long itself): go up
            continue
    return _DEFAULT_NAME_MAX


def _check_name_length(path: Path, role: str) -> None:
    """Refuse a file name the disk cannot hold, before any work: it would fail only when the
    file is put in place, after the render (a sidecar's name is the output's and more)."""
    limit = _name_max(path.parent)
    for part in path.parts:
        length = len(os.fsencode(part))
        if length > limit:
            what = "file name" if part == path.name else f"folder name {clip(repr(part), 30)}"
            raise OutputClashError(
                f"{clip(str(path))}: the {role}'s {what} is {length} bytes and this disk takes "
                f"at most {limit}; choose a shorter name"
            )


# --- scratch ----------------------------------------------------------------------------------

_SCRATCH_RE = re.compile(r"^\.?narrator-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-")


def _host_tag() -> str:
    """Eight hex digits naming this host: a pid means nothing on another machine that shares
    the folder."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def scratch_name(purpose: str, *, hidden: bool = True) -> str:
    """A name prefix for this process's scratch: ``.narrator-<host>-<pid>-<purpose>``."""
    return f"{'.' if hidden else ''}narrator-{_host_tag()}-{os.getpid()}-{purpose}"


#: The folders noted by :func:`note_scratch_folder`, newest last, at most this many.
_NOTED_FOLDERS_MAX = 100


@contextlib.contextmanager
def _noted_folders() -> Iterator[tuple[list[str], Callable[[list[str]], None]]]:
    """The noted folders, and a function that writes the list anew, under a lock: two
    commands noting and sweeping at once lose no line. The list is in the user's cache
    (``NARRATOR_SCRATCH_NOTES`` names another file: a test session's own)."""
    import fcntl

    import platformdirs

    path = Path(
        os.environ.get("NARRATOR_SCRATCH_NOTES")
        or Path(platformdirs.user_cache_dir("narrator")) / "scratch-folders"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        handle.seek(0)
        known = handle.read().splitlines()

        def rewrite(folders: list[str]) -> None:
            handle.seek(0)
            handle.truncate()
            handle.write("".join(f"{folder}\n" for folder in folders))

        yield known, rewrite


def note_scratch_folder(folder: Path | str) -> None:
    """Remember that ``folder`` holds scratch, so that what a killed process (``kill -9``)
    left there is swept by the next command of any kind, wherever that one writes (it was
    swept only by one that wrote into the same folder). Never raises."""
    with contextlib.suppress(OSError, ValueError):
        line = str(Path(folder).resolve())
        # Once per folder and list in a process: every atomic write notes its folder, and
        # a site of many pages would otherwise lock and read the list for each.
        memo = (os.environ.get("NARRATOR_SCRATCH_NOTES", ""), line)
        if "\n" in line or memo in _NOTED_HERE:
            return
        with _noted_folders() as (known, rewrite):
            if line not in known:
                rewrite([*known, line][-_NOTED_FOLDERS_MAX:])
        _NOTED_HERE.add(memo)


#: What this process has noted already (see :func:`note_scratch_folder`).
_NOTED_HERE: set[tuple[str, str]] = set()


def sweep_noted_scratch() -> int:
    """:func:`sweep_scratch` in every folder :func:`note_scratch_folder` noted; a folder gone
    (its parent still there: not a disk unmounted for now) is forgotten. Returns how many
    entries went. Never raises."""
    removed = 0
    with contextlib.suppress(OSError, ValueError), _noted_folders() as (known, rewrite):
        kept = []
        for folder in dict.fromkeys(known):
            if os.path.isdir(folder):
                removed += sweep_scratch(folder)
                kept.append(folder)
            elif not os.path.isdir(os.path.dirname(folder)):
                kept.append(folder)  # its disk may be away for now
        if kept != known:
            rewrite(kept)
    return removed


@contextlib.contextmanager
def scratch_file(folder: Path, purpose: str, suffix: str = "") -> Iterator[Path]:
    """A scratch file in ``folder`` (the output's disk), named by :func:`scratch_name` so that
    one left by a killed process is swept by the next, and always removed."""
    note_scratch_folder(folder)
    fd, name = tempfile.mkstemp(prefix=scratch_name(purpose), suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


@contextlib.contextmanager
def removal_when_read(*paths: Path) -> Iterator[Callable[[], None]]:
    """A call that starts removing ``paths`` (scratch read for the last time) in a thread,
    so that the work left runs meanwhile; leaving the block waits for it.

    Removing an hour's scratch (1.3 GB written past the page cache) took 0.21-0.24 s of
    waiting on the disk (ext4 mounted with ``discard``) and no CPU: beside the output's sync
    and tags it costs nothing. A path it could not remove is left to its owner's own
    removal (:func:`scratch_file`), which says why."""
    threads: list[threading.Thread] = []

    def remove() -> None:
        for path in paths:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def start() -> None:
        if not threads:
            threads.append(threading.Thread(target=remove, name="narrator-scratch-removal"))
            threads[0].start()

    try:
        yield start
    finally:
        for thread in threads:
            thread.join()


#: A Unix socket's path, at most (Linux: 108 bytes with the closing NUL).
_SOCKET_PATH_MAX_BYTES = 107


def name_multiprocessing_folder() -> None:
    """Have multiprocessing keep the fork server's socket in a folder named as this
    package's scratch (``.narrator-<host>-<pid>-mp-*``), not its own ``pymp-*``.

    multiprocessing removes its folder at exit, but a process killed outright (kill -9) left
    it in the system's temporary folder, one per command, for good; named so, the next
    command's sweep removes it. multiprocessing makes the folder when first needed and keeps
    its name in the process's configuration (``multiprocessing.util.get_temp_dir``): it is set
    there first, with its removal at exit registered as multiprocessing registers its own.
    Where that configuration is not there (another Python), or the socket's path would be
    too long for the system (a long TMPDIR: the name is about 23 characters longer than
    multiprocessing's), multiprocessing's folder stays.

    Raises
    ------
    SoundscapeError
        TMPDIR is too long a path for even multiprocessing's folder and socket (the fork
        server failed with "AF_UNIX path too long" and a traceback).
    """
    from multiprocessing import process, util

    config = getattr(process.current_process(), "_config", None)
    if not isinstance(config, dict) or config.get("tempdir") is not None:
        return
    system_temp = tempfile.gettempdir()

    def fits(prefix: str) -> bool:  # the folder's name ends in 8 random characters
        folder = os.path.join(system_temp, f"{prefix}12345678/listener-12345678")
        return len(os.fsencode(folder)) <= _SOCKET_PATH_MAX_BYTES

    if not fits("pymp-"):
        raise SoundscapeError(
            f"TMPDIR {system_temp}: too long a path for the fork server's socket (a socket's "
            f"path may not pass {_SOCKET_PATH_MAX_BYTES} bytes); set TMPDIR to a shorter "
            "folder, e.g. /tmp"
        )
    if not fits(scratch_name("mp-")):
        return  # multiprocessing's shorter name fits
    folder = tempfile.mkdtemp(prefix=scratch_name("mp-"), dir=system_temp)
    note_scratch_folder(Path(system_temp))
    util.Finalize(None, _remove_temp_folder, args=(shutil.rmtree, folder), exitpriority=-100)
    config["tempdir"] = folder


def _remove_temp_folder(rmtree: Callable[..., None], folder: str) -> None:
    # ``rmtree`` passed in: the finaliser may run late in the interpreter's shutdown.
    rmtree(folder, ignore_errors=True)
    from multiprocessing import process

    current = process.current_process()
    if current is not None:
        current._config["tempdir"] = None


def sweep_scratch(folder: Path | str) -> int:
    """Remove scratch in ``folder`` left by processes of this host that no longer run; returns
    how many entries went. Never raises: sweeping is a courtesy, not a step that can fail."""
    removed = 0
    host = _host_tag()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _SCRATCH_RE.match(entry.name)
        if match is None or match["host"] != host or process_alive(int(match["pid"])):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # gone already: another sweeper was first
                continue
    return removed
