"""Writes of the clinician workspace, split by sub-domain. Import from here."""

from evaluation.services.adjudication import adjudication_create, user_is_senior
from evaluation.services.alerts import (
    alert_acknowledge,
    alert_resolve,
    alert_rule_update,
    alert_rules_ensure,
    alerts_evaluate,
)
from evaluation.services.dialogues import (
    QUALITY_CHECKLIST,
    dialogue_approve,
    dialogue_create,
    dialogue_reject,
    dialogue_submit,
    dialogue_update,
    dialogue_variant_create,
)
from evaluation.services.escalations import escalation_close
from evaluation.services.imports.common import ImportFileError, ImportResult
from evaluation.services.imports.counsel_chat import counsel_chat_import
from evaluation.services.imports.dialogues import dialogues_import
from evaluation.services.imports.esconv import esconv_import
from evaluation.services.imports.formats import import_file
from evaluation.services.imports.kakoverse import kakoverse_import
from evaluation.services.labels import intent_label_create, safety_label_create
from evaluation.services.live_fn import live_fn_estimate_compute, live_fn_sample_draw
from evaluation.services.metrics import metrics_compute
from evaluation.services.preferences import (
    CandidateScoreInput,
    DimensionComparisonInput,
    preference_item_create,
    preference_judgement_create,
)
from evaluation.services.queues.labelling import label_queue_refresh
from evaluation.services.queues.refresh import work_queues_refresh
from evaluation.services.queues.review import review_queue_refresh, review_queue_sync_urgent
from evaluation.services.queues.work import (
    work_item_lock,
    work_item_release,
    work_item_take_next,
    work_locks_release_expired,
)
from evaluation.services.reviews import ReplyInput, session_rating_create

__all__ = [
    "QUALITY_CHECKLIST",
    "CandidateScoreInput",
    "DimensionComparisonInput",
    "ImportFileError",
    "ImportResult",
    "ReplyInput",
    "adjudication_create",
    "alert_acknowledge",
    "alert_resolve",
    "alert_rule_update",
    "alert_rules_ensure",
    "alerts_evaluate",
    "counsel_chat_import",
    "dialogue_approve",
    "dialogue_create",
    "dialogue_reject",
    "dialogue_submit",
    "dialogue_update",
    "dialogue_variant_create",
    "dialogues_import",
    "escalation_close",
    "esconv_import",
    "import_file",
    "intent_label_create",
    "kakoverse_import",
    "label_queue_refresh",
    "live_fn_estimate_compute",
    "live_fn_sample_draw",
    "metrics_compute",
    "preference_item_create",
    "preference_judgement_create",
    "review_queue_refresh",
    "review_queue_sync_urgent",
    "safety_label_create",
    "session_rating_create",
    "user_is_senior",
    "work_item_lock",
    "work_item_release",
    "work_item_take_next",
    "work_locks_release_expired",
    "work_queues_refresh",
]
