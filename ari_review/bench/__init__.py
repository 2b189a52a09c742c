"""Everything that exists only to measure: the benchmarks and the load-data generator.

One module (or package) per ``manage.py`` command; the command itself is a shim of two lines in
the app it measures (``conversations/management/commands/bench_chat.py`` names
``ari_review.bench.chat.command.Command``), so ``manage.py bench_chat`` works as before:

==========================  =================================================================
command                     code
==========================  =================================================================
``bench_chat``              ``ari_review/bench/chat/`` (the turn, HTTP, faults)
``bench_replies``           ``ari_review/bench/replies.py``
``bench_workspace``         ``ari_review/bench/workspace.py``
``generate_load_data``      ``ari_review/bench/load_data.py`` (volume for ``bench_workspace``)
``bench_pii_masking``       ``ari_review/bench/pii_masking.py``, ``masking_eval.py``
``bench_classifiers``       ``ari_review/bench/classifiers.py``
``bench_reward_model``      ``ari_review/bench/reward_model.py``
==========================  =================================================================

It sits inside ``ari_review`` only because the top-level layout is fixed; on the floors of
docs/architecture-layers.md it is above every app (it drives all of them), and no app module
imports it: the import-linter contract ``bench-apart`` allows the command shims alone, and no
settings module names it.
"""
