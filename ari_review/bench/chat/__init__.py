"""Parts of ``manage.py bench_chat`` (``ari_review/bench/chat/command.py``): load
generation, the processes it starts (gunicorn, a private redis-server), the checks it makes on
the database afterwards and its report. Never imported by the apps (docs/architecture-layers.md)."""
