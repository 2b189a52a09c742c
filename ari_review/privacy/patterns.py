"""Personal details found by patterns, in English, Spanish, German and French.

Every pattern runs on every message whatever its language (each is anchored on a phrase of its
own language, so they rarely fire on another), so a wrongly detected language loses nothing
here. The statistical layer (``ari_review.privacy.ner``) adds names, places and workplaces that no
phrase announces. ``fallback_spans`` is the conservative extra used when that layer is down.
"""

from __future__ import annotations

import re

from ari_review.privacy.names import given_name_spans
from ari_review.privacy.spans import PiiSpan
from ari_review.privacy.words import NOT_PROPER, sentence_start, words

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿœ"
# A capitalised word ("John", "Jean-Luc", "Köln") and a name of one or two of them.
_CAP = rf"[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)?"
_NAME = rf"{_CAP}(?:\s+{_CAP})?"
# A word of an organisation's name: capitalised, maybe all capitals, "Mary's", "Thomas'".
_ORGW = rf"[{_UP}][\w&.'’\-]*"
_ORG = rf"{_ORGW}(?:\s+(?:(?:of|de|del|de la|du|des|für|der|and|&|y|et)\s+)?{_ORGW}){{0,4}}"

# German nouns (capitalised) that follow "meine Mutter" etc. in a clause: not names.
_DE_NOUN_ENDINGS = ("ung", "heit", "keit", "schaft", "tion", "tät", "nis", "ismus", "chen")


def _proper(value: str) -> bool:
    first = value.split()[0].lower()
    return first not in NOT_PROPER and not first.endswith(_DE_NOUN_ENDINGS)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop trailing words that are not proper ("Linda Christmas" -> "Linda")."""
    parts = list(re.finditer(r"\S+", text[start:end]))
    while parts and not _proper(parts[-1].group()):
        parts.pop()
    if not parts or not _proper(parts[0].group()):
        return None
    return start + parts[0].start(), start + parts[-1].end()


# --- e-mail, URL, phone: the patterns masking has always had ---------------------------
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"']+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|org|net|edu|gov|io|co|uk|de|es|fr|us|info|me|app|ly|gg|ai|tv|biz|ca|au)"
    r"\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
# A run of digits with the usual separators; masked when it holds 7 or more digits, so the
# catalogue's short codes (988, 741741) stay readable.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-/]{4,}\d(?![\w])")

# --- names: introductions and the people a user talks about -----------------------------
_NAME_INTRO_EN = re.compile(
    r"\b(?:my name is|my name's|my names|name's|i am called|i'm called|im called|"
    r"they call me|people call me|you can call me|call me|i go by)"
    r"\s+(?P<pii>[^\W\d_][\w'\-]*(?:\s+(?-i:[A-Z])[\w'\-]*)?)",
    re.IGNORECASE | re.UNICODE,
)
# Words that follow "call me" etc. without being a name ("call me on ...", "call me back").
_NOT_NAMES = frozenset(
    words(
        """
        a an the on at in to if when whenever back later anytime any tomorrow today tonight now
        again please maybe after before not so just really very and or but because what
        whatever is was
        """
    )
)
_NAME_INTRO_OTHER = re.compile(
    r"\b(?i:me llamo|mi nombre es|ich heiße|ich heisse|mein name ist|je m['’]appelle|"
    r"mon nom est|mon prénom est|moi c['’]est|appelle-moi)"
    rf"\s+(?P<pii>[^\W\d_][\w'\-]*(?:\s+{_CAP})?)"
    rf"|\b(?i:soy|je suis)\s+(?P<cap>{_NAME})"
)
_RELATIONS = {
    "en": """brother sister mum mom mother dad father son daughter husband wife boyfriend
        girlfriend partner fiancé fiancée fiance fiancee ex friend bestie cousin uncle aunt
        auntie nan nana gran granny grandma grandpa grandad grandmother grandfather niece
        nephew stepdad stepmum stepmom stepfather stepmother stepbrother stepsister
        half-brother half-sister boss manager supervisor colleague coworker co-worker
        teacher tutor coach therapist counsellor counselor psychiatrist psychologist doctor
        dr dr. gp nurse neighbour neighbor flatmate roommate housemate classmate mate pal
        baby kid child mr mr. mrs mrs. ms ms. miss mx""",
    "es": """hermano hermana madre padre mamá papá hijo hija marido esposo esposa mujer novio
        novia pareja ex amigo amiga primo prima tío tía abuelo abuela sobrino sobrina jefe
        jefa compañero compañera profesor profesora profe psicólogo psicóloga terapeuta
        médico médica doctor doctora vecino vecina señor señora don doña sr. sra. suegro
        suegra cuñado cuñada""",
    "de": """bruder schwester mutter mama vater papa sohn tochter mann frau ehemann ehefrau
        freund freundin partner partnerin ex cousin cousine onkel tante oma opa neffe nichte
        chef chefin kollege kollegin lehrer lehrerin therapeut therapeutin arzt ärztin
        nachbar nachbarin herr stiefvater stiefmutter schwager schwägerin""",
    "fr": """frère sœur soeur mère maman père papa fils fille mari époux épouse femme copain
        copine ami amie cousin cousine oncle tante grand-mère grand-père mamie papi neveu
        nièce patron patronne chef collègue prof professeur professeure psy psychologue
        thérapeute médecin docteur voisin voisine monsieur madame mademoiselle mme mlle""",
}
_RELATION = re.compile(
    r"(?<![\w])(?i:"
    + "|".join(
        sorted({re.escape(w) for ws in _RELATIONS.values() for w in ws.split()}, key=len)[::-1]
    )
    + rf")(?:\s*,)?\s+(?P<pii>{_NAME})"
)

# --- addresses ------------------------------------------------------------------------------
_POSTCODE_TAIL = rf"(?:,?\s+\d{{5}}\s+{_CAP}(?:[\s-]{_CAP})?)?"
_EN_STREET = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Crescent|Terrace|Gardens|Grove"
)
_EN_STREET_NUMBERED = "Close|Way|Court|Ct|Place|Pl|Square|Row|Hill|Park|Parade|Mews|Walk|Dr"
_LOWER_STREET_WORD = r"(?!(?:the|a|an|my|this|that|our|your|down|up|along|across|on|of|to|from|minutes?|mins?|miles?|hours?|km|blocks?|doors?|houses?)\b)[a-z][a-z'’]+"  # noqa: E501
_ADDRESSES = [
    # 12 Elm Street / 221b Baker St. / 44 Kingsley Road
    re.compile(
        rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_CAP}\s+){{1,3}}(?:{_EN_STREET}|{_EN_STREET_NUMBERED})\b\.?"
    ),
    # 12 elm street (typed in lower case)
    re.compile(
        rf"\b\d{{1,5}}[a-z]?,?\s+(?:{_LOWER_STREET_WORD}\s+){{1,2}}"
        rf"(?:{_EN_STREET.lower()})\b\.?"
    ),
    # Maple Drive / Wall Street (no number)
    re.compile(rf"\b(?:{_CAP}\s+){{1,3}}(?:{_EN_STREET})\b\.?"),
    # UK postcodes (SW1A 1AA) and US state + ZIP (OR 97205)
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"),
    # calle Mayor 15 / Avenida de América 23 / c/ Sol, 3
    re.compile(
        r"(?<![\w])(?i:calle|c/|avenida|avda\.?|av\.|plaza|paseo|camino|carretera|ronda|"
        r"travesía|glorieta|pasaje|callejón)\s+(?:(?i:de la|de los|de las|del|de)\s+)?"
        rf"{_CAP}(?:\s+(?:(?i:de la|de los|de las|del|de|y)\s+)?{_CAP}){{0,3}}"
        rf"(?:,?\s*(?:(?i:n[º°o]\.?|número)\s*)?\d{{1,4}}[A-Za-z]?\b)?{_POSTCODE_TAIL}"
    ),
    # Lindenstraße 12 / Konrad-Adenauer-Str. 5 / Berliner Straße 5, 80331 München
    re.compile(
        rf"\b[{_UP}][\w\-]*?(?i:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|"
        rf"chaussee|steig|pfad|markt)\s*\d{{1,4}}\s?[a-z]?\b{_POSTCODE_TAIL}"
    ),
    re.compile(
        rf"\b{_CAP}\s+(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Chaussee)"
        rf"\s*\d{{1,4}}\s?[a-z]?\b{_POSTCODE_TAIL}"
    ),
    # 12 rue des Lilas / 45 boulevard Voltaire / rue de la Paix, 75002 Paris
    re.compile(
        r"(?:\b\d{1,4}\s*(?:bis|ter)?,?\s+)?(?<![\w])(?i:rue|avenue|av\.|boulevard|bd|place|"
        r"impasse|allée|allee|chemin|quai|route|square|passage|sentier)\s+"
        r"(?:(?i:de la|de l['’]|du|des|de|d['’])\s*)?"
        rf"{_CAP}(?:[\s-]+(?:(?i:de la|de l['’]|du|des|de|d['’]|le|la|les)\s*)?{_CAP}){{0,3}}"
        rf"{_POSTCODE_TAIL}"
    ),
]

# --- places announced by a phrase ---------------------------------------------------------
_PLACE = rf"(?P<pii>{_CAP}(?:[\s-]+(?:(?:de|del|am|an|sur|en)\s+)?{_CAP}){{0,2}})"
_PLACES = [
    re.compile(
        r"\b(?i:live[sd]?|living|moved|move|moving|grew up|raised|based|relocated|relocating|"
        r"stay(?:ing|ed)?|settled|resid(?:e|ing)|visit(?:ed|ing)?|born)"
        r"\s+(?:(?i:back|here|there|out|away|over|down|up)\s+)?(?i:in|to|near|outside|around)"
        rf"\s+{_PLACE}"
    ),
    re.compile(rf"\b(?i:i'?m|i am|im|come|comes|came|originally)\s+(?i:from)\s+{_PLACE}"),
    re.compile(
        r"\b(?i:vivo|vive|vives|vivimos|viven|vivía|vivíamos|viví|viviendo|me mudé|se mudó|"
        r"nos mudamos|mudarme|mudado|me crié|se crió|crecí|creció|nací|nació|resido)"
        rf"\s+(?i:en|a)\s+{_PLACE}"
    ),
    re.compile(rf"\b(?i:soy|es|vengo|viene|somos|venimos)\s+(?i:de)\s+{_PLACE}"),
    re.compile(
        r"\b(?i:wohne|wohnst|wohnt|wohnen|lebe|lebst|lebt|leben|ziehe|zieht|ziehen|zog|zogen|"
        r"komme|kommt|kommen|stamme|stammt)(?:\s+(?i:ich|du|er|sie|wir|ihr|jetzt|noch|heute))*"
        rf"\s+(?i:in|nach|aus)\s+{_PLACE}"
    ),
    re.compile(
        rf"\b(?i:in|nach|aus)\s+{_PLACE}\s+(?i:aufgewachsen|geboren|gezogen|umgezogen|gelebt|"
        r"gewohnt|zurückgezogen|zurückgekehrt)\b"
    ),
    re.compile(
        r"\b(?i:habite|habites|habitons|habitent|habitais|vis|vit|vivons|vivent|vivais|vécu|"
        r"déménagé|déménage|déménager|grandi|née?s?|installée?s?|originaire|viens|vient|"
        rf"venons)\s+(?i:à|a|au|en|aux|de|d['’]|du)\s*{_PLACE}"
    ),
]

# --- ages ----------------------------------------------------------------------------------
_NOT_AGE_UNIT = (
    r"(?!\s*(?:%|percent|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|times?|am\b|pm\b|"
    r"a\.m|p\.m|o'?clock|kg|lbs?|pounds?|stone|miles?|km|cm|ft|feet|inch|dollars?|euros?|"
    r"quid|grand|k\b|:|[.,]\d|/|['\"’]|steps|Uhr|Minuten|Stunden|Tage|Wochen|Monate|Prozent|Kilo|"
    r"Euro|Mal\b))"
)
_AGES = [
    re.compile(
        r"\b(?i:i'?m|i am|im|i was|she'?s|he'?s|she is|he is|she was|he was|they'?re|"
        r"they are|turned|turning|"
        r"turn|aged?|age of|ich bin|bin ich|er ist|sie ist|werde|wurde|wird)"
        rf"\s+(?:(?i:only|just|nearly|almost|about|now|fast|erst|schon|gerade)\s+)?"
        rf"(?P<pii>\d{{1,2}})\b{_NOT_AGE_UNIT}"
        r"(?=\s+(?i:years?|yrs?|y/?o|jahre|and|und|,|\.|!|\?|next|now|today|in|and|but|aber|"
        r"so|too|with|mit)\b|\s*[,.!?;]|\s*$)"
    ),
    re.compile(r"\b(?P<pii>\d{1,3})\s*(?:-|\s)?(?i:years?|yrs?|yr)(?:\s|-)*(?i:old)\b"),
    re.compile(r"\b(?P<pii>\d{1,3})\s*(?i:y/?o)\b"),
    re.compile(
        r"\b(?i:tengo|tiene|tienes|tenía|tenemos|con|a los|cumplo|cumplí|cumplió|cumple|"
        r"cumplir|cumpliré)\s+(?P<pii>\d{1,3})\s+(?i:años)\b"
        r"|\b(?i:cumplo|cumplí|cumplió|cumple|cumpliré)\s+(?P<pii2>\d{1,3})\b"
        r"|\b(?P<pii3>\d{1,3})\s+(?i:años de edad)\b"
    ),
    re.compile(
        r"\b(?P<pii>\d{1,3})\s*(?i:jahre alt|jahren alt)\b|\b(?P<pii2>\d{1,3})-?(?i:jährig)\w*"
        r"|\b(?i:mit|im alter von)\s+(?P<pii3>\d{1,3})\s+(?i:jahren)\b"
    ),
    re.compile(
        r"\b(?i:j['’]ai|il a|elle a|tu as|on a|à|âgée?s? de|vais avoir|va avoir|fête mes)"
        r"\s+(?P<pii>\d{1,3})\s+(?i:ans)\b"
    ),
]

# --- dates of birth ------------------------------------------------------------------------
_MONTHS = (
    r"jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|févr?(?:ier)?|mar(?:ch|s|zo)?|märz|apr(?:il)?|"
    r"avril|abril|may|mayo|mai|jun(?:e|i|io)?|juin|jul(?:y|i|io)?|juillet|aug(?:ust)?|août|"
    r"agosto|sep(?:t|tember|tiembre|tembre)?|oct(?:ober|obre|ubre)?|okt(?:ober)?|"
    r"nov(?:ember|iembre|embre)?|dec(?:ember)?|dez(?:ember)?|déc(?:embre)?|diciembre|enero|"
    r"febrero|junio|julio"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|\.)?"
_YEAR = r"(?:19|20)\d{2}"
_DATE = (
    rf"(?:\d{{1,2}}[./-]\d{{1,2}}[./-](?:{_YEAR}|\d{{2}})|{_YEAR}-\d{{2}}-\d{{2}}"
    rf"|{_DAY}\s+(?:of\s+|de\s+)?(?i:{_MONTHS})\b\.?(?:,?\s+(?:de\s+)?{_YEAR})?"
    rf"|(?i:{_MONTHS})\b\.?\s+{_DAY}(?:,?\s+{_YEAR})?"
    rf"|(?i:{_MONTHS})\s+(?:de\s+)?{_YEAR}|{_YEAR})"
)
_DOB_TRIGGER = (
    r"born|birthday|b-?day|dob|d\.o\.b\.?|date of birth|nací|naci|nació|nacida?|"
    r"fecha de nacimiento|cumpleaños|cumple|geboren|geburtstag|geburtsdatum|"
    r"née?s?|anniversaire|date de naissance"
)
_DOB_FILLER = (
    r"is|was|'s|on|in|the|es|fue|el|en|ist|war|am|im|est|c['’]est|le|en|au|habe ich|"
    r"ich|je suis|suis"
)
_DATES = [
    re.compile(
        rf"\b(?i:{_DOB_TRIGGER})(?:[\s,:]+(?i:{_DOB_FILLER})\b){{0,3}}[\s,:-]+(?P<pii>{_DATE})"
    ),
    re.compile(rf"(?i:am|le)\s+(?P<pii>{_DATE})(?:\s+\w+){{0,3}}?\s+(?i:geboren|née?)\b"),
]

# --- schools and workplaces ----------------------------------------------------------------
_ORGS = [
    re.compile(
        r"\b(?i:work(?:s|ed|ing)?|job|intern(?:ing)?|employed|volunteer(?:s|ed|ing)?|"
        r"teach(?:es|ing)?|taught|stud(?:y|ies|ying|ied)|nurse|manager|boss|shift|student|"
        r"pupil|year \d{1,2}|grade \d{1,2}|placement|apprenticeship)"
        rf"\s+(?i:at|for)\s+(?:(?i:the)\s+)?(?P<pii>{_ORG})"
    ),
    re.compile(
        rf"\b(?:{_ORGW}\s+){{1,3}}(?:High School|High|School|Primary|Academy|College|"
        r"University|Uni|Hospital|Clinic|Elementary|Middle School|Secondary|Sixth Form|"
        r"Grammar School|Grammar|Comprehensive|Institute|Polytechnic|Nursery)\b"
        rf"|\b(?:University|College) of {_ORGW}(?:\s+{_ORGW})?"
    ),
    re.compile(
        r"\b(?i:trabajo|trabaja|trabajas|trabajaba|trabajan|curro|curra|estudio|estudia|"
        r"estudian|estudiaba|prácticas)\s+(?i:en|para|con)\s+(?:(?i:el|la|los|las)\s+)?"
        rf"(?P<pii>{_ORG})"
    ),
    re.compile(
        r"\b(?:Colegio|Instituto|IES|CEIP|Escuela|Universidad|Facultad|Hospital|Academia)\s+"
        rf"(?:(?:de|del|de la|de los)\s+)?{_ORGW}(?:\s+{_ORGW}){{0,3}}"
    ),
    re.compile(
        r"\b(?:(?i:arbeite|arbeitest|arbeitet|arbeiten|arbeitete|jobbe|jobbt|angestellt|"
        r"ausbildung|praktikum)\s+(?i:bei|für)|(?i:studiere|studierst|studiert)\s+(?i:an|bei))\s+"
        rf"(?:(?i:der|dem|den|die|das)\s+)?(?P<pii>{_ORG})"
    ),
    re.compile(
        rf"\b[{_UP}][\w-]*-(?:Gymnasium|Schule|Realschule|Gesamtschule|Grundschule|Universität|"
        r"Hochschule|Klinik|Krankenhaus|Klinikum)\b"
        r"|\b(?:Gymnasium|Realschule|Grundschule|Gesamtschule|Universität|Hochschule|Klinikum|"
        rf"Krankenhaus)\s+(?:(?:der|des|am|an der)\s+)?{_ORGW}"
    ),
    re.compile(
        r"\b(?i:travaille|travailles|travaillons|travaillent|travaillais|travaillé|bosse|"
        r"bossé|stage|employée?|étudie|étudies|étudié)\s+(?i:chez|à|au|pour|en)\s+"
        rf"(?:(?i:la|le|l['’])\s*)?(?P<pii>{_ORG})"
    ),
    re.compile(
        r"\b(?i:lycée|collège|école|université|fac|faculté|iut|hôpital|clinique)\s+"
        rf"(?:(?:de|du|des|d['’])\s*)?{_ORGW}(?:[\s-]+{_ORGW}){{0,3}}"
    ),
]
# Generic words that the work/school phrases may catch without naming a place: a "name" made
# of these only ("High School", "the Uni", "Firma") is not masked.
_GENERIC_ORG = frozenset(
    words(
        """
        home uni school work college hospital office company the a my our your his her their
        high primary secondary middle elementary academy clinic university schule uni arbeit
        firma bank universität kita casa escuela universidad oficina empresa maison école fac
        bureau entreprise
        """
    )
)


def _group_span(match: re.Match) -> tuple[int, int]:
    for name in ("pii", "pii2", "pii3", "cap"):
        if name in match.re.groupindex and match.group(name) is not None:
            return match.span(name)
    return match.span()


def _spans_of(patterns, text: str, kind: str, *, check=None) -> list[PiiSpan]:
    spans = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            start, end = _group_span(match)
            if check is not None:
                bounds = check(text, start, end)
                if bounds is None:
                    continue
                start, end = bounds
            spans.append(PiiSpan(start, end, kind))
    return spans


def _phone_spans(text: str) -> list[PiiSpan]:
    spans = []
    for match in _PHONE.finditer(text):
        value = match.group(0)
        if sum(ch.isdigit() for ch in value) >= 7:
            spans.append(PiiSpan(match.start(), match.start() + len(value.rstrip()), "phone"))
    return spans


def _intro_check(text: str, start: int, end: int) -> tuple[int, int] | None:
    first = text[start:end].split()[0]
    if first.lower() in _NOT_NAMES:
        return None
    return start, end


def _org_check(text: str, start: int, end: int) -> tuple[int, int] | None:
    parts = text[start:end].lower().rstrip(" .").split()
    if not parts or all(w.strip(".'’") in _GENERIC_ORG for w in parts):
        return None
    if parts[0] in NOT_PROPER:
        return None
    return start, start + len(text[start:end].rstrip(" ."))


def _age_check(text: str, start: int, end: int) -> tuple[int, int] | None:
    return (start, end) if 0 < int(text[start:end]) < 120 else None


def contact_spans(text: str) -> list[PiiSpan]:
    """E-mail addresses, URLs and phone numbers."""
    spans = _spans_of([_EMAIL], text, "email")
    spans += _spans_of([_URL], text, "url")
    taken = [(s.start, s.end) for s in spans]
    spans += [s for s in _phone_spans(text) if not any(a < s.end and s.start < b for a, b in taken)]
    return spans


def pattern_spans(text: str, language: str = "en") -> list[PiiSpan]:
    """Every detail the patterns find: contacts, names announced by a phrase or on the list of
    given names, addresses, places announced by a phrase, ages, dates of birth and named
    schools or workplaces."""
    spans = contact_spans(text)
    spans += given_name_spans(text, language)
    spans += _spans_of([_NAME_INTRO_EN], text, "name", check=_intro_check)
    spans += _spans_of([_NAME_INTRO_OTHER, _RELATION], text, "name", check=_trim)
    spans += _spans_of(_ADDRESSES, text, "address")
    spans += _spans_of(_PLACES, text, "place", check=_trim)
    spans += _spans_of(_AGES, text, "age", check=_age_check)
    spans += _spans_of(_DATES, text, "date")
    spans += _spans_of(_ORGS, text, "org", check=_org_check)
    return spans


# Words that often start a sentence: the fallback leaves them alone there.
_STARTERS = frozenset(
    words(
        """
        a an the i i'm i've i'd i'll im my we our you your he she it they this that these those
        what when where why how who which if and but or so because then there here today
        yesterday tomorrow tonight now just also maybe sometimes everyone nobody somebody
        someone nothing everything anyway well yes no ok okay hi hey hello thanks thank sorry
        please can could would should will do does did is are was were have has had am not all
        some any every after before since last next one two yo mi mis tu tus el la los las un
        una es soy estoy tengo me te se lo no sí si pero y o que qué cuando donde cómo como hoy
        ayer mañana ahora hace ya nadie todo todos nada hola gracias también siempre nunca
        desde hasta en con sin por para mucho muy ich du er sie es wir ihr mein meine dein
        deine der die das ein eine ist bin sind war habe hat nicht nein ja aber und oder wenn
        weil dass als wie was wer wo heute gestern morgen jetzt seit vor nach am im in mit ohne
        für keiner niemand alles nichts hallo danke immer nie auch schon noch je tu il elle on
        nous vous ils elles mon ma mes ton ta le la les un une est suis ai pas non oui mais et
        ou si quand comme que qui où aujourd'hui hier demain maintenant depuis avant après
        personne tout rien bonjour salut merci toujours jamais aussi déjà encore j'ai c'est il
        y
        """
    )
)
_FALLBACK_WORD = re.compile(rf"(?<![\w'’-])(?:{_CAP}|[{_UP}]{{2,}})(?![\w'’-])")


def fallback_spans(text: str) -> list[PiiSpan]:
    """The conservative extra when names and places cannot be recognised: every capitalised
    word is masked except common sentence openers at the start of a sentence and the words
    in ``NOT_PROPER``. Over-masks (German nouns, brand names), never under-masks a
    capitalised name."""
    spans = []
    for match in _FALLBACK_WORD.finditer(text):
        word = match.group(0).lower()
        if word in NOT_PROPER:
            continue
        if word in _STARTERS and sentence_start(text, match.start()):
            continue
        spans.append(PiiSpan(match.start(), match.end(), "masked", "fallback"))
    return spans
