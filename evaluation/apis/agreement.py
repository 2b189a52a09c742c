"""Agreement between clinicians, the disagreements, adjudication."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from ari_review.api.errors import ApplicationError
from ari_review.audit import labels_view_record
from evaluation.apis.common import item_or_404
from evaluation.label_sets import LABEL_SETS
from evaluation.selectors.agreement import agreement_summaries, disagreements_list
from evaluation.services import (
    adjudication_create,
)


class AgreementApi(ClinicianApi):
    pagination_class = None  # a short, bounded list: sent and documented as a plain array

    class OutputSerializer(serializers.Serializer):
        label_set = serializers.CharField()
        title = serializers.CharField()
        items = serializers.IntegerField(help_text="Items labelled by two or more clinicians.")
        items_more_than_two_raters = serializers.IntegerField()
        kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa, 2-rater items.")
        alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha (nominal).")
        per_class = serializers.ListField(child=serializers.DictField())
        per_pair = serializers.ListField(child=serializers.DictField())
        over_time = serializers.ListField(child=serializers.DictField())
        computed_at = serializers.DateTimeField(
            help_text="When the figures were computed: stored, and recomputed every 15 minutes."
        )

    @extend_schema(
        parameters=[OpenApiParameter("label_set", str, enum=list(LABEL_SETS))],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        wanted = request.query_params.get("label_set")
        if wanted and wanted not in LABEL_SETS:
            raise ApplicationError(f"Unknown label set {wanted!r}.")
        keys = [wanted] if wanted else list(LABEL_SETS)
        rows = agreement_summaries(label_sets=keys)
        return Response(self.OutputSerializer(rows, many=True).data)


class DisagreementListApi(ClinicianApi):
    pagination_class = None  # a short, bounded list: sent and documented as a plain array

    class OutputSerializer(serializers.Serializer):
        item_id = serializers.IntegerField(source="item.pk")
        kind = serializers.CharField(source="item.kind")
        label_set = serializers.CharField(source="label_set.key")
        labels = serializers.SerializerMethodField()
        preview = serializers.CharField()

        def get_labels(self, obj) -> list[dict]:
            return [{"clinician": who, "value": value} for who, value in obj.labels]

    @extend_schema(
        parameters=[OpenApiParameter("label_set", str, enum=list(LABEL_SETS))],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        wanted = request.query_params.get("label_set") or None
        if wanted and wanted not in LABEL_SETS:
            raise ApplicationError(f"Unknown label set {wanted!r}.")
        rows = disagreements_list(label_set=wanted)
        if rows:
            labels_view_record(
                actor=request.user, item_ids=[row.item.pk for row in rows], via="api:disagreements"
            )
        return Response(self.OutputSerializer(rows, many=True).data)


class AdjudicationCreateApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        label_set = serializers.ChoiceField(choices=list(LABEL_SETS))
        value = serializers.CharField(allow_blank=True)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        item_id = serializers.IntegerField()
        label_set = serializers.CharField()
        value = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        summary="Decide a disagreement (senior clinicians)",
    )
    def post(self, request, item_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adjudication = adjudication_create(
            item=item_or_404(item_id), decided_by=request.user, **data.validated_data
        )
        return Response(self.OutputSerializer(adjudication).data, status=status.HTTP_201_CREATED)
