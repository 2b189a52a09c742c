"""The Celery app: JSON only, time limits, queues ``chat``/``default``/``training``.

Configuration (broker, routes, time limits, the beat schedule) lives in settings under the
``CELERY_`` namespace, so all periodic schedules are declared in one place.

Work queued from a request that must not wait on the broker (escalation e-mails) goes through
:func:`task_enqueue_nowait`: one connection attempt bounded by ``ARI_BROKER_PUBLISH_TIMEOUT_MS``,
no publish retries, no result; what it cannot queue, a periodic sweep picks up.
"""

import importlib
import logging
import os
import threading

from celery import Celery
from kombu import Queue
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ari_review.settings")

logger = logging.getLogger(__name__)

app = Celery("ari_review")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("chat"), Queue("default"), Queue("training"))
app.autodiscover_tasks()


def task_by_name(name: str):
    """The task registered as ``name``. Tasks are named ``<module>.<function>``; a process that
    has not imported that module yet (a web process with in-process tasks) imports it here.
    Services queue tasks by name (this, :func:`task_enqueue`, :func:`task_enqueue_nowait`) and
    never import task modules, which import services."""
    if name not in app.tasks:
        importlib.import_module(name.rpartition(".")[0])
    return app.tasks[name]


def task_enqueue(name: str, *, args: tuple = (), queue: str | None = None) -> None:
    """Queue the task registered as ``name`` (in-process mode runs it now)."""
    if app.conf.task_always_eager:
        task_by_name(name).apply_async(args=args, queue=queue)
    else:
        app.send_task(name, args=args, queue=queue)


def task_enqueue_long(
    name: str, *, args: tuple = (), queue: str | None = None
) -> threading.Thread | None:
    """Queue a long task (training). With a broker, as :func:`task_enqueue` (returns None).
    In-process mode (the quick start, no worker) runs it in a daemon thread of this process
    instead of inside the request, so the page that started it returns at once and polls the
    row's progress; the thread is returned. The task is looked up here, in the caller's thread,
    so that an unknown name fails the caller rather than a thread nobody watches."""
    if not app.conf.task_always_eager:
        app.send_task(name, args=args, queue=queue)
        return None
    task = task_by_name(name)

    def run() -> None:
        from django.db import connections

        try:
            task.apply(args=args)
        except Exception:  # the task records its own failure on its row
            logger.exception("in-process background task failed task=%s", name)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=run, name=f"background-{name}", daemon=True)
    thread.start()
    return thread


def task_enqueue_nowait(name: str, *, kwargs: dict) -> bool:
    """Queue the task registered as ``name`` without ever waiting on a dead or slow broker.

    Returns False when the broker could not take it (the caller's periodic sweep must do the
    work). In-process mode (``task_always_eager``) runs the task now, and its errors propagate.
    Callers name the task (``<module>.<function>``), so services never import task modules.
    """
    if app.conf.task_always_eager:
        task_by_name(name).apply(kwargs=kwargs, throw=True)
        return True
    from django.conf import settings

    timeout = settings.ARI_BROKER_PUBLISH_TIMEOUT_MS / 1000
    # A connection of its own: the shared pool's connections retry (and the result backend
    # subscribes) for seconds when the broker is gone.
    connection = app.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            "max_retries": 0,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        },
    )
    try:
        with connection:
            app.send_task(
                name, kwargs=kwargs, connection=connection, retry=False, ignore_result=True
            )
    except (OperationalError, OSError) as exc:
        logger.warning("task not queued: broker unavailable task=%s (%s)", name, type(exc).__name__)
        return False
    return True
