"""Escalation e-mails go through an outbox: rows written with the escalation, sent once per
recipient by a dispatcher that retries with backoff, queued without waiting on the broker and
swept every minute, so neither a dead broker nor a failing mail server loses one.

Real parts: PostgreSQL, a real Celery worker, a private redis-server (stopped and started again
to play a broker outage; the shared one on 6379 is never touched), Django e-mail backends.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import logging
import shutil
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import checks, mail
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ari_review.api.errors import ApplicationError
from ari_review.celery import app as celery_app
from ari_review.celery import task_enqueue_nowait
from conversations.models import (
    ChatSession,
    ClinicianAlert,
    Escalation,
    Message,
    Notification,
    NotificationStatus,
)
from conversations.services import notifications_dispatch, session_create
from conversations.services.crisis import (
    NOTIFY_MAX_ATTEMPTS,
    NOTIFY_RETRY_BASE_SECONDS,
    clinician_alert_mark_read,
    escalation_close,
    escalation_open,
    escalations_are_offline,
    escalations_offline,
    notifications_queue,
)
from tests.conftest import celery_eager
from tests.factories import ReviewItemFactory, UserFactory

HIGH_RISK = "I want to end my life tonight"
SWEEP_TASK = "conversations.tasks.notifications_dispatch_due_task"


class FlakyEmailBackend(LocmemEmailBackend):
    """The test e-mail backend (messages land in ``mail.outbox``), but the first
    ``failures_left`` sends raise like a mail server that went away."""

    failures_left = 0
    attempts = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class SlowEmailBackend(LocmemEmailBackend):
    """Takes a while per message, so that concurrent dispatchers overlap."""

    def send_messages(self, messages):
        time.sleep(0.02)
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyEmailBackend"
    FlakyEmailBackend.failures_left = 0
    FlakyEmailBackend.attempts = 0
    yield FlakyEmailBackend
    FlakyEmailBackend.failures_left = 0


@pytest.fixture
def on_call_team(db, settings):
    """One pager address and one on-call clinician with an address: two e-mails a time."""
    settings.ONCALL_EMAILS = ["pager@example.org"]
    clinician = UserFactory(username="dr_on_call", role="clinician")
    _on_call(clinician, settings, "oncall-clinician@example.org")
    return clinician


def _high_risk_message(username: str = "alice") -> Message:
    user = UserFactory(username=username, role="enduser")
    session = session_create(user=user, session_type="check_in")
    return Message.objects.create(
        session=session, role=Message.Role.USER, text=HIGH_RISK, risk_level="high"
    )


def _escalate(message: Message) -> Escalation:
    """What the chat turn does: open the escalation inside the turn's transaction."""
    with transaction.atomic():
        escalation, created = escalation_open(session=message.session, message=message)
    assert created
    return escalation


def _last_attempt_next(rows) -> None:
    """The next failure of these rows is their last: they are given up."""
    rows.update(attempts=NOTIFY_MAX_ATTEMPTS - 1)


def _on_call(user, settings, email: str = "") -> None:
    user.email = email
    user.save()
    user.groups.add(Group.objects.get_or_create(name=settings.ARI_ONCALL_GROUP)[0])


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


# --- the outbox is written with the escalation -------------------------------------------------
def test_notifications_are_written_in_the_escalations_transaction(
    on_call_team, django_capture_on_commit_callbacks
):
    message = _high_risk_message()

    class TurnFailed(Exception):
        pass

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(TurnFailed),
        transaction.atomic(),
    ):
        escalation_open(session=message.session, message=message)
        assert Notification.objects.count() == 2
        raise TurnFailed
    assert not Escalation.objects.exists()
    assert not Notification.objects.exists()
    assert not ClinicianAlert.objects.exists()
    assert callbacks == []  # nothing queued for a rolled-back escalation

    with django_capture_on_commit_callbacks() as callbacks:
        escalation = _escalate(message)
    assert len(callbacks) == 1
    rows = list(Notification.objects.filter(escalation=escalation).order_by("address"))
    assert [(n.address, n.recipient_id, n.status, n.attempts) for n in rows] == [
        ("oncall-clinician@example.org", on_call_team.pk, "pending", 0),
        ("pager@example.org", None, "pending", 0),
    ]
    escalation.refresh_from_db()
    assert escalation.notification_status == NotificationStatus.QUEUED
    assert escalation.notified_at is None  # nothing was sent yet
    assert ClinicianAlert.objects.filter(escalation=escalation, recipient=on_call_team).exists()


# --- the dispatcher ------------------------------------------------------------------------------
def test_dispatcher_sends_one_email_per_recipient_once(on_call_team, mailoutbox, settings):
    settings.ARI_PUBLIC_URL = "https://ari.example.org/"
    message = _high_risk_message()
    escalation = _escalate(message)

    result = notifications_dispatch(escalation_id=escalation.pk)

    assert (result.sent, result.failed) == (2, 0)
    assert sorted(m.to for m in mailoutbox) == [
        ["oncall-clinician@example.org"],
        ["pager@example.org"],
    ]
    for email in mailoutbox:
        assert email.from_email == settings.DEFAULT_FROM_EMAIL
        assert f"Escalation #{escalation.pk}" in email.subject
        assert f"Session: #{message.session_id}" in email.body
        assert "https://ari.example.org/review/" in email.body
        text = email.subject + email.body
        assert HIGH_RISK not in text and "alice" not in text
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    escalation.refresh_from_db()
    assert escalation.notification_status == NotificationStatus.SENT
    assert escalation.notified_at is not None

    # A second dispatcher, or the sweep, finds nothing left to send.
    assert notifications_dispatch(escalation_id=escalation.pk).sent == 0
    assert notifications_dispatch().sent == 0
    assert len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_send_a_row_twice(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowEmailBackend"
    settings.ONCALL_EMAILS = [f"pager{i}@example.org" for i in range(24)]
    mail.outbox = []
    escalation = _escalate(_high_risk_message())
    results, errors = [], []
    together = threading.Barrier(3)

    def dispatcher():
        try:
            together.wait(timeout=10)
            results.append(notifications_dispatch())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(r.sent for r in results) == 24
    assert sorted(m.to[0] for m in mail.outbox) == sorted(settings.ONCALL_EMAILS)
    assert max(r.sent for r in results) < 24  # they really did share the work
    assert set(Notification.objects.filter(escalation=escalation).values_list("attempts")) == {(1,)}


def test_failed_sends_are_retried_with_backoff_then_sent(on_call_team, flaky_mail, settings):
    settings.ONCALL_EMAILS = []  # one recipient: the on-call clinician
    escalation = _escalate(_high_risk_message())
    flaky_mail.failures_left = 2
    start = timezone.now()

    first = notifications_dispatch(now=start)
    row = Notification.objects.get(escalation=escalation)
    assert (first.sent, first.failed) == (0, 1)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "SMTPServerDisconnected")
    assert row.next_attempt_at == start + dt.timedelta(seconds=NOTIFY_RETRY_BASE_SECONDS)
    assert first.next_attempt_at == row.next_attempt_at

    # Not due yet: nobody touches it.
    assert notifications_dispatch(now=start + dt.timedelta(seconds=10)).failed == 0
    assert flaky_mail.attempts == 1

    second_at = row.next_attempt_at
    assert notifications_dispatch(now=second_at).failed == 1
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at == second_at + dt.timedelta(seconds=2 * NOTIFY_RETRY_BASE_SECONDS)
    escalation.refresh_from_db()
    assert escalation.notified_at is None
    assert escalation.notification_status == NotificationStatus.QUEUED

    third = notifications_dispatch(now=row.next_attempt_at)
    assert (third.sent, third.failed) == (1, 0)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert [m.to for m in mail.outbox] == [["oncall-clinician@example.org"]]
    escalation.refresh_from_db()
    assert escalation.notified_at is not None
    assert escalation.notification_status == NotificationStatus.SENT


def test_a_notification_is_given_up_after_max_attempts_and_admins_are_alerted(
    on_call_team, flaky_mail, admin_user, settings
):
    settings.ONCALL_EMAILS = []
    escalation = _escalate(_high_risk_message())
    flaky_mail.failures_left = 10_000
    at = timezone.now()

    for _ in range(NOTIFY_MAX_ATTEMPTS):
        result = notifications_dispatch(now=at)
        assert result.failed == 1
        at = result.next_attempt_at or at
    assert result.given_up == 1
    assert notifications_dispatch(now=at + dt.timedelta(days=1)).failed == 0  # given up for good

    row = Notification.objects.get(escalation=escalation)
    assert (row.status, row.attempts) == ("failed", NOTIFY_MAX_ATTEMPTS)
    escalation.refresh_from_db()
    assert escalation.notification_status == NotificationStatus.FAILED
    assert escalation.notified_at is None
    assert ClinicianAlert.objects.filter(escalation=escalation, recipient=admin_user).exists()
    assert mail.outbox == []


# --- delivery through Celery -------------------------------------------------------------------
@pytest.mark.celery_worker
def test_the_worker_delivers_a_queued_notification(celery_worker, on_call_team, settings):
    settings.ONCALL_EMAILS = []
    mail.outbox = []
    escalation = _escalate(_high_risk_message())  # commits: queued on commit

    row = Notification.objects.get(escalation=escalation)
    assert _wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent")
    assert [m.to for m in mail.outbox] == [["oncall-clinician@example.org"]]
    escalation.refresh_from_db()
    assert escalation.notified_at is not None


def test_in_process_mode_sends_on_commit(
    on_call_team, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    """The zero-setup mode (no broker: tasks run in-process) still sends."""
    with django_capture_on_commit_callbacks(execute=True):
        escalation = _escalate(_high_risk_message())
    assert len(mailoutbox) == 2
    assert not Notification.objects.filter(escalation=escalation).exclude(status="sent").exists()


def _unused_port() -> int:
    """A free port on the loopback (nothing listens there until someone binds it)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class PrivateRedis:
    """A redis-server of this test alone, on a free port: stop it and start it again at will."""

    def __init__(self, tmp_path: Path):
        self.port = _unused_port()
        self.dir = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """The Celery app publishes to ``url`` for a block."""
    previous = celery_app.conf.broker_url
    # Connection pools built while this broker is set must not outlive the block.
    pools = (celery_app._pool, celery_app.amqp._producer_pool)
    celery_app.conf.update(CELERY_BROKER_URL=url)
    try:
        yield
    finally:
        celery_app.conf.update(CELERY_BROKER_URL=previous)
        celery_app._pool, celery_app.amqp._producer_pool = pools


@pytest.fixture
def private_broker(tmp_path, transactional_db):
    """The Celery app's broker is a private redis-server for the test's duration."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        with broker_at(redis.url):
            yield redis
    finally:
        redis.stop()


@pytest.mark.celery_worker
def test_broker_outage_neither_delays_the_turn_nor_loses_the_emails(
    private_broker, on_call_team, settings, capsys
):
    mail.outbox = []
    private_broker.stop()

    timings = []
    escalations = []
    for i in range(5):
        message = _high_risk_message(f"user{i}")
        started = time.monotonic()
        escalations.append(_escalate(message))  # the commit runs the on-commit queueing
        timings.append(time.monotonic() - started)
    with capsys.disabled():
        print(f"\nescalation_open + commit with the broker down: max {max(timings) * 1000:.1f} ms")
    assert max(timings) < 1.0  # generous: the old code waited about 4 s per escalation

    rows = Notification.objects.filter(escalation__in=escalations)
    assert rows.count() == 10
    assert set(rows.values_list("status", "attempts")) == {("pending", 0)}
    assert mail.outbox == []

    private_broker.start()
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["chat", "default", "training"],
        shutdown_timeout=30,
    ):
        assert task_enqueue_nowait(SWEEP_TASK, kwargs={})  # what beat sends every minute
        assert _wait_for(lambda: not rows.exclude(status="sent").exists())
        assert task_enqueue_nowait(SWEEP_TASK, kwargs={})  # a second sweep sends nothing more
        time.sleep(1.0)

    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert len(sent) == 10 and len(set(sent)) == 10  # every e-mail exactly once
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert not Escalation.objects.filter(pk__in=[e.pk for e in escalations]).filter(
        notified_at__isnull=True
    )


# --- no one to notify ----------------------------------------------------------------------------
def test_no_recipients_is_recorded_admins_are_alerted_and_the_deploy_check_warns(
    admin_user, clinician, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ONCALL_EMAILS = []
    assert clinician.email == ""  # a clinician, but no address to e-mail

    with django_capture_on_commit_callbacks(execute=True):
        escalation = _escalate(_high_risk_message())

    escalation.refresh_from_db()
    assert escalation.notification_status == NotificationStatus.NO_RECIPIENTS
    assert escalation.get_notification_status_display().startswith("No one notified")
    assert escalation.notified_at is None
    assert not Notification.objects.exists()
    assert mailoutbox == []
    assert ClinicianAlert.objects.filter(escalation=escalation, recipient=admin_user).exists()

    issues = checks.run_checks(include_deployment_checks=True, tags=["notifications"])
    assert [issue.id for issue in issues] == ["conversations.W001"]
    out, err = io.StringIO(), io.StringIO()
    call_command("check", "--deploy", "--tag", "notifications", stdout=out, stderr=err)
    assert "conversations.W001" in out.getvalue() + err.getvalue()
    # Not part of the ordinary checks (runserver, migrate).
    assert checks.run_checks(tags=["notifications"]) == []

    clinician.email = "dr_bo@example.org"
    clinician.save()
    assert checks.run_checks(include_deployment_checks=True, tags=["notifications"]) == []
    clinician.email = ""
    clinician.save()
    settings.ONCALL_EMAILS = ["pager@example.org"]
    assert checks.run_checks(include_deployment_checks=True, tags=["notifications"]) == []


@pytest.mark.slow
def test_reviewers_see_that_no_one_was_notified(client, clinician, admin_user, settings):
    settings.ONCALL_EMAILS = []
    escalation = _escalate(_high_risk_message())
    item = ReviewItemFactory(session=escalation.session)
    client.force_login(clinician)

    page = client.get(reverse("evaluation:review-item", args=[item.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="escalation-not-notified"' in html
    assert "No one notified by e-mail: no on-call address" in html


def test_admins_see_the_outbox_and_who_was_not_notified(client, admin_user, settings):
    settings.ONCALL_EMAILS = []
    nobody = _escalate(_high_risk_message("user1"))
    settings.ONCALL_EMAILS = ["pager@example.org"]
    queued = _escalate(_high_risk_message("user2"))
    client.force_login(admin_user)

    escalations = client.get(reverse("admin:conversations_escalation_changelist")).content.decode()
    assert "No one notified by e-mail: no on-call address" in escalations
    assert "E-mail pending" in escalations
    outbox = client.get(reverse("admin:conversations_notification_changelist")).content.decode()
    assert "pager@example.org" in outbox
    page = client.get(reverse("admin:conversations_escalation_change", args=[queued.pk]))
    assert page.status_code == 200 and "pager@example.org" in page.content.decode()
    assert (
        client.get(reverse("admin:conversations_escalation_change", args=[nobody.pk])).status_code
        == 200
    )


def test_services_never_import_the_tasks_module():
    services = Path(__file__).resolve().parents[2] / "conversations" / "services"
    for path in services.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [
                    f"{node.module}.{alias.name}" for alias in node.names
                ]
            assert not any(n.startswith("conversations.tasks") for n in names), path.name


# --- the edges of the outbox -------------------------------------------------------------------
def test_an_open_escalation_is_returned_not_opened_twice(on_call_team):
    message = _high_risk_message()
    first = _escalate(message)
    with transaction.atomic():
        again, created = escalation_open(session=message.session, message=message)
    assert (again, created) == (first, False)
    assert Notification.objects.count() == 2  # no second round of e-mails
    assert ClinicianAlert.objects.count() == 1


def test_each_address_is_e_mailed_once_whatever_its_case_or_spaces(on_call_team, settings):
    settings.ONCALL_EMAILS = [" Pager@Example.org ", "pager@example.org", ""]
    on_call_team.email = "PAGER@example.org"
    on_call_team.save()
    escalation = _escalate(_high_risk_message())
    rows = Notification.objects.filter(escalation=escalation)
    assert [(n.address, n.recipient_id) for n in rows] == [("Pager@Example.org", None)]


def test_offline_evaluation_opens_no_escalation_and_the_flag_is_reset():
    assert not escalations_are_offline()
    with pytest.raises(RuntimeError), escalations_offline():
        assert escalations_are_offline()
        raise RuntimeError
    assert not escalations_are_offline()


def test_a_monitoring_alert_is_e_mailed_to_every_on_call_address(
    on_call_team, mailoutbox, django_capture_on_commit_callbacks
):
    subject = "Alert: " + "x" * 300
    with django_capture_on_commit_callbacks() as callbacks:
        queued = notifications_queue(subject=subject, body="Check the dashboard.")
    assert queued == 2
    assert len(callbacks) == 1  # the sweep is queued after commit
    rows = Notification.objects.order_by("address")
    assert [(n.escalation_id, n.recipient_id, n.subject, n.body) for n in rows] == [
        (None, on_call_team.pk, subject[:200], "Check the dashboard."),
        (None, None, subject[:200], "Check the dashboard."),  # ONCALL_EMAILS: no user
    ]
    assert notifications_dispatch().sent == 2
    assert sorted((m.to, m.subject, m.body) for m in mailoutbox) == [
        (["oncall-clinician@example.org"], subject[:200], "Check the dashboard."),
        (["pager@example.org"], subject[:200], "Check the dashboard."),
    ]


def test_in_process_mode_sends_a_monitoring_alert_on_commit(
    on_call_team, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notifications_queue(subject="Alert", body="Check the dashboard.")
    assert sorted(m.to[0] for m in mailoutbox) == [
        "oncall-clinician@example.org",
        "pager@example.org",
    ]
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_monitoring_alert_with_no_one_to_e_mail_queues_nothing(
    db, settings, django_capture_on_commit_callbacks
):
    settings.ONCALL_EMAILS = []
    with django_capture_on_commit_callbacks() as callbacks:
        assert notifications_queue(subject="Alert", body="Body") == 0
    assert callbacks == []
    assert not Notification.objects.exists()


class RefusingEmailBackend(LocmemEmailBackend):
    """A mail server that answers every send with an SMTP error (its text quotes the address)."""

    def send_messages(self, messages):
        raise smtplib.SMTPResponseException(550, b"mailbox pager@example.org unavailable")


def test_retries_back_off_up_to_half_an_hour_and_record_the_error_kind_only(
    on_call_team, flaky_mail, settings
):
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    escalation = _escalate(_high_risk_message())
    at = timezone.now()
    delays = []
    for _ in range(NOTIFY_MAX_ATTEMPTS - 1):
        result = notifications_dispatch(now=at)
        assert (result.sent, result.failed, result.given_up) == (0, 1, 0)
        assert result.next_attempt_at is not None
        delays.append((result.next_attempt_at - at).total_seconds())
        at = result.next_attempt_at
    assert delays == [30, 60, 120, 240, 480, 960, 1800]
    row = Notification.objects.get(escalation=escalation)
    assert (row.status, row.last_error) == ("pending", "SMTPResponseException 550")
    settings.EMAIL_BACKEND = f"{__name__}.FlakyEmailBackend"  # the last try fails otherwise
    flaky_mail.failures_left = 1
    last = notifications_dispatch(now=at)
    assert (last.failed, last.given_up, last.next_attempt_at) == (1, 1, None)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", NOTIFY_MAX_ATTEMPTS)
    assert row.last_error == "SMTPServerDisconnected"  # the error of the last try


def test_a_monitoring_alerts_e_mail_is_given_up_without_touching_any_escalation(
    on_call_team, flaky_mail, settings
):
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    notifications_queue(subject="Alert", body="Body")
    at = timezone.now()
    given_up = 0
    for attempt in range(1, NOTIFY_MAX_ATTEMPTS + 1):
        if attempt == NOTIFY_MAX_ATTEMPTS:
            settings.EMAIL_BACKEND = f"{__name__}.FlakyEmailBackend"
            flaky_mail.failures_left = 1
        result = notifications_dispatch(now=at)
        given_up += result.given_up
        at = result.next_attempt_at or at
    assert given_up == 1
    row = Notification.objects.get()
    assert (row.status, row.last_error) == ("failed", "SMTPServerDisconnected")
    assert not ClinicianAlert.objects.exists()


def test_one_address_given_up_while_another_was_reached_alerts_no_admin(
    on_call_team, flaky_mail, admin_user, settings
):
    escalation = _escalate(_high_risk_message())  # the pager and the on-call clinician
    at = timezone.now()
    assert notifications_dispatch(now=at, limit=1).sent == 1
    flaky_mail.failures_left = 10_000
    for _ in range(NOTIFY_MAX_ATTEMPTS):
        result = notifications_dispatch(now=at)
        at = result.next_attempt_at or at
    assert result.given_up == 1
    assert sorted(Notification.objects.values_list("status", flat=True)) == ["failed", "sent"]
    escalation.refresh_from_db()
    assert escalation.notification_status == NotificationStatus.SENT
    assert not ClinicianAlert.objects.filter(recipient=admin_user).exists()


def test_the_dispatcher_sends_at_most_its_limit_per_call(on_call_team, mailoutbox):
    escalation = _escalate(_high_risk_message())
    first = notifications_dispatch(escalation_id=escalation.pk, limit=1)
    assert (first.sent, len(mailoutbox)) == (1, 1)
    assert first.next_attempt_at is not None  # the other one is still pending
    assert notifications_dispatch(escalation_id=escalation.pk).sent == 1


def test_an_alert_is_marked_read_once_and_only_by_its_recipient(on_call_team, clinician):
    _escalate(_high_risk_message())
    alert = ClinicianAlert.objects.get(recipient=on_call_team)
    with pytest.raises(ApplicationError, match="^This alert is not yours.$") as refused:
        clinician_alert_mark_read(alert=alert, user=clinician)
    assert refused.value.status_code == 404
    read = clinician_alert_mark_read(alert=alert, user=on_call_team)
    first_read_at = ClinicianAlert.objects.get(pk=alert.pk).read_at
    assert read.read_at == first_read_at is not None
    clinician_alert_mark_read(alert=alert, user=on_call_team)
    assert ClinicianAlert.objects.get(pk=alert.pk).read_at == first_read_at


def test_only_clinicians_and_admins_close_an_escalation_and_the_note_is_trimmed(
    on_call_team, enduser, admin_user
):
    escalation = _escalate(_high_risk_message("bob"))
    with pytest.raises(ApplicationError, match="^Only clinicians can close escalations.$"):
        escalation_close(escalation=escalation, clinician=enduser)
    by_admin = escalation_close(
        escalation=_escalate(_high_risk_message("eve")), clinician=admin_user
    )
    by_admin.refresh_from_db()
    assert (by_admin.status, by_admin.closed_by, by_admin.resolution_note) == (
        "closed",
        admin_user,
        "",
    )
    closed = escalation_close(escalation=escalation, clinician=on_call_team, note="  Called.  ")
    with pytest.raises(ApplicationError, match="^This escalation is already closed.$"):
        escalation_close(escalation=escalation, clinician=on_call_team)
    closed.refresh_from_db()
    assert (closed.status, closed.closed_by, closed.resolution_note) == (
        "closed",
        on_call_team,
        "Called.",
    )


def test_the_mode_ends_when_this_sessions_last_open_escalation_closes(on_call_team):
    """Escalations of other sessions, and this session's closed ones, do not hold it open."""
    message = _high_risk_message("carol")
    session = message.session
    earlier = _escalate(message)
    escalation_close(escalation=earlier, clinician=on_call_team)
    _escalate(_high_risk_message("dave"))  # another session's, left open
    session.safety_mode = True
    session.save(update_fields=["safety_mode"])
    with transaction.atomic():
        latest, created = escalation_open(session=session, message=message)
    assert created
    escalation_close(escalation=latest, clinician=on_call_team)
    session.refresh_from_db()
    assert session.safety_mode is False


def test_dispatching_one_escalation_leaves_the_others_rows(on_call_team, mailoutbox):
    first = _escalate(_high_risk_message("u1"))
    second = _escalate(_high_risk_message("u2"))
    assert notifications_dispatch(escalation_id=first.pk).sent == 2
    assert set(Notification.objects.filter(escalation=second).values_list("status", flat=True)) == {
        "pending"
    }


def test_every_failure_of_one_call_is_counted(on_call_team, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    escalation = _escalate(_high_risk_message())
    result = notifications_dispatch()
    assert (result.sent, result.failed, result.given_up) == (0, 2, 0)
    # Both rows at their last attempt: two given up in one call.
    _last_attempt_next(Notification.objects.filter(escalation=escalation))
    result = notifications_dispatch(now=timezone.now() + dt.timedelta(hours=1))
    assert (result.sent, result.failed, result.given_up) == (0, 2, 2)


def test_the_escalation_keeps_the_time_of_its_first_e_mail(on_call_team):
    escalation = _escalate(_high_risk_message())
    start = timezone.now()
    notifications_dispatch(now=start, limit=1)
    notifications_dispatch(now=start + dt.timedelta(minutes=5))
    escalation.refresh_from_db()
    assert escalation.notified_at == start


def test_a_superuser_is_alerted_when_no_one_can_be_e_mailed(db, settings):
    settings.ONCALL_EMAILS = []
    root = get_user_model().objects.create_user(username="root", is_superuser=True)
    escalation = _escalate(_high_risk_message())
    assert ClinicianAlert.objects.filter(escalation=escalation, recipient=root).exists()


# --- the same row, alert or lock never twice ---------------------------------------------------
def test_an_admin_on_call_without_an_address_gets_one_alert(db, settings):
    """No address to e-mail: the on-call users and every admin are alerted in-app; an admin on
    call is both, and gets the one alert (not an error that would fail the chat turn)."""
    settings.ONCALL_EMAILS = []
    admin = UserFactory(username="root_on_call", role="admin")
    _on_call(admin, settings)
    escalation = _escalate(_high_risk_message())
    assert escalation.notification_status == NotificationStatus.NO_RECIPIENTS
    assert list(ClinicianAlert.objects.values_list("escalation_id", "recipient_id")) == [
        (escalation.pk, admin.pk)
    ]


def test_an_admin_on_call_whose_e_mail_is_given_up_keeps_one_alert(db, settings):
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    admin = UserFactory(username="root_on_call", role="admin")
    _on_call(admin, settings, "root@example.org")
    escalation = _escalate(_high_risk_message())  # alerted as on call; e-mailed
    _last_attempt_next(Notification.objects.all())

    assert notifications_dispatch().given_up == 1  # no one reached: every admin is alerted

    escalation.refresh_from_db()
    assert escalation.notification_status == NotificationStatus.FAILED
    assert list(ClinicianAlert.objects.values_list("escalation_id", "recipient_id")) == [
        (escalation.pk, admin.pk)
    ]


def test_the_row_due_first_is_sent_first(on_call_team, mailoutbox):
    escalation = _escalate(_high_risk_message())
    pager, clinician_row = Notification.objects.filter(escalation=escalation).order_by("id")
    now = timezone.now()
    Notification.objects.filter(pk=clinician_row.pk).update(
        next_attempt_at=now - dt.timedelta(minutes=1)  # a retry, due before the newer row
    )
    assert notifications_dispatch(now=now, limit=1).sent == 1
    assert [m.to for m in mailoutbox] == [["oncall-clinician@example.org"]]


def test_an_e_mail_is_built_from_its_claimed_row_without_reading_the_escalation_again(
    on_call_team, mailoutbox
):
    escalation = _escalate(_high_risk_message())
    with CaptureQueriesContext(connection) as queries:
        assert notifications_dispatch(escalation_id=escalation.pk).sent == 2
    escalation_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "conversations_escalation"' in q["sql"]
    ]
    assert escalation_reads == []


def test_a_refused_smtp_connection_is_a_failed_send_not_a_sent_one(on_call_team, settings):
    """The real SMTP backend, pointed at a port where nothing listens."""
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _unused_port()
    settings.EMAIL_TIMEOUT = 5
    escalation = _escalate(_high_risk_message())

    result = notifications_dispatch()

    assert (result.sent, result.failed) == (0, 1)
    row = Notification.objects.get(escalation=escalation)
    assert (row.status, row.last_error) == ("pending", "ConnectionRefusedError")
    escalation.refresh_from_db()
    assert escalation.notified_at is None


def test_the_task_queued_with_an_escalation_sends_that_escalations_e_mails_only(
    on_call_team, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    """In-process mode runs the queued task at once: it must not send other rows that are due
    (a monitoring alert's, here), which their own task or the sweep sends."""
    notifications_queue(subject="Alert", body="Check the dashboard.")  # its sweep not run
    with django_capture_on_commit_callbacks(execute=True):
        escalation = _escalate(_high_risk_message())
    statuses = set(Notification.objects.values_list("escalation_id", "status"))
    assert statuses == {(escalation.pk, "sent"), (None, "pending")}
    assert len(mailoutbox) == 2


def test_a_monitoring_alerts_e_mail_marks_no_escalation_sent(on_call_team, mailoutbox):
    """Not even escalation 1 (a row without an escalation is not escalation 0 or 1)."""
    message = _high_risk_message()
    first = Escalation.objects.create(
        pk=1, session=message.session, message=message, notification_status="queued"
    )
    notifications_queue(subject="Alert", body="Check the dashboard.")
    assert notifications_dispatch().sent == 2
    first.refresh_from_db()
    assert (first.notification_status, first.notified_at) == (NotificationStatus.QUEUED, None)


@contextmanager
def _row_locked_elsewhere(queryset, hold_s: float = 5.0) -> Iterator[None]:
    """Another connection (a chat turn, a dispatcher) holds ``queryset``'s row lock for the
    block, or for ``hold_s`` at most."""
    locked, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                queryset.select_for_update().get()
                locked.set()
                release.wait(timeout=hold_s)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        yield
    finally:
        release.set()
        thread.join(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_skips_a_row_another_one_holds(on_call_team, mailoutbox):
    escalation = _escalate(_high_risk_message())
    pager = Notification.objects.get(escalation=escalation, address="pager@example.org")
    with _row_locked_elsewhere(Notification.objects.filter(pk=pager.pk)):
        result = notifications_dispatch()  # waiting for the lock, it would send both
    assert result.sent == 1
    assert [m.to for m in mailoutbox] == [["oncall-clinician@example.org"]]
    pager.refresh_from_db()
    assert (pager.status, pager.attempts) == ("pending", 0)  # left to the holder


@pytest.mark.django_db(transaction=True)
def test_closing_waits_for_the_chat_turn_that_holds_the_session(on_call_team):
    """A chat turn locks its session, then its escalation; closing takes them in that order
    too (the other order could deadlock with a turn): while a turn holds the session, a close
    cannot even lock the escalation."""
    escalation = _escalate(_high_risk_message())
    with (
        _row_locked_elsewhere(ChatSession.objects.filter(pk=escalation.session_id)),
        pytest.raises(OperationalError, match="lock timeout"),
        transaction.atomic(),
    ):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '300ms'")
        escalation_close(escalation=escalation, clinician=on_call_team)
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.OPEN
    assert escalation_close(escalation=escalation, clinician=on_call_team).status == "closed"


# --- what the module logs ------------------------------------------------------------------------
# Operators act on these lines, so each path logs at its level with the ids to look up, and never
# message text, an address or a name (the guide's privacy rule). Each case plays one path (the
# setup's own lines cleared) and returns every line the module then logs, in order.
CRISIS_LOGGER = "conversations.services.crisis"
NOTE = "Called her back; she is with her sister tonight."
REFUSED = "SMTPResponseException 550"  # the error kind and code, not the server's text


def _opened(escalation: Escalation, alerts: int, emails: int) -> tuple[str, str]:
    return (
        "WARNING",
        f"escalation opened escalation_id={escalation.pk} session_id={escalation.session_id} "
        f"alerts={alerts} emails={emails}",
    )


def _dispatched(escalation_id, sent: int, failed: int, given_up: int) -> tuple[str, str]:
    return (
        "INFO",
        f"notifications dispatched escalation_id={escalation_id} sent={sent} failed={failed} "
        f"given_up={given_up}",
    )


def _logs_escalation_opened(settings, on_commit, caplog):
    escalation = _escalate(_high_risk_message())
    return [_opened(escalation, alerts=1, emails=2)]


def _logs_escalation_with_no_one_to_e_mail(settings, on_commit, caplog):
    settings.ONCALL_EMAILS = []
    get_user_model().objects.filter(username="dr_on_call").update(email="")
    escalation = _escalate(_high_risk_message())
    return [
        (
            "ERROR",
            f"escalation opened with no one to e-mail escalation_id={escalation.pk} "
            "admins_alerted=1",
        ),
        _opened(escalation, alerts=1, emails=0),
    ]


def _logs_escalation_sent_in_process(settings, on_commit, caplog):
    with celery_eager(True), on_commit(execute=True):
        escalation = _escalate(_high_risk_message())
    return [_opened(escalation, alerts=1, emails=2), _dispatched(escalation.pk, 2, 0, 0)]


def _logs_broker_down(settings, on_commit, caplog):
    with broker_at(f"redis://127.0.0.1:{_unused_port()}/0"), on_commit(execute=True):
        escalation = _escalate(_high_risk_message())
    return [
        _opened(escalation, alerts=1, emails=2),
        (
            "WARNING",
            "escalation notifications not queued (broker down), left to the sweep "
            f"escalation_id={escalation.pk}",
        ),
    ]


def _logs_broker_misconfigured(settings, on_commit, caplog):
    with broker_at("redis://127.0.0.1:6379/not-a-number"), on_commit(execute=True):
        escalation = _escalate(_high_risk_message())
    return [
        _opened(escalation, alerts=1, emails=2),
        (
            "ERROR",
            f"escalation notifications not dispatched escalation_id={escalation.pk} (ValueError)",
        ),
    ]


def _logs_monitoring_sweep_broker_misconfigured(settings, on_commit, caplog):
    with broker_at("redis://127.0.0.1:6379/not-a-number"), on_commit(execute=True):
        notifications_queue(subject="Alert", body="Check the dashboard.")
    return [("ERROR", "notifications not dispatched (ValueError)")]


def _logs_send_failed_and_retried(settings, on_commit, caplog):
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    escalation = _escalate(_high_risk_message())
    row = Notification.objects.get()
    caplog.clear()
    notifications_dispatch()
    return [
        (
            "WARNING",
            f"notification failed, retried in 30s notification_id={row.pk} "
            f"escalation_id={escalation.pk} attempts=1 error={REFUSED}",
        ),
        _dispatched(None, 0, 1, 0),
    ]


def _logs_escalation_given_up_no_one_notified(settings, on_commit, caplog):
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    escalation = _escalate(_high_risk_message())
    row = Notification.objects.get()
    _last_attempt_next(Notification.objects.all())
    caplog.clear()
    notifications_dispatch(escalation_id=escalation.pk)
    return [
        (
            "ERROR",
            f"notification given up notification_id={row.pk} escalation_id={escalation.pk} "
            f"attempts={NOTIFY_MAX_ATTEMPTS} error={REFUSED} (no one notified, admins alerted)",
        ),
        _dispatched(escalation.pk, 0, 1, 1),
    ]


def _logs_escalation_given_up_another_reached(settings, on_commit, caplog):
    escalation = _escalate(_high_risk_message())
    notifications_dispatch(limit=1)  # the pager is reached
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    row = Notification.objects.get(status="pending")
    _last_attempt_next(Notification.objects.filter(pk=row.pk))
    caplog.clear()
    notifications_dispatch()
    return [
        (
            "ERROR",
            f"notification given up notification_id={row.pk} escalation_id={escalation.pk} "
            f"attempts={NOTIFY_MAX_ATTEMPTS} error={REFUSED}",
        ),
        _dispatched(None, 0, 1, 1),
    ]


def _logs_monitoring_alert_given_up(settings, on_commit, caplog):
    settings.ONCALL_EMAILS = []
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    notifications_queue(subject="Alert", body="Check the dashboard.")
    row = Notification.objects.get()
    _last_attempt_next(Notification.objects.all())
    caplog.clear()
    notifications_dispatch()
    return [
        ("ERROR", f"notification given up notification_id={row.pk} error={REFUSED}"),
        _dispatched(None, 0, 1, 1),
    ]


def _logs_escalation_closed(settings, on_commit, caplog):
    escalation = _escalate(_high_risk_message())
    clinician = get_user_model().objects.get(username="dr_on_call")
    caplog.clear()
    escalation_close(escalation=escalation, clinician=clinician, note=NOTE)
    return [
        ("INFO", f"escalation closed escalation_id={escalation.pk} clinician_id={clinician.pk}")
    ]


LOG_CASES = [
    _logs_escalation_opened,
    _logs_escalation_with_no_one_to_e_mail,
    _logs_escalation_sent_in_process,
    _logs_broker_down,
    _logs_broker_misconfigured,
    _logs_monitoring_sweep_broker_misconfigured,
    _logs_send_failed_and_retried,
    _logs_escalation_given_up_no_one_notified,
    _logs_escalation_given_up_another_reached,
    _logs_monitoring_alert_given_up,
    _logs_escalation_closed,
]


@pytest.mark.parametrize("case", LOG_CASES, ids=lambda case: case.__name__.removeprefix("_logs_"))
def test_each_path_logs_its_ids_at_its_level_and_no_text_address_or_name(
    case, on_call_team, admin_user, settings, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO)
    expected = case(settings, django_capture_on_commit_callbacks, caplog)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == CRISIS_LOGGER]
    assert lines == expected
    logged = "\n".join(r.getMessage() for r in caplog.records)  # every logger's lines
    for private in (HIGH_RISK, NOTE, "@example.org", "alice", "dr_on_call", "root_admin"):
        assert private not in logged
