"""Parts of ``manage.py bench_chat`` (conversations/management/commands/bench_chat.py): load
generation, the processes it starts (gunicorn, a private redis-server), the checks it makes on
the database afterwards and its report. Never imported by the request path or any service."""
