"""Importing dialogues and labelling data from files."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ari_review.api.base import ClinicianApi
from evaluation.services import (
    import_file,
)
from evaluation.services.imports.formats import FORMATS


class ImportApi(ClinicianApi):
    throttle_scope = "import"  # ARI_THROTTLE_IMPORT (ari_review/throttles.py)
    parser_classes = [MultiPartParser, FormParser]
    accepts_uploads = True  # bodies up to ARI_MAX_UPLOAD_BYTES (ari_review.request_edges)

    class InputSerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=FORMATS)
        file = serializers.FileField()
        dialogues = serializers.BooleanField(
            required=False, default=False, help_text="counsel-chat: also create draft dialogues."
        )
        intent_items = serializers.BooleanField(
            required=False, default=False, help_text="ESConv: also queue replies for intent labels."
        )

    class OutputSerializer(serializers.Serializer):
        format = serializers.CharField()
        created = serializers.IntegerField()
        skipped = serializers.IntegerField()
        details = serializers.DictField()

    @extend_schema(
        request={"multipart/form-data": InputSerializer}, responses={201: OutputSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        upload = v["file"]
        result = import_file(
            format=v["format"],
            fileobj=upload,
            filename=upload.name,
            user=request.user,
            dialogues=v["dialogues"],
            intent_items=v["intent_items"],
        )
        return Response(self.OutputSerializer(result.__dict__).data, status=status.HTTP_201_CREATED)
