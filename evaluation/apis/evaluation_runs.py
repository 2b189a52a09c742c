"""Frozen test sets and evaluation runs: clinicians read; admins and senior clinicians (the
clinical leads: ``user_is_senior``) freeze sets and start runs."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from ari_review.api.errors import ApplicationError
from evaluation.selectors.evaluation_runs import (
    evaluation_run_get,
    evaluation_run_list,
    evaluation_run_misses,
    evaluation_runs_compare,
)
from evaluation.selectors.frozen_sets import frozen_set_get, frozen_set_list
from evaluation.services.adjudication import user_is_senior
from evaluation.services.evaluation_runs import evaluation_run_create
from evaluation.services.frozen_sets import frozen_set_freeze


def _require_lead(user) -> None:
    if not user_is_senior(user):
        raise ApplicationError(
            "Only admins and senior clinicians may freeze sets and start evaluation runs.",
            status_code=403,
        )


class FrozenSetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # DRF stubs: Field.source
    content_hash = serializers.CharField(help_text="sha256 of the items; empty while a draft.")
    frozen_at = serializers.DateTimeField(allow_null=True)
    n_items = serializers.IntegerField()


class EvaluationRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    frozen_set_id = serializers.IntegerField()
    frozen_set_kind = serializers.CharField(source="frozen_set.kind")
    model_version_id = serializers.IntegerField(allow_null=True)
    generation_config = serializers.JSONField()
    reward_model_version_id = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.IntegerField(help_text="Percent, 0-100.")
    error = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class EvaluationRunDetailSerializer(EvaluationRunSerializer):
    metrics = serializers.JSONField(
        help_text="safety_recall, false_positive_rate, levels.confusion_matrix, per_level, "
        "by_stratum (safety); validation_rate, filter_hit_rate, latency, reward_mean "
        "(generation)."
    )


class FrozenSetListApi(ClinicianApi):
    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=["safety", "persona", "edge"])],
        responses=FrozenSetSerializer(many=True),
    )
    def get(self, request):
        qs = frozen_set_list(kind=request.query_params.get("kind") or None)
        return self.paginate(qs, FrozenSetSerializer)


class FrozenSetFreezeApi(ClinicianApi):
    @extend_schema(request=None, responses=FrozenSetSerializer)
    def post(self, request, frozen_set_id: int):
        _require_lead(request.user)
        frozen = frozen_set_get(frozen_set_id=frozen_set_id)
        if frozen is None:
            raise Http404
        frozen = frozen_set_freeze(frozen_set=frozen, user=request.user)
        frozen.n_items = frozen.items.count()  # type: ignore[attr-defined]  # as frozen_set_list annotates it
        return Response(FrozenSetSerializer(frozen).data)


class EvaluationRunListApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        frozen_set_id = serializers.IntegerField()
        model_version_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        generator = serializers.ChoiceField(
            choices=["composed", "approved", "openai", "transformers"],
            required=False,
            allow_blank=True,
            default="",
            help_text="For a generation run (persona or edge set): the reply backend.",
        )
        reward_model_version_id = serializers.IntegerField(
            required=False, allow_null=True, default=None
        )

    @extend_schema(responses=EvaluationRunSerializer(many=True))
    def get(self, request):
        return self.paginate(evaluation_run_list(limit=200), EvaluationRunSerializer)

    @extend_schema(request=InputSerializer, responses={201: EvaluationRunSerializer})
    def post(self, request):
        _require_lead(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        frozen = frozen_set_get(frozen_set_id=v["frozen_set_id"])
        if frozen is None:
            raise ApplicationError(f"Frozen set {v['frozen_set_id']} does not exist.")
        run = evaluation_run_create(
            frozen_set=frozen,
            model_version_id=v["model_version_id"],
            generation_config={"generator": v["generator"]} if v["generator"] else {},
            reward_model_version_id=v["reward_model_version_id"],
            created_by=request.user,
        )
        return Response(EvaluationRunSerializer(run).data, status=status.HTTP_201_CREATED)


def _run_or_404(run_id: int):
    run = evaluation_run_get(run_id=run_id)
    if run is None:
        raise Http404
    return run


class EvaluationRunDetailApi(ClinicianApi):
    @extend_schema(responses=EvaluationRunDetailSerializer)
    def get(self, request, run_id: int):
        return Response(EvaluationRunDetailSerializer(_run_or_404(run_id)).data)


class EvaluationRunMissesApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        item = serializers.CharField()
        stratum = serializers.CharField()
        expected = serializers.JSONField()
        predicted = serializers.JSONField()
        text = serializers.CharField(help_text="Masked.")
        history = serializers.ListField(child=serializers.CharField(), help_text="Masked.")
        reply = serializers.CharField(help_text="Masked; empty for a classifier run.")
        reward = serializers.FloatField(allow_null=True)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, run_id: int):
        misses = evaluation_run_misses(run=_run_or_404(run_id))
        return Response(self.OutputSerializer(misses, many=True).data)


class CompareRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # DRF stubs: Field.label
    left = serializers.JSONField(allow_null=True)
    right = serializers.JSONField(allow_null=True)
    delta = serializers.FloatField(allow_null=True, help_text="right minus left")


class CompareItemSerializer(serializers.Serializer):
    item = serializers.CharField()
    stratum = serializers.CharField()
    text = serializers.CharField(help_text="Masked.")
    left_correct = serializers.BooleanField(allow_null=True)
    right_correct = serializers.BooleanField(allow_null=True)


class EvaluationRunCompareApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        rows = CompareRowSerializer(many=True)
        same_set = serializers.BooleanField()
        differing = CompareItemSerializer(
            many=True, help_text="Items right in one run and wrong in the other (same set)."
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("left", int, required=True),
            OpenApiParameter("right", int, required=True),
        ],
        responses=OutputSerializer,
    )
    def get(self, request):
        try:
            left, right = int(request.query_params["left"]), int(request.query_params["right"])
        except (KeyError, ValueError):
            raise ApplicationError("left and right must be run ids.") from None
        compared = evaluation_runs_compare(left=_run_or_404(left), right=_run_or_404(right))
        return Response(self.OutputSerializer(compared).data)
