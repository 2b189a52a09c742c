"""Word lists and small text tests shared by the pattern, name-list and NER layers."""

from __future__ import annotations


def words(text: str) -> list[str]:
    return text.split()


# Capitalised words that are not names, places or organisations on their own.
NOT_PROPER = frozenset(
    words(
        """
        i i'm i've i'd i'll god jesus christ dios gott dieu allah lord mum mom mummy mommy mama
        mamma mam dad daddy papa mother father ma pa mamá papá maman mutti vati oma opa nan
        nana gran granny grandma grandpa mamie papi monday tuesday wednesday thursday friday
        saturday sunday lunes martes miércoles jueves viernes sábado domingo montag dienstag
        mittwoch donnerstag freitag samstag sonntag lundi mardi mercredi jeudi vendredi samedi
        dimanche january february march april may june july august september october november
        december enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre
        diciembre januar februar märz mai juni juli oktober dezember janvier février mars avril
        juin juillet août septembre octobre novembre décembre christmas easter halloween
        navidad pascua weihnachten ostern silvester noël pâques ramadan eid diwali hanukkah
        thanksgiving muttertag vatertag valentinstag day eve new year
        mother's father's valentine's día madre padre fête mères pères ari ok okay hi hey
        hello yes no thanks sorry please
        """
    )
)


def is_proper(value: str) -> bool:
    """False for what looks like a name but is not one: "Mum", "God", "Monday", "Christmas"."""
    parts = value.split()
    return bool(parts) and any(
        w.lower().strip(".,'’").removesuffix("'s").removesuffix("’s") not in NOT_PROPER
        for w in parts
    )


def sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip(" \t\"'“‘([")
    return not before or before[-1] in ".!?…\n:"
