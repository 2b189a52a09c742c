"""A chat turn's texts are masked soon after they are stored: a beat sweep (run here by a real
Celery worker on Redis) stores the mask of recent messages and replies, so no workspace page
masks them, and the turn itself never waits on masking or on the broker. It is fail-safe: with
the broker down the reply comes back as before and the message is kept, and the first page that
shows it masks it (and stores the mask)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ari_review.privacy.masking import MASKING_VERSION, mask_text
from conversations.models import Message
from conversations.services import chat_turn_run, session_create
from conversations.services.masking import messages_mask_sweep
from conversations.tasks import message_masks_sweep_task
from evaluation.services.starter import starter_content_load
from tests.conversations.conftest import FixedRisk
from tests.conversations.test_notification_outbox import PrivateRedis, private_broker  # noqa: F401

SAID = "Please write to me at jo.smith@example.org tonight"


def _masked(pk: int, timeout: float = 20.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = Message.objects.get(pk=pk)
        if message.text_masked_version == MASKING_VERSION:
            return message
        time.sleep(0.1)
    return Message.objects.get(pk=pk)


def _turn(user):
    session = session_create(user=user, session_type="check_in")
    return chat_turn_run(session=session, text=SAID, safety_classifier=FixedRisk("none"))


@pytest.mark.celery_worker
def test_the_sweep_stores_the_masks_of_recent_message_and_reply(celery_worker, enduser):
    starter_content_load()
    result = _turn(enduser)
    old = _turn(enduser)
    Message.objects.filter(session=old.reply.session).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    message_masks_sweep_task.delay()  # as beat queues it (no result kept)

    said = _masked(result.user_message.pk)
    assert said.text_masked_version == MASKING_VERSION
    assert said.text == SAID  # what the user wrote is kept as written
    assert "jo.smith@example.org" not in said.text_masked and "[email]" in said.text_masked
    reply = _masked(result.reply.pk)
    assert reply.text_masked_version == MASKING_VERSION
    assert reply.text_masked == mask_text(reply.text)
    # Older than the sweep's window: left to the first page that shows it.
    assert Message.objects.get(pk=old.user_message.pk).text_masked_version == 0
    # Safe to run twice: a stored mask is left alone.
    assert messages_mask_sweep() == 0


def test_the_turn_itself_never_masks(enduser, eager_celery, django_capture_on_commit_callbacks):
    """Even in the zero-setup mode (tasks in-process) the user does not wait on masking: the
    turn stores the texts as written and leaves the masks to the sweep or the pages."""
    starter_content_load()
    with django_capture_on_commit_callbacks(execute=True):
        result = _turn(enduser)
    said = Message.objects.get(pk=result.user_message.pk)
    assert said.text == SAID and said.text_masked_version == 0
    assert messages_mask_sweep() == 2


def test_with_the_broker_down_the_reply_comes_and_the_page_masks_later(
    private_broker,  # noqa: F811
    enduser,
    clinician,
    client,
):
    starter_content_load()
    private_broker.stop()

    started = time.monotonic()
    result = _turn(enduser)  # nothing of the turn waits on the broker
    elapsed = time.monotonic() - started

    assert result.reply.pk and result.reply.text
    assert elapsed < 5.0  # generous
    said = Message.objects.get(pk=result.user_message.pk)
    assert said.text == SAID and said.text_masked_version == 0  # kept, not masked yet

    client.force_login(clinician)
    html = client.get(reverse("evaluation:datasets")).content.decode()
    assert "jo.smith@example.org" not in html and "[email]" in html
    said.refresh_from_db()
    assert said.text_masked_version == MASKING_VERSION  # the page stored what it masked
