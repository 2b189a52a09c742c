"""What the benchmark checks in the database after a load: every message stored exactly once,
where the replies came from, and every escalation e-mail sent exactly once."""

from __future__ import annotations

import email
import re
from collections import Counter
from pathlib import Path

from conversations.models import Escalation, Message, Notification

# The file-based e-mail backend ends every message with a line of 79 dashes.
_EMAIL_SEPARATOR = re.compile(rb"\n-{79}\n")
_ESCALATION_SUBJECT = re.compile(r"Escalation #(\d+)")


def messages_stored_check(sends: list[tuple[str, str]]) -> dict:
    """For every (session public id, Idempotency-Key) sent: exactly one user message with that
    key, and exactly one reply to it. Also counts what the sessions hold beyond what was sent."""
    sent = Counter(sends)
    session_ids = {session_id for session_id, _ in sent}
    users: Counter[tuple[str, str]] = Counter()
    replies: Counter[tuple[str, str]] = Counter()
    unsent = 0
    rows = Message.objects.filter(
        session__public_id__in=session_ids, role=Message.Role.USER
    ).values_list("session__public_id", "idempotency_key", "reply__id")
    for session_id, key, reply_id in rows.iterator(chunk_size=5000):
        pair = (str(session_id), key)
        if pair not in sent:
            unsent += 1
            continue
        users[pair] += 1
        replies[pair] += reply_id is not None
    stored_replies = Message.objects.filter(
        session__public_id__in=session_ids, role=Message.Role.ASSISTANT
    ).count()
    result = {
        "sent": sum(sent.values()),
        "keys_sent_twice": sum(1 for n in sent.values() if n > 1),
        "stored_user_messages": sum(users.values()) + unsent,
        "stored_replies": stored_replies,
        "missing": sum(1 for pair in sent if users[pair] == 0),
        "duplicated": sum(1 for pair in sent if users[pair] > 1),
        "without_reply": sum(1 for pair in sent if users[pair] and replies[pair] == 0),
        "stored_but_not_sent": unsent,
    }
    result["exactly_once"] = result["sent"] == result["stored_user_messages"] == result[
        "stored_replies"
    ] and not any(
        result[k]
        for k in (
            "keys_sent_twice",
            "missing",
            "duplicated",
            "without_reply",
            "stored_but_not_sent",
        )
    )
    return result


def replies_provenance(session_ids: list[str]) -> dict:
    """Where the replies in these sessions came from: the turns that asked the generator, how
    many of them fell back to approved content and why, the fixed (safety) replies; and the
    longest generation stage and turn as the server measured them."""
    backends: Counter = Counter()
    reasons: Counter = Counter()
    generation_turns = 0
    stage_max = {"generation": 0.0, "total": 0.0}
    for provenance, latency in Message.objects.filter(
        session__public_id__in=session_ids, role=Message.Role.ASSISTANT
    ).values_list("provenance", "latency_ms"):
        provenance, latency = provenance or {}, latency or {}
        for stage in stage_max:
            stage_max[stage] = max(stage_max[stage], float(latency.get(stage) or 0.0))
        backends[provenance.get("backend", "?")] += 1
        if "fallback_from" in provenance:
            reasons[provenance.get("fallback_reason", "?")] += 1
        if "fallback_from" in provenance or provenance.get("backend") != "fixed":
            generation_turns += 1
    fallbacks = sum(reasons.values())
    return {
        "replies": sum(backends.values()),
        "by_backend": dict(sorted(backends.items())),
        "generation_turns": generation_turns,
        "fallbacks": fallbacks,
        "fallback_share": round(fallbacks / generation_turns, 3) if generation_turns else None,
        "fallback_reasons": dict(sorted(reasons.items())),
        # As the server timed them (Message.latency_ms): the generation stage and the turn.
        "generation_max_ms": round(stage_max["generation"], 1),
        "turn_max_ms": round(stage_max["total"], 1),
    }


def emails_read(directory: Path) -> list[tuple[int | None, str]]:
    """(escalation id, recipient) of every e-mail the file-based backend wrote in ``directory``."""
    found = []
    for path in sorted(directory.iterdir()):
        for chunk in _EMAIL_SEPARATOR.split(path.read_bytes()):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk)
            match = _ESCALATION_SUBJECT.search(message.get("Subject", ""))
            found.append((int(match.group(1)) if match else None, message.get("To", "")))
    return found


def notifications_state(session_ids: list[str]) -> dict:
    """The escalations of these sessions and their notification rows, by status."""
    escalations = Escalation.objects.filter(session__public_id__in=session_ids)
    per_session = Counter(escalations.values_list("session_id", flat=True))
    rows = Notification.objects.filter(escalation__in=escalations)
    return {
        "escalations": sum(per_session.values()),
        "sessions_with_one_escalation": sum(1 for n in per_session.values() if n == 1),
        "notifications": rows.count(),
        "by_status": dict(Counter(rows.values_list("status", flat=True))),
    }


def notifications_sent_once(session_ids: list[str], emails: list[tuple[int | None, str]]) -> dict:
    """Every notification row of these sessions' escalations is ``sent``, was attempted once,
    and has exactly one e-mail (same escalation, same address); no e-mail is left over."""
    rows = list(
        Notification.objects.filter(escalation__session__public_id__in=session_ids).values_list(
            "escalation_id", "address", "status", "attempts"
        )
    )
    written = Counter((escalation_id, to.lower()) for escalation_id, to in emails)
    expected = Counter((escalation_id, address.lower()) for escalation_id, address, _, _ in rows)
    result = {
        "rows": len(rows),
        "sent": sum(1 for _, _, status, _ in rows if status == Notification.Status.SENT),
        "attempted_more_than_once": sum(1 for *_, attempts in rows if attempts != 1),
        "emails": sum(written.values()),
        "rows_with_one_email": sum(1 for key in expected if written[key] == 1),
        "emails_without_row": sum(n for key, n in written.items() if key not in expected),
    }
    result["exactly_once"] = (
        result["rows"] > 0
        and result["sent"] == result["rows"] == result["rows_with_one_email"] == result["emails"]
        and result["attempted_more_than_once"] == 0
        and result["emails_without_row"] == 0
    )
    return result
