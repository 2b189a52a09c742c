"""``/api/v1/`` endpoints of the clinician workspace: one view per operation, clinician or admin
only (audit: admin only). Every text is masked and users appear only as pseudonyms."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ari_review.api.base import AdminApi, ClinicianApi
from ari_review.api.errors import ApplicationError
from ari_review.audit import labels_view_record, transcript_view_record
from ari_review.privacy.masking import mask_messages, mask_text, pseudonym
from conversations.models import Escalation, Intent, RiskCategory, RiskLevel
from evaluation import selectors
from evaluation.label_sets import LABEL_SETS
from evaluation.models import Appropriateness, ReplyFlag, SeedDialogue, Urgency, WorkItem
from evaluation.services import (
    CandidateScoreInput,
    ReplyInput,
    adjudication_create,
    dialogue_approve,
    dialogue_create,
    dialogue_reject,
    dialogue_submit,
    dialogue_update,
    dialogue_variant_create,
    escalation_close,
    import_file,
    intent_label_create,
    preference_judgement_create,
    safety_label_create,
    session_rating_create,
    work_item_lock,
    work_item_release,
    work_item_take_next,
)
from evaluation.services.imports import FORMATS

Kind = WorkItem.Kind
KIND_PAGES = {
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


# --- Serializers shared by several views -------------------------------------------------------


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
    source = serializers.CharField(required=False)
    context = ContextMessageSerializer(many=True, required=False)
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
    if item.kind == Kind.REVIEW:
        view = selectors.review_item_detail(item=item, clinician=clinician)
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
        view = selectors.preference_item_detail(item=item, clinician=clinician)
        base.update(
            lock_expires_at=view.lock_expires_at,
            done_by_me=view.done_by_me,
            context=view.context,
            candidates=[c.__dict__ for c in view.candidates],
        )
    else:
        view = selectors.label_item_detail(item=item, clinician=clinician, blind=blind)
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


def _kind_or_404(kind: str) -> str:
    if kind not in Kind.values:
        raise Http404(f"No queue {kind!r}.")
    return kind


def _item_or_404(item_id: int, kind: str | None = None) -> WorkItem:
    item = selectors.work_item_get(item_id=item_id, kind=kind)
    if item is None:
        raise Http404("No such item.")
    return item


KIND_PARAM = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=list(Kind.values), description="Queue."
)


# --- Queues --------------------------------------------------------------------------------------


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
        source = serializers.CharField()
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
            if item.message_id:
                return mask_text(item.message.text)[:160]
            return mask_text(item.text)[:160]

    @extend_schema(parameters=[KIND_PARAM], responses=OutputSerializer(many=True))
    def get(self, request, kind: str):
        qs = selectors.queue_items_list(kind=_kind_or_404(kind), clinician=request.user)
        return self.paginate(qs, self.OutputSerializer)


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
        _kind_or_404(kind)
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        blind = data.validated_data.get("blind", blind_default(request))
        item = work_item_take_next(
            kind=kind, clinician=request.user, exclude_ids=data.validated_data["exclude"]
        )
        progress = selectors.work_progress(kind=kind, clinician=request.user)
        payload = {
            "item": work_item_payload(item, request.user, blind=blind) if item else None,
            "progress": progress.__dict__,
        }
        return Response(self.OutputSerializer(payload).data)


class QueueProgressApi(ClinicianApi):
    @extend_schema(parameters=[KIND_PARAM], responses=ProgressSerializer)
    def get(self, request, kind: str):
        progress = selectors.work_progress(kind=_kind_or_404(kind), clinician=request.user)
        return Response(ProgressSerializer(progress.__dict__).data)


class WorkItemDetailApi(ClinicianApi):
    @extend_schema(
        parameters=[OpenApiParameter("blind", bool, OpenApiParameter.QUERY)],
        responses=WorkItemDetailSerializer,
    )
    def get(self, request, item_id: int):
        item = _item_or_404(item_id)
        payload = work_item_payload(item, request.user, blind=blind_default(request))
        return Response(WorkItemDetailSerializer(payload).data)


class WorkItemLockApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        item_id = serializers.IntegerField()
        expires_at = serializers.DateTimeField()

    @extend_schema(request=None, responses=OutputSerializer, summary="Take or extend my lock")
    def post(self, request, item_id: int):
        lock = work_item_lock(item=_item_or_404(item_id), clinician=request.user)
        return Response(
            self.OutputSerializer({"item_id": item_id, "expires_at": lock.expires_at}).data
        )


class WorkItemReleaseApi(ClinicianApi):
    @extend_schema(request=None, responses={204: None}, summary="Give the item back (skip)")
    def post(self, request, item_id: int):
        work_item_release(item=_item_or_404(item_id), clinician=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _CreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item_id = serializers.IntegerField()
    item_status = serializers.CharField()


def _created(obj, item) -> Response:
    item.refresh_from_db(fields=["status"])
    return Response(
        _CreatedSerializer({"id": obj.pk, "item_id": item.pk, "item_status": item.status}).data,
        status=status.HTTP_201_CREATED,
    )


class SessionRatingCreateApi(ClinicianApi):
    class ReplySerializer(serializers.Serializer):
        message_id = serializers.IntegerField()
        flags = serializers.ListField(
            child=serializers.ChoiceField(choices=ReplyFlag.choices), required=False, default=list
        )
        validated = serializers.BooleanField(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        appropriateness = serializers.ChoiceField(choices=Appropriateness.choices)
        replies = serializers.ListField(child=serializers.DictField(), required=False, default=list)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

        def validate_replies(self, value):
            parsed = []
            for i, raw in enumerate(value):
                reply = SessionRatingCreateApi.ReplySerializer(data=raw)
                if not reply.is_valid():
                    raise serializers.ValidationError({i: reply.errors})
                parsed.append(reply.validated_data)
            return parsed

    @extend_schema(request=InputSerializer, responses={201: _CreatedSerializer})
    def post(self, request, item_id: int):
        item = _item_or_404(item_id, Kind.REVIEW)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        rating = session_rating_create(
            item=item,
            clinician=request.user,
            appropriateness=v["appropriateness"],
            replies=[
                ReplyInput(r["message_id"], tuple(r.get("flags", ())), r.get("validated"))
                for r in v["replies"]
            ],
            note=v["note"],
        )
        return _created(rating, item)


class SafetyLabelCreateApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
        category = serializers.ChoiceField(choices=RiskCategory.choices, required=False, default="")
        urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default="none")
        suggestion_shown = serializers.BooleanField(required=False, default=False)

    @extend_schema(request=InputSerializer, responses={201: _CreatedSerializer})
    def post(self, request, item_id: int):
        item = _item_or_404(item_id, Kind.SAFETY)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = safety_label_create(item=item, clinician=request.user, **data.validated_data)
        return _created(label, item)


class IntentLabelCreateApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        intent = serializers.ChoiceField(choices=Intent.choices)
        suggestion_shown = serializers.BooleanField(required=False, default=False)

    @extend_schema(request=InputSerializer, responses={201: _CreatedSerializer})
    def post(self, request, item_id: int):
        item = _item_or_404(item_id, Kind.INTENT)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = intent_label_create(item=item, clinician=request.user, **data.validated_data)
        return _created(label, item)


class PreferenceJudgementCreateApi(ClinicianApi):
    class ScoreSerializer(serializers.Serializer):
        candidate_id = serializers.IntegerField()
        empathy = serializers.IntegerField(min_value=0, max_value=3)
        presence = serializers.IntegerField(min_value=0, max_value=3)
        stabilization = serializers.IntegerField(min_value=0, max_value=3)
        safety = serializers.IntegerField(min_value=0, max_value=3)
        unsafe = serializers.BooleanField(required=False, default=False)

    class InputSerializer(serializers.Serializer):
        chosen_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        tie = serializers.BooleanField(required=False, default=False)
        scores = serializers.ListField(child=serializers.DictField(), min_length=2, max_length=3)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

        def validate_scores(self, value):
            parsed = []
            for i, raw in enumerate(value):
                score = PreferenceJudgementCreateApi.ScoreSerializer(data=raw)
                if not score.is_valid():
                    raise serializers.ValidationError({i: score.errors})
                parsed.append(score.validated_data)
            return parsed

    @extend_schema(request=InputSerializer, responses={201: _CreatedSerializer})
    def post(self, request, item_id: int):
        item = _item_or_404(item_id, Kind.PREFERENCE)
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
        )
        return _created(judgement, item)


class EscalationCloseApi(ClinicianApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, escalation_id: int):
        escalation = Escalation.objects.filter(pk=escalation_id).first()
        if escalation is None:
            raise Http404("No such escalation.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        escalation = escalation_close(
            escalation=escalation, clinician=request.user, note=data.validated_data["note"]
        )
        return Response(self.OutputSerializer(escalation).data)


# --- Seed dialogues ------------------------------------------------------------------------------


class DialogueOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    messages = ContextMessageSerializer(many=True)
    session_type = serializers.CharField()
    flow_step = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    state = serializers.CharField()
    variant_of = serializers.IntegerField(source="variant_of_id", allow_null=True)
    reviewer = serializers.CharField(source="reviewer.username", allow_null=True, default=None)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_reason = serializers.CharField()
    checklist = serializers.JSONField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["messages"] = mask_messages(data["messages"])
        return data


class DialogueInputSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    messages = serializers.ListField(child=serializers.DictField(), required=False)
    session_type = serializers.CharField(required=False, allow_blank=True)
    flow_step = serializers.CharField(required=False, allow_blank=True, max_length=30)
    tags = serializers.ListField(child=serializers.CharField(), required=False)


def _dialogue_or_404(dialogue_id: int) -> SeedDialogue:
    dialogue = selectors.dialogue_get(dialogue_id=dialogue_id)
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
        qs = selectors.dialogue_list(
            state=request.query_params.get("state") or None,
            search=request.query_params.get("q", ""),
        )
        return self.paginate(qs, DialogueOutputSerializer)


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


# --- Agreement, adjudication ---------------------------------------------------------------------


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
            help_text="Figures are cached and refreshed every 15 minutes."
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
        rows = selectors.agreement_summaries(label_sets=keys)
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
        rows = selectors.disagreements_list(label_set=wanted)
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
            item=_item_or_404(item_id), decided_by=request.user, **data.validated_data
        )
        return Response(self.OutputSerializer(adjudication).data, status=status.HTTP_201_CREATED)


# --- Audit, metrics -------------------------------------------------------------------------------


class AuditEventListApi(AdminApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        actor = serializers.CharField(source="actor_name")
        action = serializers.CharField()
        object_type = serializers.CharField()
        object_id = serializers.CharField()
        before = serializers.JSONField(allow_null=True)
        after = serializers.JSONField(allow_null=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, description="Action prefix, e.g. dialogue."),
            OpenApiParameter("actor", str),
            OpenApiParameter("object_type", str),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.audit_events_list(
            action=request.query_params.get("action", ""),
            actor=request.query_params.get("actor", ""),
            object_type=request.query_params.get("object_type", ""),
        )
        return self.paginate(qs, self.OutputSerializer)


class MetricListApi(ClinicianApi):
    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        day = serializers.DateField()
        model_version = serializers.CharField(help_text='"" means all versions.')
        rollout_arm = serializers.CharField(help_text='"" means all arms.')
        value = serializers.FloatField(allow_null=True)
        numerator = serializers.FloatField()
        denominator = serializers.FloatField()

    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, description="Days back (default 30)."),
            OpenApiParameter("name", str),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        try:
            days = max(1, min(365, int(request.query_params.get("days", 30))))
        except ValueError:
            raise ApplicationError("days must be a whole number.") from None
        qs = selectors.metric_values_list(days=days, name=request.query_params.get("name", ""))
        return self.paginate(qs, self.OutputSerializer)
