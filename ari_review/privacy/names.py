"""Given names from a list: what finds "Lena" or "Markus" in German, which has no NER
pipeline here, and a name the NER model missed elsewhere ("Hier j'ai croisé Sophie").

The list is the given names of Faker's person providers (MIT; en_US, en_GB, es_ES, es_MX,
fr_FR, fr_CH, de_DE, de_AT, de_CH: about 4,200 names). A capitalised word on the list is a name
anywhere in German (where every noun is capitalised, so German homographs such as "Ernst" or
"Rose" are left out) and, in the other languages, anywhere but at the start of a sentence
(where "Will", "Mark" or "Grace" are words).
"""

from __future__ import annotations

import functools
import logging
import re
from importlib import import_module

from ari_review.privacy.spans import PiiSpan
from ari_review.privacy.words import is_proper, sentence_start

logger = logging.getLogger(__name__)

_LOCALES = ("en_US", "en_GB", "es_ES", "es_MX", "fr_FR", "fr_CH", "de_DE", "de_AT", "de_CH")
# Given names that are also common capitalised words.
_HOMOGRAPHS = {
    "de": frozenset(
        {"Mark", "Rose", "Wolf", "Heide", "Ernst", "Iris", "Jade", "Kai", "Flora", "Gloria"}
    ),
    "any": frozenset({"Christian"}),
}
_WORD = re.compile(r"(?<![\w'’-])[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?(?![\w-])")


@functools.cache
def given_names() -> frozenset[str]:
    names: set[str] = set()
    try:
        for locale in _LOCALES:
            provider = import_module(f"faker.providers.person.{locale}").Provider
            for attr in ("first_names", "first_names_male", "first_names_female"):
                names.update(getattr(provider, attr, ()))
    except ImportError:
        logger.warning("pii names: faker is not installed; no list of given names")
        return frozenset()
    return frozenset(n for n in names if len(n) > 2) - _HOMOGRAPHS["any"]


def given_name_spans(text: str, language: str) -> list[PiiSpan]:
    names = given_names()
    spans = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        if word not in names and word.split("-")[0] not in names:
            continue
        if not is_proper(word):  # "June", "Mark" as a German noun...
            continue
        if language == "de":
            if word in _HOMOGRAPHS["de"]:
                continue
        elif sentence_start(text, match.start()):
            continue
        spans.append(PiiSpan(match.start(), match.end(), "name"))
    return spans
