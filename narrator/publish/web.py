"""Web addresses a feed publishes (``base_url``, ``link``, ``feed_url``, image and funding
URLs): checked for what a podcast app or a browser cannot use, percent-encoded as needed."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from narrator.publish import PublishError

# What may stay as is in a URL (RFC 3986 reserved and unreserved characters, and "%" so that
# an address already percent-encoded is not encoded twice).
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def web_address(value: str, where: str, *, folder: bool = False) -> str:
    """A web address, with spaces and other characters a URL cannot hold percent-encoded in
    its path; ``folder``: one files are served under (no ``?query``, no ``#fragment``)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PublishError(
            f"{where}: {value!r} is not a web address; write it in full, e.g. "
            "https://example.org/podcast/"
        )
    try:
        parts.port  # noqa: B018 -- raises for a port out of range
    except ValueError:
        raise PublishError(f"{where}: {value!r} has a port out of range (1 to 65535)") from None
    problem = None
    if parts.username is not None or parts.password is not None:
        problem = "holds a user name or password, which a public feed would publish; remove it"
    elif not _host_name(parts.hostname or ""):
        problem = "has no host name a browser can reach; write it like example.org"
    elif folder and (parts.query or parts.fragment):
        problem = "has a ?query or #fragment; files are served under it: remove them"
    if problem:
        raise PublishError(f"{where}: {value!r} {problem}")
    # Otherwise as written (a show's GUID is made from its feed's address), percent-encoded.
    return quote(value.strip(), safe=_URL_SAFE)


def _host_name(host: str) -> bool:
    """Whether ``host`` can be a host name: not empty, no spaces or characters none holds, and
    an international one spellable in IDNA, as DNS needs it."""
    if not host or any(c.isspace() or c in '<>"{}|\\^`%' for c in host):
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True
