"""``/api/v1/releases/``: the release operations of the pages, admins only, each audited by its
service (docs/releases.md)."""

from __future__ import annotations

from dataclasses import asdict

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import AdminApi
from conversations.models import ReleaseStage
from conversations.services.release_contents import MAX_CONTENT_CHARS
from training_jobs.models import ModelKind, ModelVersion
from training_jobs.releases import selectors
from training_jobs.releases.contents import SERVED_GENERATION_KEYS
from training_jobs.releases.gate import release_checklist
from training_jobs.releases.monitor import arm_metrics
from training_jobs.releases.services import (
    release_alert_acknowledge,
    release_create,
    release_draft_update,
    release_promote,
    release_rollback,
)


class ReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    stage = serializers.ChoiceField(choices=ReleaseStage.choices)
    canary_percent = serializers.IntegerField(help_text="Share of users in the canary arm.")
    safety_version_id = serializers.IntegerField(allow_null=True)
    intent_version_id = serializers.IntegerField(allow_null=True)
    generation_config = serializers.JSONField()
    filter_ruleset_version = serializers.CharField()
    filter_rules_sha256 = serializers.CharField(
        source="filter_rules.sha256",
        default=None,
        allow_null=True,
        help_text="The stored rule set it serves (None: created before releases carried it).",
    )
    risk_signals_version = serializers.CharField()
    risk_signals_sha256 = serializers.CharField(
        source="risk_signals.sha256",
        default=None,
        allow_null=True,
        help_text="The stored risk-signal file it serves.",
    )
    incumbent_id = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField()
    rollback_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    stage_changed_at = serializers.DateTimeField(allow_null=True)
    rolled_back_at = serializers.DateTimeField(allow_null=True)


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # DRF stubs: Field.label
    status = serializers.ChoiceField(choices=["pass", "fail", "pending"])
    detail = serializers.CharField()
    evidence_url = serializers.CharField()


class ReleaseEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    from_stage = serializers.CharField()
    to_stage = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField(source="actor.username", default="system")
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


def _version(kind: str):
    return serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.filter(kind=kind), required=False, allow_null=True
    )


class ReleaseListApi(AdminApi):
    class OutputSerializer(ReleaseSerializer):
        pass

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return self.paginate(selectors.release_list(), self.OutputSerializer)


class ReleaseDetailApi(AdminApi):
    class OutputSerializer(ReleaseSerializer):
        checklist = ChecklistItemSerializer(many=True)
        arms = serializers.JSONField(help_text="Per-arm live metrics (control, canary).")
        last_check = serializers.JSONField(help_text="The monitor's last comparison.")
        events = ReleaseEventSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, release_id: int):
        release = selectors.release_get(release_id=release_id)
        if release is None:
            raise Http404
        data = {
            **ReleaseSerializer(release).data,
            "checklist": [i.as_dict() for i in release_checklist(release)],
            "arms": {arm: asdict(m) for arm, (m, _) in arm_metrics(release).items()},
            "last_check": release.last_check,
            "events": selectors.release_events(release=release),
        }
        return Response(self.OutputSerializer(data).data)


class ReleaseContentsInput(serializers.Serializer):
    """What a release carries besides its models, as given on creation and on an edit of a
    draft (every field optional)."""

    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    generator = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The generation backend the canary arm serves (left out: the one in force).",
    )
    persona_prompt_version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    llm_model = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The model an openai generator asks for.",
    )
    transformers_model_dir = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="The transformers generator's model directory on the server (absolute; "
        "it must hold a saved model's config.json).",
    )
    adapter = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="The PEFT adapter directory the transformers generator loads on its model "
        "(absolute; it must hold adapter_config.json). Left out with a model directory: none.",
    )
    filter_rules_yaml = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_CONTENT_CHARS,
        trim_whitespace=False,
        help_text="The response-filter rule set as YAML (blank: the shipped file); "
        "checked like conversations/content/filter_rules.yaml.",
    )
    risk_signals_yaml = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_CONTENT_CHARS,
        trim_whitespace=False,
        help_text="The risk-signal file as YAML (blank: the shipped file); checked like "
        "conversations/backends/risk_signals.yaml.",
    )


def _generation_changes(values: dict) -> dict | None:
    """The generation keys given (popped from ``values``), or None when none is."""
    changes = {key: values.pop(key) for key in SERVED_GENERATION_KEYS if key in values}
    return changes or None


class ReleaseCreateApi(AdminApi):
    class InputSerializer(ReleaseContentsInput):
        safety_version = _version(ModelKind.SAFETY)
        intent_version = _version(ModelKind.INTENT)

    class OutputSerializer(ReleaseSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        generation = _generation_changes(values)
        release = release_create(**values, generation_config=generation, created_by=request.user)
        return Response(self.OutputSerializer(release).data, status=status.HTTP_201_CREATED)


class ReleaseUpdateApi(AdminApi):
    class InputSerializer(ReleaseContentsInput):
        pass

    class OutputSerializer(ReleaseSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        summary="Edit a draft release",
        description="Changes a draft's generation configuration, rule set, signal file or "
        "notes, checked as on creation; a field left out is unchanged. A generation key given "
        "blank (or null) goes back to the setting in force (adapter: none); a YAML text given "
        "blank goes back to the shipped file. Only a draft may be edited (400 saying why "
        "otherwise). Audited as release.edit with the fields changed.",
    )
    def patch(self, request, release_id: int):
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        generation = _generation_changes(values)
        release = release_draft_update(
            release_id=release_id, user=request.user, generation_config=generation, **values
        )
        return Response(self.OutputSerializer(release).data)


class ReleasePromoteApi(AdminApi):
    class InputSerializer(serializers.Serializer):
        from_stage = serializers.ChoiceField(
            choices=ReleaseStage.choices,
            help_text="The stage the admin saw: refused if the release has moved since.",
        )
        override_reason = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="Overrides a blocking checklist; audited and shown on the release.",
        )

    class OutputSerializer(ReleaseSerializer):
        pass

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, release_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        release = release_promote(release_id=release_id, user=request.user, **data.validated_data)
        return Response(self.OutputSerializer(release).data)


class ReleaseRollbackApi(AdminApi):
    class InputSerializer(serializers.Serializer):
        from_stage = serializers.ChoiceField(choices=ReleaseStage.choices)
        reason = serializers.CharField(max_length=2000)

    class OutputSerializer(ReleaseSerializer):
        pass

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, release_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        release = release_rollback(release_id=release_id, user=request.user, **data.validated_data)
        return Response(self.OutputSerializer(release).data)


class ReleaseAlertAcknowledgeApi(AdminApi):
    class OutputSerializer(ReleaseEventSerializer):
        pass

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request, event_id: int):
        event = release_alert_acknowledge(event_id=event_id, user=request.user)
        return Response(self.OutputSerializer(event).data)
