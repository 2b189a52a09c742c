"""``manage.py bench_classifiers``: each classifier backend's served decision side by side.

The code is ``ari_review.bench.classifiers`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.classifiers import Command

__all__ = ["Command"]
