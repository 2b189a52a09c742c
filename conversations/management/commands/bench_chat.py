"""``manage.py bench_chat``: the chat turn and its crisis path under faults.

The code is ``ari_review.bench.chat.command`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.chat.command import Command

__all__ = ["Command"]
