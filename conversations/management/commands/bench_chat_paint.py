"""``manage.py bench_chat_paint``: the chat page's paint times in Chromium.

The code is ``ari_review.bench.chat_paint`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.chat_paint import Command

__all__ = ["Command"]
