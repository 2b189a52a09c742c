"""The chat API for end users (``/api/v1/``). One view per operation; each calls one service.

Users only ever see their own sessions: anyone else's session id is a 404.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from ari_review.api.base import AnyRoleApi, ClinicianApi, EndUserApi
from ari_review.api.errors import ApplicationError
from conversations.flows import STEP_LABELS
from conversations.models import (
    ChatSession,
    ClinicianAlert,
    Message,
    SessionLength,
    SessionType,
    Tone,
)
from conversations.selectors import (
    chat_preferences_get,
    clinician_alert_list,
    crisis_resource_snapshot,
    crisis_resources_list,
    session_get_for_user,
    session_list_for_user,
    session_messages,
)
from conversations.services import (
    chat_preferences_update,
    chat_turn_run,
    clinician_alert_mark_read,
    session_create,
    session_end,
    session_rate,
    transcript_reveal,
    user_data_erase,
    user_data_export,
)
from conversations.services.message_input import (
    MAX_MESSAGE_CHARS,
    message_text_clean,
    message_text_problem,
)
from conversations.services.privacy import REVEAL_REASON_MAX_CHARS, REVEAL_REASON_MIN_CHARS

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (e.g. a UUID) per message. Retrying a send with the same key returns "
        "the first result instead of running a second turn (header Idempotent-Replayed: true)."
    ),
)
NOT_FOUND = OpenApiResponse(description="No such session (or not yours).")
BAD_INPUT = OpenApiResponse(description="Bad input; `detail` says what is wrong.")


@extend_schema_serializer(component_name="CrisisResource")
class ResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    contact = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)
    sms = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    hours = serializers.CharField()
    source_url = serializers.CharField()
    last_verified = serializers.CharField()


@extend_schema_serializer(component_name="ChatPreferences")
class PreferencesSerializer(serializers.Serializer):
    session_length = serializers.ChoiceField(choices=SessionLength.choices, required=False)
    tone = serializers.ChoiceField(choices=Tone.choices, required=False)


@extend_schema_serializer(component_name="ChatMessage")
class MessageOutputSerializer(serializers.ModelSerializer):
    resources = ResourceSerializer(many=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "role",
            "text",
            "created_at",
            "risk_level",
            "intent",
            "emergency",
            "flow_step",
            "resources",
            "suggested_replies",
        )


@extend_schema_serializer(component_name="ChatSession")
class SessionOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    flow_step_label = serializers.SerializerMethodField()
    preferences = PreferencesSerializer()

    class Meta:
        model = ChatSession
        fields = (
            "id",
            "session_type",
            "status",
            "flow_step",
            "flow_step_label",
            "preferences",
            "safety_mode",
            "previous_summary",
            "summary",
            "rating_stars",
            "rating_comment",
            "created_at",
            "ended_at",
        )

    def get_flow_step_label(self, obj) -> str:
        return STEP_LABELS.get(obj.flow_step, "")


# Response bodies built as plain dicts (the chat turn's hot path), field for field what the
# serializers above render: tests/conversations/test_api.py compares the two.
_DATETIME = serializers.DateTimeField()
_RESOURCE_FIELDS = tuple(ResourceSerializer().fields)
_PREFERENCE_FIELDS = tuple(PreferencesSerializer().fields)


def _datetime(value) -> str | None:
    return _DATETIME.to_representation(value)


def _str(value) -> str | None:
    return None if value is None else str(value)


def _resource_payload(resource: dict) -> dict:
    payload = {name: _str(resource[name]) for name in _RESOURCE_FIELDS}
    payload["id"] = None if resource["id"] is None else int(resource["id"])
    return payload


def _preferences_payload(preferences) -> dict | None:
    if preferences is None:
        return None
    return {name: preferences[name] for name in _PREFERENCE_FIELDS if name in preferences}


def _session_payload(session: ChatSession) -> dict:
    return {
        "id": str(session.public_id),
        "session_type": session.session_type,
        "status": session.status,
        "flow_step": session.flow_step,
        "flow_step_label": STEP_LABELS.get(session.flow_step, ""),
        "preferences": _preferences_payload(session.preferences),
        "safety_mode": bool(session.safety_mode),
        "previous_summary": session.previous_summary,
        "summary": session.summary,
        "rating_stars": session.rating_stars,
        "rating_comment": session.rating_comment,
        "created_at": _datetime(session.created_at),
        "ended_at": _datetime(session.ended_at),
    }


def _user_message_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "text": message.text,
        "created_at": _datetime(message.created_at),
        "risk_level": message.risk_level,
    }


def _reply_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "text": message.text,
        "intent": message.intent,
        "risk_level": message.risk_level,
        "emergency": bool(message.emergency),
        "flow_step": message.flow_step,
        "resources": (
            None if message.resources is None else [_resource_payload(r) for r in message.resources]
        ),
        "suggested_replies": list(message.suggested_replies or []),
        "created_at": _datetime(message.created_at),
    }


class SessionsApi(EndUserApi):
    """List the user's sessions, or start one."""

    class ListOutputSerializer(SessionOutputSerializer):
        message_count = serializers.IntegerField()

        class Meta(SessionOutputSerializer.Meta):
            fields = (*SessionOutputSerializer.Meta.fields, "message_count")

    class InputSerializer(serializers.Serializer):
        session_type = serializers.ChoiceField(choices=SessionType.choices)
        preferences = PreferencesSerializer(required=False)

    @extend_schema(
        operation_id="sessions_list",
        responses={200: ListOutputSerializer(many=True)},
        tags=["chat"],
    )
    def get(self, request):
        return self.paginate(session_list_for_user(user=request.user), self.ListOutputSerializer)

    @extend_schema(
        operation_id="sessions_create",
        request=InputSerializer,
        responses={201: SessionOutputSerializer, 400: BAD_INPUT},
        tags=["chat"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_create(user=request.user, **serializer.validated_data)
        return Response(_session_payload(session), status=status.HTTP_201_CREATED)


class SessionDetailApi(EndUserApi):
    """One session with its transcript."""

    class OutputSerializer(SessionOutputSerializer):
        messages = serializers.SerializerMethodField()

        class Meta(SessionOutputSerializer.Meta):
            fields = (*SessionOutputSerializer.Meta.fields, "messages")

        @extend_schema_field(MessageOutputSerializer(many=True))
        def get_messages(self, obj):
            return MessageOutputSerializer(session_messages(session=obj), many=True).data

    @extend_schema(
        operation_id="sessions_retrieve",
        responses={200: OutputSerializer, 404: NOT_FOUND},
        tags=["chat"],
    )
    def get(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        return Response(self.OutputSerializer(session).data)


class MessageTextField(serializers.CharField):
    """A chat message's text, checked by the service's own rules (``message_text_clean``) before
    DRF's validators, so the API and the form say the same thing: a message over the limit is a
    400 naming the limit and its length (never truncated), control characters a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_MESSAGE_CHARS)  # for the schema; checked below first
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # Characters before the blank check: a text of only form feeds is not "empty".
        if isinstance(data, str) and (problem := message_text_problem(data)):
            raise serializers.ValidationError(problem)
        return super().run_validation(data)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        try:
            return message_text_clean(str(data))
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from None


class MessageCreateApi(EndUserApi):
    """Send a message and get Ari's reply (one chat turn)."""

    throttle_scope = "chat"  # ARI_THROTTLE_CHAT (ari_review/throttles.py)

    class InputSerializer(serializers.Serializer):
        text = MessageTextField(
            allow_blank=False,
            trim_whitespace=True,
            error_messages={
                "blank": "Message text must not be empty or only whitespace.",
                "required": "Message text is required.",
                "null": "Message text is required.",
            },
        )

    class UserMessageSerializer(serializers.ModelSerializer):
        class Meta:
            model = Message
            fields = ("id", "text", "created_at", "risk_level")

    class ReplySerializer(serializers.ModelSerializer):
        resources = ResourceSerializer(many=True)

        class Meta:
            model = Message
            fields = (
                "id",
                "text",
                "intent",
                "risk_level",
                "emergency",
                "flow_step",
                "resources",
                "suggested_replies",
                "created_at",
            )

    @extend_schema(
        operation_id="session_messages_create",
        request=InputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: inline_serializer(
                "ChatTurn",
                fields={
                    "user_message": UserMessageSerializer(),
                    "reply": ReplySerializer(),
                    "session": SessionOutputSerializer(),
                },
            ),
            400: BAD_INPUT,
            404: NOT_FOUND,
            422: OpenApiResponse(description="Idempotency-Key reused for different text."),
        },
        tags=["chat"],
    )
    def post(self, request, session_id):
        serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            # Someone else's session is a 404 whatever the body says.
            session_get_for_user(user=request.user, public_id=session_id)
            raise serializers.ValidationError(serializer.errors)
        # The turn looks the session up (404 for anyone else's) as it locks it.
        result = chat_turn_run(
            user=request.user,
            session_public_id=session_id,
            text=serializer.validated_data["text"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        session = result.session or ChatSession.objects.get(pk=result.user_message.session_id)
        # Plain dicts: the same fields and formats as the serializers declared above (the
        # schema), without their per-request overhead on the busiest endpoint.
        body = {
            "user_message": _user_message_payload(result.user_message),
            "reply": _reply_payload(result.reply),
            "session": _session_payload(session),
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class SessionEndApi(EndUserApi):
    """End a session (stores the summary the next session receives). Ending twice is fine."""

    @extend_schema(
        operation_id="sessions_end",
        request=None,
        responses={200: SessionOutputSerializer, 404: NOT_FOUND},
        tags=["chat"],
    )
    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        return Response(_session_payload(session_end(session=session)))


class SessionRatingApi(EndUserApi):
    """Rate an ended session from 1 to 5 stars, with an optional comment."""

    class InputSerializer(serializers.Serializer):
        stars = serializers.IntegerField(
            min_value=1,
            max_value=5,
            error_messages={
                "min_value": "stars must be from 1 to 5.",
                "max_value": "stars must be from 1 to 5.",
                "invalid": "stars must be a whole number from 1 to 5.",
            },
        )
        comment = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )

    @extend_schema(
        operation_id="sessions_rate",
        request=InputSerializer,
        responses={200: SessionOutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        tags=["chat"],
    )
    def post(self, request, session_id):
        session = session_get_for_user(user=request.user, public_id=session_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_rate(session=session, **serializer.validated_data)
        return Response(_session_payload(session))


class ChatPreferencesApi(EndUserApi):
    """The user's default preferences for new sessions (length, tone)."""

    @extend_schema(
        operation_id="chat_preferences_retrieve",
        responses={200: PreferencesSerializer},
        tags=["chat"],
    )
    def get(self, request):
        return Response(chat_preferences_get(user=request.user))

    @extend_schema(
        operation_id="chat_preferences_update",
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, 400: BAD_INPUT},
        tags=["chat"],
    )
    def put(self, request):
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(chat_preferences_update(user=request.user, **serializer.validated_data))


class CrisisResourceListApi(AnyRoleApi):
    """The crisis-resource catalogue for a locale (default: the installation's)."""

    pagination_class = None

    @extend_schema(
        operation_id="crisis_resources_list",
        parameters=[OpenApiParameter("locale", str, required=False)],
        responses={200: ResourceSerializer(many=True)},
        tags=["chat"],
    )
    def get(self, request):
        resources = crisis_resources_list(locale=request.query_params.get("locale"))
        return Response([crisis_resource_snapshot(r) for r in resources])


class PingApi(AnyRoleApi):
    """A trivial authenticated JSON endpoint (the benchmark's ceiling)."""

    @extend_schema(
        operation_id="ping",
        responses={200: inline_serializer("Ping", fields={"ok": serializers.BooleanField()})},
        tags=["chat"],
    )
    def get(self, request):
        return Response({"ok": True})


class ClinicianAlertListApi(ClinicianApi):
    """The signed-in clinician's in-app escalation alerts (unread first; ``?unread=1`` filters)."""

    class OutputSerializer(serializers.ModelSerializer):
        session_id = serializers.IntegerField(source="escalation.session_id")
        escalation_status = serializers.CharField(source="escalation.status")

        class Meta:
            model = ClinicianAlert
            fields = (
                "id",
                "escalation_id",
                "escalation_status",
                "session_id",
                "created_at",
                "read_at",
            )

    @extend_schema(
        operation_id="clinician_alerts_list",
        parameters=[OpenApiParameter("unread", bool, required=False)],
        responses={200: OutputSerializer(many=True)},
        tags=["alerts"],
    )
    def get(self, request):
        unread = request.query_params.get("unread") in ("1", "true", "yes")
        alerts = clinician_alert_list(user=request.user, unread_only=unread)
        return self.paginate(alerts, self.OutputSerializer)


class ClinicianAlertReadApi(ClinicianApi):
    """Mark one of my alerts as read."""

    @extend_schema(
        operation_id="clinician_alerts_read",
        request=None,
        responses={200: ClinicianAlertListApi.OutputSerializer, 404: NOT_FOUND},
        tags=["alerts"],
    )
    def post(self, request, alert_id):
        alert = ClinicianAlert.objects.select_related("escalation").filter(pk=alert_id).first()
        if alert is None:
            raise Http404("No such alert.")
        alert = clinician_alert_mark_read(alert=alert, user=request.user)
        return Response(ClinicianAlertListApi.OutputSerializer(alert).data)


# --- Privacy: an end user's own data (download, erase); staff reveal of raw text ---------------


@extend_schema_serializer(component_name="MyDataMessage")
class MyDataMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    risk_level = serializers.CharField(allow_blank=True)
    emergency = serializers.BooleanField()
    flow_step = serializers.CharField(allow_blank=True)


@extend_schema_serializer(component_name="MyDataEscalation")
class MyDataEscalationSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    status = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="MyDataSession")
class MyDataSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    session_type = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    flow_step = serializers.CharField(allow_blank=True)
    preferences = serializers.DictField(child=serializers.CharField())
    summary = serializers.CharField(allow_blank=True)
    previous_summary = serializers.CharField(allow_blank=True)
    rating_stars = serializers.IntegerField(allow_null=True)
    rating_comment = serializers.CharField(allow_blank=True)
    rated_at = serializers.DateTimeField(allow_null=True)
    safety_mode = serializers.BooleanField()
    flagged = serializers.BooleanField()
    max_risk_level = serializers.CharField()
    escalations = MyDataEscalationSerializer(many=True)
    messages = MyDataMessageSerializer(many=True)


@extend_schema_serializer(component_name="MyDataAccount")
class MyDataAccountSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    date_joined = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="MyDataPreferences")
class MyDataPreferencesSerializer(serializers.Serializer):
    session_length = serializers.CharField()
    tone = serializers.CharField()
    updated_at = serializers.DateTimeField()


class MyDataApi(EndUserApi):
    """Download everything the chat stores about me (JSON): account, default preferences, and
    every session with its messages, my rating and its escalations. Audited (counts only)."""

    throttle_scope = "export"  # ARI_THROTTLE_EXPORT

    class OutputSerializer(serializers.Serializer):
        format = serializers.CharField()
        generated_at = serializers.DateTimeField()
        account = MyDataAccountSerializer()
        preferences = MyDataPreferencesSerializer(allow_null=True)
        sessions = MyDataSessionSerializer(many=True)

    @extend_schema(
        operation_id="me_data_retrieve",
        responses={200: OutputSerializer},
        tags=["privacy"],
    )
    def get(self, request):
        # The service's dict is already JSON-ready, field for field what OutputSerializer says.
        return Response(user_data_export(user=request.user, via="api"))


class MyDataEraseApi(EndUserApi):
    """Erase my data, at once and for good: sessions, messages, ratings, preferences (the account
    stays). A session with an open escalation is kept until the care team closes it. Send
    ``{"confirm": true}``. Audited (ids and counts, never text)."""

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(
            help_text="Must be true: erasing cannot be undone.",
        )

        def validate_confirm(self, value):
            if value is not True:
                raise serializers.ValidationError("Send confirm: true to erase your data.")
            return value

    class OutputSerializer(serializers.Serializer):
        sessions_erased = serializers.IntegerField()
        messages_erased = serializers.IntegerField()
        sessions_kept = serializers.IntegerField(
            help_text="Sessions with an open escalation, kept until the care team closes it."
        )
        preferences_erased = serializers.BooleanField()
        exemplars_erased = serializers.IntegerField()
        clinician_labels_erased = serializers.IntegerField()

    @extend_schema(
        operation_id="me_data_erase",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT},
        tags=["privacy"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = user_data_erase(user=request.user, via="api")
        return Response(self.OutputSerializer(result.as_dict()).data)


@extend_schema_serializer(component_name="RevealedMessage")
class RevealedMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Message.Role.choices)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class TranscriptRevealApi(ClinicianApi):
    """A session's unmasked text, for a reason (required; kept in the audit log with the
    session id as ``transcript.reveal``). Every other staff view shows masked text."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            min_length=REVEAL_REASON_MIN_CHARS,
            max_length=REVEAL_REASON_MAX_CHARS,
            help_text="Why the unmasked text is needed (kept in the audit log).",
        )

    class OutputSerializer(serializers.Serializer):
        session_id = serializers.IntegerField(source="pk")
        summary = serializers.CharField(allow_blank=True)
        previous_summary = serializers.CharField(allow_blank=True)
        rating_comment = serializers.CharField(allow_blank=True)
        messages = RevealedMessageSerializer(many=True, source="messages.all")

    @extend_schema(
        operation_id="transcripts_reveal",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
        tags=["privacy"],
    )
    def post(self, request, session_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = transcript_reveal(
            actor=request.user,
            session_id=session_id,
            reason=serializer.validated_data["reason"],
        )
        return Response(self.OutputSerializer(session).data)
