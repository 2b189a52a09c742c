"""``manage.py bench_workspace``: server time of the workspace pages and queue endpoints.

The code is ``ari_review.bench.workspace`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.workspace import Command

__all__ = ["Command"]
