"""Reads of the clinician workspace, one module per use case: queues, item details (masked,
pseudonymous), dialogues, agreement and disagreements, audit, metrics.

Conversations are read here in read-only queries (sessions, messages, escalations). Every list
loads what it shows with a fixed number of queries (no N+1); tests assert the counts.
"""

# The chat runtime's approved backend (conversations/backends/generation/approved.py, changed
# elsewhere now) imports this from here; everything else imports the room it needs.
from evaluation.selectors.dialogues import approved_dialogues_list

__all__ = ["approved_dialogues_list"]
