"""A chat turn's texts are masked when they are stored: the task after the turn (a real Celery
worker on Redis) stores the mask of the message and of the reply, so no workspace page masks
them. It is fail-safe: with the broker down the reply comes back as before and the message is
kept, and the first page that shows it masks it (and stores the mask)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from ari_review.privacy.masking import MASKING_VERSION, mask_text
from conversations.models import Message
from conversations.services import chat_turn_run, session_create
from conversations.services.masking import messages_mask_store
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
def test_the_task_after_the_turn_stores_the_masks_of_message_and_reply(celery_worker, enduser):
    starter_content_load()
    result = _turn(enduser)

    said = _masked(result.user_message.pk)
    assert said.text_masked_version == MASKING_VERSION
    assert said.text == SAID  # what the user wrote is kept as written
    assert "jo.smith@example.org" not in said.text_masked and "[email]" in said.text_masked
    reply = _masked(result.reply.pk)
    assert reply.text_masked_version == MASKING_VERSION
    assert reply.text_masked == mask_text(reply.text)
    # Safe to run twice: a stored mask is left alone.
    assert messages_mask_store(message_ids=[said.pk, reply.pk]) == 0


def test_without_a_broker_the_turn_masks_in_process_after_commit(
    enduser, eager_celery, django_capture_on_commit_callbacks
):
    """The zero-setup mode (tasks in-process) masks at the end of the turn too."""
    starter_content_load()
    with django_capture_on_commit_callbacks(execute=True):
        result = _turn(enduser)
    said = Message.objects.get(pk=result.user_message.pk)
    assert said.text_masked_version == MASKING_VERSION and "[email]" in said.text_masked
    reply = Message.objects.get(pk=result.reply.pk)
    assert reply.text_masked_version == MASKING_VERSION


def test_with_the_broker_down_the_reply_comes_and_the_page_masks_later(
    private_broker,  # noqa: F811
    enduser,
    clinician,
    client,
):
    starter_content_load()
    private_broker.stop()

    started = time.monotonic()
    result = _turn(enduser)  # commits: the masking is queued on commit, and cannot be
    elapsed = time.monotonic() - started

    assert result.reply.pk and result.reply.text
    assert elapsed < 5.0  # generous: queueing gives up after ARI_BROKER_PUBLISH_TIMEOUT_MS
    said = Message.objects.get(pk=result.user_message.pk)
    assert said.text == SAID and said.text_masked_version == 0  # kept, not masked yet

    client.force_login(clinician)
    html = client.get(reverse("evaluation:datasets")).content.decode()
    assert "jo.smith@example.org" not in html and "[email]" in html
    said.refresh_from_db()
    assert said.text_masked_version == MASKING_VERSION  # the page stored what it masked
