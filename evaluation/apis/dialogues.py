"""Seed dialogues: list, author, edit, submit, approve, reject, variants."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from evaluation.apis.common import ContextMessageSerializer
from evaluation.models import SeedDialogue
from evaluation.selectors.dialogues import dialogue_get, dialogue_list
from evaluation.selectors.masking import masked_many
from evaluation.services import (
    dialogue_approve,
    dialogue_create,
    dialogue_reject,
    dialogue_submit,
    dialogue_update,
    dialogue_variant_create,
)


class DialogueOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    messages = ContextMessageSerializer(many=True)
    session_type = serializers.CharField()
    flow_step = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()  # type: ignore[assignment]  # DRF stubs: Field.source
    state = serializers.CharField()
    variant_of = serializers.IntegerField(source="variant_of_id", allow_null=True)
    reviewer = serializers.CharField(source="reviewer.username", allow_null=True, default=None)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_reason = serializers.CharField()
    checklist = serializers.JSONField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        contents = [str(m.get("content") or "") for m in data["messages"]]
        masked = self.context.get("masked") or dialogue_texts_masked([instance])
        data["messages"] = [
            {**m, "content": masked[content]}
            for m, content in zip(data["messages"], contents, strict=True)
        ]
        return data


def dialogue_texts_masked(dialogues) -> dict[str, str]:
    """``{text: masked}`` for every message of the dialogues, through the masking cache (seed
    dialogues change rarely; a page of 50 masked per view took ~2 s)."""
    texts = {
        str(m.get("content") or "")
        for d in dialogues
        for m in d.messages or []
        if isinstance(m, dict)
    }
    return dict(zip(texts, masked_many(list(texts)), strict=True))


class DialogueInputSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    messages = serializers.ListField(child=serializers.DictField(), required=False)
    session_type = serializers.CharField(required=False, allow_blank=True)
    flow_step = serializers.CharField(required=False, allow_blank=True, max_length=30)
    tags = serializers.ListField(child=serializers.CharField(), required=False)


def _dialogue_or_404(dialogue_id: int) -> SeedDialogue:
    dialogue = dialogue_get(dialogue_id=dialogue_id)
    if dialogue is None:
        raise Http404("No such dialogue.")
    return dialogue


class DialogueListApi(ClinicianApi):
    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=list(SeedDialogue.State.values)),
            OpenApiParameter("q", str, description="Search in titles."),
        ],
        responses=DialogueOutputSerializer(many=True),
    )
    def get(self, request):
        qs = dialogue_list(
            state=request.query_params.get("state") or None,
            search=request.query_params.get("q", ""),
        )
        return self.paginate(
            qs,
            DialogueOutputSerializer,
            context=lambda page: {"masked": dialogue_texts_masked(page)},
        )


class DialogueCreateApi(ClinicianApi):
    class InputSerializer(DialogueInputSerializer):
        messages = serializers.ListField(child=serializers.DictField())
        variant_of = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: DialogueOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        variant_of = v.pop("variant_of", None)
        dialogue = dialogue_create(
            author=request.user,
            variant_of=_dialogue_or_404(variant_of) if variant_of else None,
            **v,
        )
        return Response(DialogueOutputSerializer(dialogue).data, status=status.HTTP_201_CREATED)


class DialogueDetailApi(ClinicianApi):
    @extend_schema(responses=DialogueOutputSerializer)
    def get(self, request, dialogue_id: int):
        return Response(DialogueOutputSerializer(_dialogue_or_404(dialogue_id)).data)


class DialogueUpdateApi(ClinicianApi):
    @extend_schema(request=DialogueInputSerializer, responses=DialogueOutputSerializer)
    def patch(self, request, dialogue_id: int):
        data = DialogueInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        dialogue = dialogue_update(
            dialogue=_dialogue_or_404(dialogue_id), editor=request.user, **data.validated_data
        )
        return Response(DialogueOutputSerializer(dialogue).data)


class DialogueSubmitApi(ClinicianApi):
    @extend_schema(request=None, responses=DialogueOutputSerializer, summary="Send for review")
    def post(self, request, dialogue_id: int):
        dialogue = dialogue_submit(dialogue=_dialogue_or_404(dialogue_id), user=request.user)
        return Response(DialogueOutputSerializer(dialogue).data)


class DialogueApproveApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        checklist = serializers.DictField(child=serializers.BooleanField())
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=DialogueOutputSerializer)
    def post(self, request, dialogue_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dialogue = dialogue_approve(
            dialogue=_dialogue_or_404(dialogue_id), reviewer=request.user, **data.validated_data
        )
        return Response(DialogueOutputSerializer(dialogue).data)


class DialogueRejectApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()
        checklist = serializers.DictField(child=serializers.BooleanField(), required=False)

    @extend_schema(request=InputSerializer, responses=DialogueOutputSerializer)
    def post(self, request, dialogue_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dialogue = dialogue_reject(
            dialogue=_dialogue_or_404(dialogue_id), reviewer=request.user, **data.validated_data
        )
        return Response(DialogueOutputSerializer(dialogue).data)


class DialogueVariantCreateApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        message_index = serializers.IntegerField(min_value=0)
        content = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={201: DialogueOutputSerializer},
        summary="Add a paraphrase variant of one user message",
    )
    def post(self, request, dialogue_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = dialogue_variant_create(
            original=_dialogue_or_404(dialogue_id), author=request.user, **data.validated_data
        )
        return Response(DialogueOutputSerializer(variant).data, status=status.HTTP_201_CREATED)
