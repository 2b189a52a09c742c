"""``manage.py generate_load_data``: benchmark volume for bench_workspace (a separate database).

The code is ``ari_review.bench.load_data`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.load_data import Command

__all__ = ["Command"]
