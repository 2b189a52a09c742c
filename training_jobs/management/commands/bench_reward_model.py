"""``manage.py bench_reward_model``: cross-validated accuracy of the reward model.

The code is ``ari_review.bench.reward_model`` (benchmarks live apart from the apps:
ari_review/bench/__init__.py).
"""

from ari_review.bench.reward_model import Command

__all__ = ["Command"]
