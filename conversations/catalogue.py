"""The crisis-resource catalogue: the versioned data file it ships as
(``conversations/fixtures/crisis_resources.yaml``), which entries a person sees (their
preference, else their browser's region, else the international directory), and what the
response filter may let through: the phone numbers, web addresses and names a reply may mention
(conversations.selectors.crisis_catalogue_get builds it from the active ``CrisisResource``
rows)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

CATALOGUE_FILE = Path(__file__).resolve().parent / "fixtures" / "crisis_resources.yaml"
# The international directory: shown where no country's entries match.
INTERNATIONAL = "INTL"
# How long an entry may go unverified before the admin flags it (and check --deploy warns).
STALE_AFTER = dt.timedelta(days=365)
# Common names of countries whose ISO 3166 code differs ("UK" is not a code: GB is).
_REGION_ALIASES = {"UK": "GB"}
# Names of the regions the shipped catalogue covers (a code not listed shows as itself).
REGION_NAMES = {
    "AU": "Australia",
    "CA": "Canada",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "IE": "Ireland",
    "IN": "India",
    "NZ": "New Zealand",
    "US": "United States",
    INTERNATIONAL: "Another country (international directory)",
}
_FIELDS = ("locale", "name", "contact", "phone", "sms", "url", "hours", "source_url")


class CatalogueFileError(ValueError):
    """The data file is not a valid catalogue (the message names the entry and the field)."""


def catalogue_file_read(path: Path = CATALOGUE_FILE) -> tuple[str, list[dict]]:
    """The file's version and its entries as ``CrisisResource`` field dicts, validated: every
    entry names a locale, a name, a way to reach it, an official https source and a verified
    date; phone and text numbers are digits only (what ``tel:`` and ``sms:`` dial)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueFileError(
            f"{path.name}: cannot be read ({exc.__class__.__name__})."
        ) from exc
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise CatalogueFileError(f"{path.name}: needs a 'version' and a 'resources' list.")
    version = str(document.get("version") or "")
    if not version:
        raise CatalogueFileError(f"{path.name}: 'version' is missing.")
    entries = []
    for index, raw in enumerate(document["resources"]):
        where = f"{path.name} entry {index + 1}"
        if not isinstance(raw, dict):
            raise CatalogueFileError(f"{where}: not a mapping.")
        entry: dict[str, Any] = {key: str(raw.get(key) or "").strip() for key in _FIELDS}
        for key in ("locale", "name", "contact", "source_url"):
            if not entry[key]:
                raise CatalogueFileError(f"{where}: '{key}' is required.")
        for key in ("phone", "sms"):
            if entry[key] and not entry[key].isdigit():
                raise CatalogueFileError(f"{where}: '{key}' must be digits only.")
        for key in ("url", "source_url"):
            if entry[key] and not entry[key].startswith("https://"):
                raise CatalogueFileError(f"{where}: '{key}' must be an https:// address.")
        verified = raw.get("verified")
        if not isinstance(verified, dt.date):
            raise CatalogueFileError(f"{where}: 'verified' must be a date (YYYY-MM-DD).")
        entry["locale"] = region_normalise(entry["locale"])
        entry["last_verified"] = verified
        entry["verified_by"] = str(raw.get("verified_by") or "").strip()
        entry["position"] = index + 1
        entries.append(entry)
    return version, entries


def region_normalise(value: str) -> str:
    """An upper-case region code ("gb", "UK" -> "GB"); "" for anything that is not one."""
    code = (value or "").strip().upper()
    code = _REGION_ALIASES.get(code, code)
    return code if re.fullmatch(r"[A-Z]{2}|INTL", code) else ""


def region_label(code: str) -> str:
    return REGION_NAMES.get(code, code)


def accept_language_regions(header: str) -> list[str]:
    """The regions of an Accept-Language header, most preferred first: "en-GB,en;q=0.8,fr-CA"
    -> ["GB", "CA"]. A language without a region ("en") names no country."""
    ranked = []
    for position, part in enumerate((header or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        subtags = tag.strip().split("-")
        region = next(
            (s for s in subtags[1:] if re.fullmatch(r"[A-Za-z]{2}", s)), ""
        )  # en-GB, zh-Hant-TW
        if region and quality > 0:
            ranked.append((-quality, position, region_normalise(region)))
    return list(dict.fromkeys(region for *_, region in sorted(ranked) if region))


def crisis_locale_choose(
    *, preference: str, accept_language: str, available: Iterable[str], default: str
) -> str:
    """Which catalogue a person sees: their own choice, else the first region of their browser's
    languages that the catalogue covers, else (a region it does not cover) the international
    directory, else (no region at all) the installation's default."""
    available = set(available)
    chosen = region_normalise(preference)
    if chosen and chosen in available:
        return chosen
    regions = accept_language_regions(accept_language)
    for region in regions:
        if region in available:
            return region
    if regions and INTERNATIONAL in available:
        return INTERNATIONAL
    return region_normalise(default) or INTERNATIONAL


def verification_is_stale(last_verified: dt.date | None, *, today: dt.date) -> bool:
    """True when an entry was never verified or not for :data:`STALE_AFTER`."""
    return last_verified is None or today - last_verified > STALE_AFTER


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
