"""Work queues and one work item: the queue, the next item, lock, skip, close an escalation,
and the item page (rate, label, compare)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.audit import transcript_view_record
from ari_review.mixins import ClinicianRequired
from conversations.models import Escalation
from evaluation.models import Urgency, WorkItem
from evaluation.selectors.items import (
    LabelItemView,
    PreferenceItemView,
    ReviewItemView,
    label_item_detail,
    preference_item_detail,
    review_item_detail,
)
from evaluation.selectors.masking import work_item_texts_masked
from evaluation.selectors.queue import queue_items_list, work_item_get, work_progress
from evaluation.services import (
    CandidateScoreInput,
    DimensionComparisonInput,
    ReplyInput,
    escalation_close,
    intent_label_create,
    preference_judgement_create,
    review_queue_sync_urgent,
    safety_label_create,
    session_rating_create,
    work_item_lock,
    work_item_release,
)
from evaluation.services.preferences import SCORE_DIMENSIONS
from evaluation.views.common import (
    APPROPRIATENESS_KEYS,
    CATEGORY_KEYS,
    COMPARISON_SCALE,
    DIMENSION_DEFINITIONS,
    INTENT_KEYS,
    QUEUES,
    REPLY_FLAG_KEYS,
    RISK_KEYS,
    SCORE_KEYS,
    URGENCY_KEYS,
    Kind,
    blind_mode,
    go_next,
    skip_remember,
)
from evaluation.views.risk_signals import exemplar_choices


class QueuePage(ClinicianRequired, View):
    kind: str = Kind.REVIEW

    def get(self, request):
        if self.kind == Kind.REVIEW:
            review_queue_sync_urgent()
        items = list(queue_items_list(kind=self.kind, clinician=request.user)[:25])
        return render(
            request,
            "evaluation/queue.html",
            {
                "kind": self.kind,
                "queue": QUEUES[self.kind],
                "items": items,
                "texts": work_item_texts_masked(items=items),
                "progress": work_progress(kind=self.kind, clinician=request.user),
                "next_url": reverse("evaluation:queue-next", args=[self.kind]),
                "blind": blind_mode(request),
            },
        )


class QueueNextPage(ClinicianRequired, View):
    def post(self, request, kind: str):
        if kind not in QUEUES:
            raise Http404("No such queue.")
        return go_next(request, kind)


class ItemLockPage(ClinicianRequired, View):
    def post(self, request, item_id: int):
        item = work_item_get(item_id=item_id)
        if item is None:
            raise Http404
        try:
            work_item_lock(item=item, clinician=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(QUEUES[item.kind]["queue_url"])
        return redirect(QUEUES[item.kind]["item_url"], item.pk)


class ItemSkipPage(ClinicianRequired, View):
    def post(self, request, item_id: int):
        item = work_item_get(item_id=item_id)
        if item is None:
            raise Http404
        work_item_release(item=item, clinician=request.user)
        skip_remember(request, item.kind, item.pk)
        return go_next(request, item.kind)


class EscalationClosePage(ClinicianRequired, View):
    def post(self, request, escalation_id: int):
        escalation = Escalation.objects.filter(pk=escalation_id).first()
        if escalation is None:
            raise Http404
        try:
            escalation_close(
                escalation=escalation, clinician=request.user, note=request.POST.get("note", "")
            )
            messages.success(request, "Escalation closed.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return HttpResponseRedirect(back)
        return redirect("evaluation:review-queue")


def _with_suggestion(data, suggestion: dict, *, kind: str):
    """The form's data with the model's suggestion as the answer ("Accept the suggestion")."""
    data = data.copy()
    fields = ("risk_level", "category", "urgency") if kind == Kind.SAFETY else ("intent",)
    for name in fields:
        if name in suggestion:
            data[name] = suggestion[name] or ""
    data["suggestion_shown"] = "1"
    return data


def _pair_save(data, *, item: WorkItem, clinician) -> None:
    """The pair form: one answer per dimension on the A..B scale, the better reply, a note."""
    letters = dict(zip("AB", (int(c) for c in data.getlist("candidate")), strict=True))
    scale = {key: (better, margin) for key, better, margin, _ in COMPARISON_SCALE}
    comparison = []
    for dim, _ in DIMENSION_DEFINITIONS:
        answer = data.get(f"cmp_{dim}", "")
        if answer not in scale:
            raise ApplicationError(f"Compare the replies on {dim} (keys 1-5).")
        better, margin = scale[answer]
        comparison.append(
            DimensionComparisonInput(
                dimension=dim, better_id=letters[better] if better else None, margin=margin
            )
        )
    choice = data.get("choice", "")
    if choice != "tie" and not choice.isdigit():
        raise ApplicationError("Pick the better reply overall (a or b) or a tie (=).")
    preference_judgement_create(
        item=item,
        clinician=clinician,
        chosen_id=None if choice == "tie" else int(choice),
        tie=choice == "tie",
        scores=[
            CandidateScoreInput(candidate_id=cid, unsafe=data.get(f"unsafe_{cid}") == "1")
            for cid in letters.values()
        ],
        note=data.get("note", ""),
        comparison=comparison,
    )


class ItemPage(ClinicianRequired, View):
    """One queue item: GET shows it (``?fragment=1``: only the panel, for workspace.js); POST
    saves the form (the no-JavaScript path) and moves on to the next item."""

    kind: str = Kind.REVIEW
    panel_templates: dict[str, str] = {
        Kind.REVIEW: "evaluation/panels/review.html",
        Kind.SAFETY: "evaluation/panels/safety.html",
        Kind.INTENT: "evaluation/panels/intent.html",
        Kind.PREFERENCE: "evaluation/panels/preference.html",
    }

    def _item(self, item_id: int) -> WorkItem:
        item = work_item_get(item_id=item_id, kind=self.kind)
        if item is None:
            raise Http404("No such item.")
        return item

    def context(self, request, item: WorkItem, *, error: str = "", posted=None) -> dict:
        blind = blind_mode(request)
        ctx = {
            "kind": self.kind,
            "queue": QUEUES[self.kind],
            "item": item,
            "blind": blind,
            "error": error,
            "posted": posted or {},
            "progress": work_progress(kind=self.kind, clinician=request.user),
            "api_submit": reverse(QUEUES[self.kind]["api_submit"], args=[item.pk]),
            "api_next": reverse("eval-queue-next", args=[self.kind]),
            "api_release": reverse("eval-item-release", args=[item.pk]),
            "panel_template": self.panel_templates[self.kind],
        }
        view: ReviewItemView | PreferenceItemView | LabelItemView
        if self.kind == Kind.REVIEW:
            view = review_item_detail(item=item, clinician=request.user)
            ctx.update(
                view=view,
                appropriateness_keys=APPROPRIATENESS_KEYS,
                reply_flag_keys=REPLY_FLAG_KEYS,
            )
        elif self.kind == Kind.PREFERENCE:
            view = preference_item_detail(item=item, clinician=request.user)
            ctx.update(
                view=view,
                score_keys=SCORE_KEYS,
                score_values=range(4),
                dimension_definitions=DIMENSION_DEFINITIONS,
                comparison_scale=COMPARISON_SCALE,
            )
            if len(view.candidates) == 2:
                ctx["panel_template"] = "evaluation/panels/preference_pair.html"
        else:
            view = label_item_detail(item=item, clinician=request.user, blind=blind)
            ctx.update(
                view=view,
                risk_keys=RISK_KEYS,
                category_keys=CATEGORY_KEYS,
                urgency_keys=URGENCY_KEYS,
                intent_keys=INTENT_KEYS,
                **exemplar_choices(),
            )
        transcript_view_record(actor=request.user, item=item, via="page")
        return ctx

    def get(self, request, item_id: int):
        item = self._item(item_id)
        ctx = self.context(request, item)
        if request.GET.get("fragment"):
            return render(request, ctx["panel_template"], ctx)
        return render(request, "evaluation/item_page.html", ctx)

    def post(self, request, item_id: int):
        item = self._item(item_id)
        try:
            self.save(request, item)
        except ApplicationError as exc:
            ctx = self.context(request, item, error=exc.message, posted=request.POST)
            return render(request, "evaluation/item_page.html", ctx, status=400)
        return go_next(request, self.kind)

    def save(self, request, item: WorkItem) -> None:
        data = request.POST
        if data.get("accept_suggestion") == "1" and item.suggestion:
            data = _with_suggestion(data, item.suggestion, kind=self.kind)
        if self.kind == Kind.REVIEW:
            replies = []
            for key in data:
                if key.startswith("reply_"):
                    message_id = int(key.split("_", 1)[1])
                    validated = data.get(f"validated_{message_id}", "")
                    replies.append(
                        ReplyInput(
                            message_id,
                            tuple(data.getlist(f"flags_{message_id}")),
                            {"yes": True, "no": False}.get(validated),
                        )
                    )
            if not data.get("appropriateness"):
                raise ApplicationError("Choose the overall appropriateness (keys 1-4).")
            session_rating_create(
                item=item,
                clinician=request.user,
                appropriateness=data["appropriateness"],
                replies=replies,
                note=data.get("note", ""),
            )
        elif self.kind == Kind.SAFETY:
            if not data.get("risk_level"):
                raise ApplicationError("Choose a risk level (keys 0-3).")
            safety_label_create(
                item=item,
                clinician=request.user,
                risk_level=data["risk_level"],
                category=data.get("category", ""),
                urgency=data.get("urgency") or Urgency.NONE,
                suggestion_shown=data.get("suggestion_shown") == "1",
            )
        elif self.kind == Kind.INTENT:
            if not data.get("intent"):
                raise ApplicationError("Choose an intent (keys 1-9, 0).")
            intent_label_create(
                item=item,
                clinician=request.user,
                intent=data["intent"],
                suggestion_shown=data.get("suggestion_shown") == "1",
            )
        elif len(data.getlist("candidate")) == 2 and any(k.startswith("cmp_") for k in data):
            _pair_save(data, item=item, clinician=request.user)
        else:
            choice = data.get("choice", "")
            if not choice:
                raise ApplicationError("Pick the best reply (1-3) or a tie (0).")
            scores = []
            for cid in data.getlist("candidate"):
                try:
                    scores.append(
                        CandidateScoreInput(
                            candidate_id=int(cid),
                            **{d: int(data.get(f"{d}_{cid}", "")) for d in SCORE_DIMENSIONS},
                            unsafe=data.get(f"unsafe_{cid}") == "1",
                        )
                    )
                except ValueError:
                    raise ApplicationError("Give every candidate all four scores (0-3).") from None
            preference_judgement_create(
                item=item,
                clinician=request.user,
                chosen_id=None if choice == "tie" else int(choice),
                tie=choice == "tie",
                scores=scores,
                note=data.get("note", ""),
            )
