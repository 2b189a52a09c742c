"""What the workspace's API views share: work item payloads and links, the shared serializers,
the ``kind`` parameter and the 404 lookups."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.audit import transcript_view_record
from evaluation.models import WorkItem
from evaluation.selectors.items import (
    LabelItemView,
    PreferenceItemView,
    ReviewItemView,
    label_item_detail,
    preference_item_detail,
    review_item_detail,
)
from evaluation.selectors.queue import work_item_get

Kind = WorkItem.Kind
KIND_PAGES: dict[str, str] = {
    Kind.REVIEW: "evaluation:review-item",
    Kind.SAFETY: "evaluation:safety-item",
    Kind.INTENT: "evaluation:intent-item",
    Kind.PREFERENCE: "evaluation:preference-item",
}


def item_urls(item: WorkItem) -> dict:
    url = reverse(KIND_PAGES[item.kind], args=[item.pk])
    return {"page_url": url, "fragment_url": f"{url}?fragment=1"}


def blind_default(request) -> bool:
    raw = request.query_params.get("blind") if hasattr(request, "query_params") else None
    if raw is None and hasattr(request, "data") and isinstance(request.data, dict):
        raw = request.data.get("blind")
    if raw is None:
        return settings.EVALUATION_BLIND_LABELLING
    return str(raw).lower() in ("1", "true", "yes", "on")


class TurnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    text = serializers.CharField(help_text="Masked text.")
    created_at = serializers.DateTimeField()
    risk_level = serializers.CharField()
    risk_category = serializers.CharField()
    risk_score = serializers.FloatField(allow_null=True)
    risk_urgency = serializers.CharField()
    intent = serializers.CharField()
    intent_score = serializers.FloatField(allow_null=True)
    filter_hits = serializers.JSONField()
    model_versions = serializers.JSONField()
    provenance = serializers.JSONField()
    latency_ms = serializers.JSONField()
    emergency = serializers.BooleanField()
    reply_to_id = serializers.IntegerField(allow_null=True)
    distressed = serializers.BooleanField(
        help_text="An Ari reply to a message with low, medium or high risk."
    )


class EscalationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    message_id = serializers.IntegerField()


class SessionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(help_text="Pseudonymous user id.")
    session_type = serializers.CharField()
    status = serializers.CharField()
    flagged = serializers.BooleanField()
    safety_mode = serializers.BooleanField()
    max_risk_level = serializers.CharField()
    min_safety_confidence = serializers.FloatField(allow_null=True)
    rollout_arm = serializers.CharField()
    created_at = serializers.DateTimeField()


class ContextMessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField()


class CandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    letter = serializers.CharField()
    text = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    done_today = serializers.IntegerField()
    remaining = serializers.IntegerField()


class WorkItemDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    reason = serializers.CharField()
    status = serializers.CharField()
    required_reviews = serializers.IntegerField()
    reviews_done = serializers.IntegerField()
    lock_expires_at = serializers.DateTimeField(allow_null=True)
    done_by_me = serializers.BooleanField()
    page_url = serializers.CharField()
    fragment_url = serializers.CharField()
    session = SessionSummarySerializer(allow_null=True, required=False)
    turns = TurnSerializer(many=True, required=False)
    escalations = EscalationSerializer(many=True, required=False)
    text = serializers.CharField(required=False, help_text="Masked text to label.")
    role = serializers.CharField(required=False)
    # Fields named like Field attributes (source, context): DRF's stubs type those attributes.
    source = serializers.CharField(required=False)  # type: ignore[assignment]
    context = ContextMessageSerializer(many=True, required=False)  # type: ignore[assignment]
    suggestion = serializers.JSONField(
        required=False, allow_null=True, help_text="The model's prediction (null when blind)."
    )
    candidates = CandidateSerializer(many=True, required=False)


def work_item_payload(item: WorkItem, clinician, *, blind: bool) -> dict:
    base = {
        "id": item.pk,
        "kind": item.kind,
        "reason": item.reason,
        "status": item.status,
        "required_reviews": item.required_reviews,
        "reviews_done": item.reviews_done,
        **item_urls(item),
    }
    view: ReviewItemView | PreferenceItemView | LabelItemView
    if item.kind == Kind.REVIEW:
        view = review_item_detail(item=item, clinician=clinician)
        s = view.session
        base.update(
            lock_expires_at=view.lock_expires_at,
            done_by_me=view.done_by_me,
            session={
                "id": s.pk,
                "user": view.user,
                "session_type": s.session_type,
                "status": s.status,
                "flagged": s.flagged,
                "safety_mode": s.safety_mode,
                "max_risk_level": s.max_risk_level,
                "min_safety_confidence": s.min_safety_confidence,
                "rollout_arm": s.rollout_arm,
                "created_at": s.created_at,
            },
            turns=[t.__dict__ for t in view.turns],
            escalations=[e.__dict__ for e in view.escalations],
        )
    elif item.kind == Kind.PREFERENCE:
        view = preference_item_detail(item=item, clinician=clinician)
        base.update(
            lock_expires_at=view.lock_expires_at,
            done_by_me=view.done_by_me,
            context=view.context,
            candidates=[c.__dict__ for c in view.candidates],
        )
    else:
        view = label_item_detail(item=item, clinician=clinician, blind=blind)
        base.update(
            lock_expires_at=view.lock_expires_at,
            done_by_me=view.done_by_me,
            text=view.text,
            role=view.role,
            source=view.source,
            context=view.context,
            suggestion=view.suggestion,
        )
    transcript_view_record(actor=clinician, item=item, via="api")
    return base


def kind_or_404(kind: str) -> str:
    if kind not in Kind.values:
        raise Http404(f"No queue {kind!r}.")
    return kind


def item_or_404(item_id: int, kind: str | None = None) -> WorkItem:
    item = work_item_get(item_id=item_id, kind=kind)
    if item is None:
        raise Http404("No such item.")
    return item


KIND_PARAM = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=list(Kind.values), description="Queue."
)


class CreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.IntegerField()
    item_status = serializers.CharField()


def created_response(obj, item) -> Response:
    item.refresh_from_db(fields=["status"])
    return Response(
        CreatedSerializer({"id": obj.pk, "item_id": item.pk, "item_status": item.status}).data,
        status=status.HTTP_201_CREATED,
    )
