"""``/api/v1/`` endpoints of the model registry: admins only, one view per operation."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import AdminApi
from training_jobs import selectors
from training_jobs.models import Backend, ModelKind
from training_jobs.services import training_job_create


class ModelVersionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    backend = serializers.CharField()
    is_active = serializers.BooleanField()
    gate_passed = serializers.BooleanField()
    gate_reason = serializers.CharField()
    train_rows = serializers.IntegerField()
    database_rows = serializers.IntegerField()
    train_data_hash = serializers.CharField()
    test_data_hash = serializers.CharField()
    training_seconds = serializers.FloatField()
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)


class TrainingJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    backend = serializers.CharField()
    activate = serializers.BooleanField()
    status = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.IntegerField(help_text="Percent, 0-100.")
    error = serializers.CharField()
    activation_note = serializers.CharField()
    model_version_id = serializers.IntegerField(allow_null=True)
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ModelVersionListApi(AdminApi):
    class OutputSerializer(ModelVersionSummarySerializer):
        pass

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=ModelKind.values, required=False)],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        kind = request.query_params.get("kind") or None
        return self.paginate(selectors.model_version_list(kind=kind), self.OutputSerializer)


class ModelVersionDetailApi(AdminApi):
    class OutputSerializer(ModelVersionSummarySerializer):
        thresholds = serializers.JSONField()
        metrics = serializers.JSONField()
        artifact_path = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request, version_id: int):
        version = selectors.model_version_get(version_id=version_id)
        if version is None:
            raise Http404
        return Response(self.OutputSerializer(version).data)


class TrainingJobListApi(AdminApi):
    pagination_class = None  # a short, bounded list: sent and documented as a plain array

    class OutputSerializer(TrainingJobSerializer):
        pass

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(selectors.training_job_list(), many=True).data)


class TrainingJobCreateApi(AdminApi):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ModelKind.choices)
        backend = serializers.ChoiceField(choices=Backend.choices, default=Backend.LINEAR)
        activate = serializers.BooleanField(default=False)

    class OutputSerializer(TrainingJobSerializer):
        pass

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = training_job_create(**data.validated_data, created_by=request.user)
        return Response(self.OutputSerializer(job).data, status=status.HTTP_201_CREATED)


class TrainingJobDetailApi(AdminApi):
    class OutputSerializer(TrainingJobSerializer):
        pass

    @extend_schema(responses=OutputSerializer)
    def get(self, request, job_id: int):
        job = selectors.training_job_get(job_id=job_id)
        if job is None:
            raise Http404
        return Response(self.OutputSerializer(job).data)
