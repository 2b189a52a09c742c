"""The crisis-resource catalogue as the response filter sees it: the phone numbers, web
addresses and names a reply may mention (conversations.selectors.crisis_catalogue_get builds
it from the active ``CrisisResource`` rows)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Catalogue:
    """What the filter may let through: the crisis-resource catalogue's contacts."""

    phones: frozenset[str] = frozenset()  # digit strings: "988", "741741"
    urls: tuple[tuple[str, str], ...] = ()  # (host without www., path prefix)
    names: tuple[str, ...] = ()  # resource names, lower case

    @classmethod
    def from_resources(cls, resources: Iterable) -> Catalogue:
        phones: set[str] = set()
        urls: set[tuple[str, str]] = set()
        names: set[str] = set()
        for resource in resources:
            for value in (resource.phone, resource.sms, resource.contact):
                for match in re.finditer(r"\d(?:[\s.\-]?\d)*", value or ""):
                    digits = _digits(match.group(0))
                    if len(digits) >= 3:
                        phones.add(digits)
            for value in (resource.url, resource.source_url):
                if value:
                    urls.add(_url_key(value))
            if resource.name:
                names.add(resource.name.lower())
        return cls(frozenset(phones), tuple(sorted(urls)), tuple(sorted(names, key=len)[::-1]))

    def allows_phone(self, text: str) -> bool:
        return _digits(text) in self.phones

    @cached_property
    def names_rx(self) -> re.Pattern | None:
        if not self.names:
            return None
        return re.compile("|".join(re.escape(n) for n in self.names), re.IGNORECASE)

    def without_names(self, text: str) -> str:
        return self.names_rx.sub(" ", text) if self.names_rx is not None else text

    def allows_url(self, text: str) -> bool:
        host, path = _url_key(text)
        return any(host == h and path.startswith(p) for h, p in self.urls)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _url_key(url: str) -> tuple[str, str]:
    raw = url.strip().rstrip(".,;:!?")
    if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", raw):
        raw = "http://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    return host, (parts.path or "/").rstrip("/") or "/"
