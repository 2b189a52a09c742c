import json

from django import template

from ari_review.privacy.masking import mask_text
from evaluation.services.metrics import reply_latency_ms

register = template.Library()


@register.filter
def compact(value) -> str:
    """Dicts as "k=v, k=v", lists as "a, b", anything else as short JSON."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, dict):
        return ", ".join(
            f"{k}={compact(v) if isinstance(v, dict | list) else v}" for k, v in value.items()
        )
    if isinstance(value, list):
        return ", ".join(compact(v) if isinstance(v, dict | list) else str(v) for v in value)
    return json.dumps(value) if not isinstance(value, str) else value


@register.filter
def masked(value) -> str:
    """Text a user wrote, with e-mail addresses, phone numbers, URLs and names masked."""
    return mask_text(value)


@register.filter
def latency_total(value) -> str:
    total = reply_latency_ms(value)
    return "" if total is None else f"{total:.0f} ms"


@register.filter
def score(value) -> str:
    return "" if value is None else f"{float(value):.2f}"


@register.filter
def pretty_json(value) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
