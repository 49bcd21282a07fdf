"""Tags, cover art and chapters in every output format.

MP3: ID3v2.3 with CHAP/CTOC chapters and an APIC cover (the version podcast apps read most
widely). M4B: MP4 atoms and a cover through mutagen; chapters are written by ffmpeg while
encoding (mutagen cannot write MP4 chapters), from :func:`ffmetadata`. FLAC/Ogg/Opus: Vorbis
comments with the CHAPTERxxx convention and a picture block. WAV: none (the report has them).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soundfile import SoundFile


@dataclass(frozen=True, kw_only=True)
class ChapterMark:
    """A chapter on the output's timeline, in seconds."""

    title: str
    start_s: float
    end_s: float


@dataclass(frozen=True, kw_only=True)
class Tags:
    """Metadata written into the output file."""

    title: str = ""
    artist: str = ""
    album: str = ""
    #: Who the album (a podcast: the show) is by, as players group it (ID3 TPE2, MP4 aART).
    album_artist: str = ""
    genre: str = "Sleep story"
    #: The year alone (front matter ``year:``), when there is no :attr:`date`.
    year: int | None = None
    #: The release date (a podcast episode's ``published``); a date-time is written in UTC.
    date: dt.date | None = None
    #: The track (a podcast's episode number).
    track: int | None = None
    comment: str = ""
    chapters: tuple[ChapterMark, ...] = field(default_factory=tuple)
    cover: bytes | None = None
    cover_mime: str = "image/png"


def write_tags(path: Path, fmt: str, tags: Tags) -> None:
    """Write ``tags`` into the finished file at ``path``, the way its format carries them
    (:attr:`~soundscapes.output.formats.OutputFormat.tags`)."""
    from soundscapes.output.formats import get_format

    kind = get_format(fmt).tags
    if kind == "id3":
        _write_id3(path, tags)
    elif kind == "mp4":
        _write_mp4(path, tags)
    elif kind in ("vorbis", "flac"):
        _write_vorbis(path, fmt, tags)


#: What MP4 atoms and Vorbis comments call the text fields of :func:`_text_fields`, in order.
_MP4_KEYS = ("\xa9nam", "\xa9ART", "\xa9alb", "aART", "\xa9gen", "\xa9cmt", "\xa9day")
_VORBIS_KEYS = ("title", "artist", "album", "albumartist", "genre", "comment", "date")


def _text_fields(tags: Tags, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(key, value)`` for each text field of ``tags`` that is set (title, artist, album,
    album artist, genre, comment, date, in that order), under a format's ``keys`` for them."""
    values = (
        tags.title, tags.artist, tags.album, tags.album_artist, tags.genre, tags.comment,
        _date_text(tags, zone="Z"),
    )  # fmt: skip
    return [(key, value) for key, value in zip(keys, values, strict=True) if value]


def _date_text(tags: Tags, *, zone: str) -> str:
    """The release date in ISO 8601: ``2025-01-06``, or a date-time in UTC
    (``2025-01-06T21:00:00`` + ``zone``); the year alone when only :attr:`Tags.year` is set."""
    when = tags.date
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            return when.isoformat(timespec="seconds")
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + zone
    if when is not None:
        return when.isoformat()
    return str(tags.year) if tags.year else ""


def _write_id3(path: Path, tags: Tags) -> None:
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        ID3,
        TALB,
        TCON,
        TDRC,
        TIME,
        TIT2,
        TPE1,
        TPE2,
        TRCK,
        CTOCFlags,
    )  # fmt: skip

    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    for frame, value in (
        (TPE1, tags.artist),
        (TALB, tags.album),
        (TPE2, tags.album_artist),
        (TCON, tags.genre),
        (TRCK, str(tags.track) if tags.track else ""),
    ):
        if value:
            id3.add(frame(encoding=3, text=value))
    if date := _date_text(tags, zone=""):
        id3.add(TDRC(encoding=3, text=date))  # TYER, TDAT and TIME in v2.3: see below
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    if tags.cover:
        id3.add(APIC(encoding=3, mime=tags.cover_mime, type=3, desc="Cover", data=tags.cover))
    if tags.chapters:
        ids = [f"ch{i}" for i in range(len(tags.chapters))]
        id3.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
        for element_id, chapter in zip(ids, tags.chapters, strict=True):
            id3.add(
                CHAP(
                    element_id=element_id,
                    start_time=round(chapter.start_s * 1000),
                    end_time=round(chapter.end_s * 1000),
                    sub_frames=[TIT2(encoding=3, text=chapter.title)],
                )
            )
    # ID3v2.3 has no TDRC: without this mutagen writes the v2.4 frame into the v2.3 tag, which
    # v2.3 readers ignore. It becomes TYER + TDAT (+ TIME); CHAP and CTOC are kept.
    id3.update_to_v23()
    when = tags.date
    if isinstance(when, dt.datetime) and "TIME" not in id3:
        # mutagen leaves TIME out when the hour or the minute is 0 (21:00, 00:30).
        utc = when.astimezone(dt.UTC) if when.tzinfo else when
        if utc.hour or utc.minute:
            id3.add(TIME(encoding=3, text=f"{utc.hour:02d}{utc.minute:02d}"))
    id3.save(path, v2_version=3)


def _write_mp4(path: Path, tags: Tags) -> None:
    from mutagen.mp4 import MP4, MP4Cover

    mp4 = MP4(path)
    for key, value in _text_fields(tags, _MP4_KEYS):
        mp4[key] = [value]
    if tags.track:
        mp4["trkn"] = [(tags.track, 0)]  # (number, total); the total is not known
    mp4["stik"] = [2]  # media kind: audiobook
    if tags.cover:
        kind = MP4Cover.FORMAT_PNG if tags.cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
        mp4["covr"] = [MP4Cover(tags.cover, imageformat=kind)]
    mp4.save()


def _vorbis_fields(tags: Tags) -> list[tuple[str, str]]:
    """The Vorbis comments of ``tags`` but the picture, in the order they are written."""
    fields = _text_fields(tags, _VORBIS_KEYS)
    if tags.track:
        fields.append(("tracknumber", str(tags.track)))
    # The Vorbis-comment chapter convention (CHAPTERxxx / CHAPTERxxxNAME), read by VLC, mpv.
    for i, chapter in enumerate(tags.chapters, start=1):
        fields += [
            (f"CHAPTER{i:03d}", _clock(chapter.start_s)),
            (f"CHAPTER{i:03d}NAME", chapter.title),
        ]
    return fields


#: What a FLAC encoder writes beside the tags (its vendor string, the blocks' headers), at
#: most, and a picture block's own fields without its MIME type and data.
_FLAC_OVERHEAD_BYTES = 256
_PICTURE_FIELDS_BYTES = 64


def _flac_tag_room(tags: Tags) -> int:
    """Bytes of FLAC metadata that :func:`write_tags` will write for ``tags``, or a little
    more."""
    fields = sum(4 + len(key) + 1 + len(value.encode()) for key, value in _vorbis_fields(tags))
    picture = 0
    if tags.cover:
        picture = _PICTURE_FIELDS_BYTES + len(tags.cover_mime) + len(tags.cover)
    return _FLAC_OVERHEAD_BYTES + fields + picture


#: The placeholder's key: libsndfile writes its ``comment`` string as this Vorbis comment.
_ROOM_KEY = "comment"


def reserve_flac_tag_room(flac: SoundFile, tags: Tags) -> None:
    """Leave room in the header of ``flac`` (a libsndfile FLAC open for writing, before any
    audio) for the tags :func:`write_tags` will write: a placeholder comment of spaces as
    long as they will be, which :func:`write_tags` drops. Without it mutagen moves every
    audio byte to make room, a rewrite of the whole file (0.2 s for an hour's bed, most of
    2 s for eight)."""
    flac.comment = " " * _flac_tag_room(tags)


def _write_vorbis(path: Path, fmt: str, tags: Tags) -> None:
    import mutagen
    from mutagen.flac import Picture

    audio = mutagen.File(path)
    room = audio.tags.get(_ROOM_KEY) if audio.tags is not None else None
    if room and not "".join(room).strip():
        del audio.tags[_ROOM_KEY]  # the encoder's placeholder (tags.comment is set again below)
    for key, value in _vorbis_fields(tags):
        audio[key] = value
    if tags.cover:
        picture = Picture()
        picture.type = 3
        picture.mime = tags.cover_mime
        picture.desc = "Cover"
        picture.data = tags.cover
        if fmt == "flac":
            audio.add_picture(picture)
        else:
            audio["metadata_block_picture"] = base64.b64encode(picture.write()).decode("ascii")
    audio.save()


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _escape(value: str) -> str:
    for ch in "\\=;#\n":
        value = value.replace(ch, "\\" + ch)
    return value


def ffmetadata(tags: Tags) -> str:
    """ffmpeg's FFMETADATA1 text with the title and chapters (for MP4 chapters)."""
    lines = [";FFMETADATA1", f"title={_escape(tags.title)}"]
    for chapter in tags.chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(chapter.start_s * 1000)}",
            f"END={round(chapter.end_s * 1000)}",
            f"title={_escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"
