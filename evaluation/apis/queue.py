"""Work queues: list, take the next item, progress; one work item: detail, lock, release."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from ari_review.privacy.masking import pseudonym
from evaluation.apis.common import (
    KIND_PARAM,
    ProgressSerializer,
    WorkItemDetailSerializer,
    blind_default,
    item_or_404,
    kind_or_404,
    work_item_payload,
)
from evaluation.selectors.masking import work_item_texts_masked
from evaluation.selectors.queue import queue_items_list, work_progress
from evaluation.services import (
    work_item_lock,
    work_item_release,
    work_item_take_next,
)


class QueueItemListApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        reason = serializers.CharField()
        priority = serializers.FloatField()
        required_reviews = serializers.IntegerField()
        reviews_done = serializers.IntegerField()
        active_locks = serializers.IntegerField()
        locked_by_me = serializers.BooleanField()
        done_by_me = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        source = serializers.CharField()  # type: ignore[assignment]  # DRF stubs: Field.source
        user = serializers.SerializerMethodField(help_text="Pseudonymous user id (sessions).")
        session_type = serializers.SerializerMethodField()
        max_risk_level = serializers.SerializerMethodField()
        escalation_open = serializers.SerializerMethodField()
        message_count = serializers.SerializerMethodField()
        preview = serializers.SerializerMethodField(help_text="Masked start of the text.")

        def get_user(self, item) -> str | None:
            return pseudonym(item.session.user_id) if item.session_id else None

        def get_session_type(self, item) -> str | None:
            return item.session.session_type if item.session_id else None

        def get_max_risk_level(self, item) -> str | None:
            return item.session.max_risk_level if item.session_id else None

        def get_escalation_open(self, item) -> bool | None:
            return getattr(item, "escalation_open", None)

        def get_message_count(self, item) -> int | None:
            return getattr(item, "message_count", None)

        def get_preview(self, item) -> str:
            return self.context["texts"].get(item.pk, "")[:160]

    @extend_schema(parameters=[KIND_PARAM], responses=OutputSerializer(many=True))
    def get(self, request, kind: str):
        qs = queue_items_list(kind=kind_or_404(kind), clinician=request.user)
        return self.paginate(qs, self.OutputSerializer, context=self.page_texts)

    @staticmethod
    def page_texts(page) -> dict:
        """The page's texts masked at once (stored masks, the cache), not item by item."""
        return {"texts": work_item_texts_masked(items=page)}


class QueueNextApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        blind = serializers.BooleanField(required=False)
        exclude = serializers.ListField(
            child=serializers.IntegerField(),
            required=False,
            default=list,
            max_length=500,
            help_text="Item ids to pass over (the ones just skipped).",
        )

    class OutputSerializer(serializers.Serializer):
        item = WorkItemDetailSerializer(allow_null=True)
        progress = ProgressSerializer()

    @extend_schema(
        parameters=[KIND_PARAM],
        request=InputSerializer,
        responses=OutputSerializer,
        summary="Take (lock) the next item of a queue",
    )
    def post(self, request, kind: str):
        kind_or_404(kind)
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        blind = data.validated_data.get("blind", blind_default(request))
        item = work_item_take_next(
            kind=kind, clinician=request.user, exclude_ids=data.validated_data["exclude"]
        )
        progress = work_progress(kind=kind, clinician=request.user)
        payload = {
            "item": work_item_payload(item, request.user, blind=blind) if item else None,
            "progress": progress.__dict__,
        }
        return Response(self.OutputSerializer(payload).data)


class QueueProgressApi(ClinicianApi):
    @extend_schema(parameters=[KIND_PARAM], responses=ProgressSerializer)
    def get(self, request, kind: str):
        progress = work_progress(kind=kind_or_404(kind), clinician=request.user)
        return Response(ProgressSerializer(progress.__dict__).data)


class WorkItemDetailApi(ClinicianApi):
    @extend_schema(
        parameters=[OpenApiParameter("blind", bool, OpenApiParameter.QUERY)],
        responses=WorkItemDetailSerializer,
    )
    def get(self, request, item_id: int):
        item = item_or_404(item_id)
        payload = work_item_payload(item, request.user, blind=blind_default(request))
        return Response(WorkItemDetailSerializer(payload).data)


class WorkItemLockApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        item_id = serializers.IntegerField()
        expires_at = serializers.DateTimeField()

    @extend_schema(request=None, responses=OutputSerializer, summary="Take or extend my lock")
    def post(self, request, item_id: int):
        lock = work_item_lock(item=item_or_404(item_id), clinician=request.user)
        return Response(
            self.OutputSerializer({"item_id": item_id, "expires_at": lock.expires_at}).data
        )


class WorkItemReleaseApi(ClinicianApi):
    @extend_schema(request=None, responses={204: None}, summary="Give the item back (skip)")
    def post(self, request, item_id: int):
        work_item_release(item=item_or_404(item_id), clinician=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
