"""Pairwise preference judgements."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ari_review.api.base import ClinicianApi
from evaluation.apis.common import CreatedSerializer, Kind, created_response, item_or_404
from evaluation.services import (
    CandidateScoreInput,
    DimensionComparisonInput,
    preference_judgement_create,
)
from evaluation.services.preferences import SCORE_DIMENSIONS


class PreferenceJudgementCreateApi(ClinicianApi):
    class ScoreSerializer(serializers.Serializer):
        candidate_id = serializers.IntegerField()
        # Required unless the pair is compared dimension by dimension (``comparison``).
        empathy = serializers.IntegerField(min_value=0, max_value=3, required=False)
        presence = serializers.IntegerField(min_value=0, max_value=3, required=False)
        stabilization = serializers.IntegerField(min_value=0, max_value=3, required=False)
        safety = serializers.IntegerField(min_value=0, max_value=3, required=False)
        unsafe = serializers.BooleanField(required=False, default=False)

    class ComparisonSerializer(serializers.Serializer):
        dimension = serializers.ChoiceField(choices=SCORE_DIMENSIONS)
        better_id = serializers.IntegerField(allow_null=True)
        margin = serializers.IntegerField(min_value=0, max_value=2)

    class InputSerializer(serializers.Serializer):
        chosen_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        tie = serializers.BooleanField(required=False, default=False)
        scores = serializers.ListField(child=serializers.DictField(), min_length=2, max_length=3)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        comparison = serializers.ListField(required=False, min_length=4, max_length=4)

        def validate_comparison(self, value):
            parsed = []
            for i, raw in enumerate(value):
                entry = PreferenceJudgementCreateApi.ComparisonSerializer(data=raw)
                if not entry.is_valid():
                    raise serializers.ValidationError({str(i): entry.errors})
                parsed.append(entry.validated_data)
            return parsed

        def validate_scores(self, value):
            parsed = []
            for i, raw in enumerate(value):
                score = PreferenceJudgementCreateApi.ScoreSerializer(data=raw)
                if not score.is_valid():
                    raise serializers.ValidationError({str(i): score.errors})
                parsed.append(score.validated_data)
            return parsed

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request, item_id: int):
        item = item_or_404(item_id, Kind.PREFERENCE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        judgement = preference_judgement_create(
            item=item,
            clinician=request.user,
            chosen_id=v["chosen_id"],
            tie=v["tie"],
            scores=[CandidateScoreInput(**s) for s in v["scores"]],
            note=v["note"],
            comparison=[DimensionComparisonInput(**c) for c in v["comparison"]]
            if "comparison" in v
            else None,
        )
        return created_response(judgement, item)
