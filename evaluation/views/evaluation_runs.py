"""Pages of the frozen test sets and evaluation runs: the list with the start button, one run
(progress, metrics, confusion matrix, masked misses) and two runs side by side. Clinicians read;
admins and senior clinicians freeze sets and start runs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import ClinicianRequired
from evaluation.models import EvaluationRun
from evaluation.selectors.evaluation_runs import (
    evaluation_run_get,
    evaluation_run_list,
    evaluation_run_misses,
    evaluation_runs_compare,
)
from evaluation.selectors.frozen_sets import frozen_set_get, frozen_set_list
from evaluation.services.adjudication import user_is_senior
from evaluation.services.evaluation_runs import evaluation_run_create
from evaluation.services.evaluation_runs.create import GENERATORS
from evaluation.services.frozen_sets import frozen_set_freeze


def _versions():
    # training_jobs.ModelVersion: not imported (a floor above), so its type is not known here.
    model: Any = EvaluationRun._meta.get_field("model_version").related_model
    return model.objects.order_by("-created_at")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise ApplicationError(f"{value!r} is not an id.") from None


class EvaluationRunListPage(ClinicianRequired, View):
    def get(self, request):
        versions = list(_versions().only("id", "name", "kind")[:200])
        return render(
            request,
            "evaluation/evaluation_runs.html",
            {
                "frozen_sets": list(frozen_set_list()),
                "runs": evaluation_run_list(limit=50),
                "can_start": user_is_senior(request.user),
                "classifier_versions": [v for v in versions if v.kind in ("safety", "intent")],
                "reward_versions": [v for v in versions if v.kind == "reward"],
                "generators": GENERATORS,
            },
        )

    def post(self, request):
        if not user_is_senior(request.user):
            messages.error(request, "Only admins and senior clinicians may start runs.")
            return redirect("evaluation:evaluation-runs")
        try:
            frozen = frozen_set_get(frozen_set_id=_int_or_none(request.POST.get("frozen_set")) or 0)
            if frozen is None:
                raise ApplicationError("Choose a frozen set.")
            generator = request.POST.get("generator", "")
            run = evaluation_run_create(
                frozen_set=frozen,
                model_version_id=_int_or_none(request.POST.get("model_version")),
                generation_config={"generator": generator} if generator else {},
                reward_model_version_id=_int_or_none(request.POST.get("reward_model_version")),
                created_by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("evaluation:evaluation-runs")
        return redirect("evaluation:evaluation-run", run_id=run.pk)


class FrozenSetFreezePage(ClinicianRequired, View):
    def post(self, request, frozen_set_id: int):
        frozen = frozen_set_get(frozen_set_id=frozen_set_id)
        if frozen is None:
            raise Http404
        if not user_is_senior(request.user):
            messages.error(request, "Only admins and senior clinicians may freeze a set.")
        else:
            try:
                frozen = frozen_set_freeze(frozen_set=frozen, user=request.user)
                messages.success(request, f"Frozen: {frozen.kind} v{frozen.version}.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
        return redirect("evaluation:evaluation-runs")


def _confusion(metrics: dict) -> dict | None:
    cm = (metrics.get("levels") or {}).get("confusion_matrix")
    if not cm:
        return None
    return {
        "labels": cm["labels"],
        "rows": [
            {"label": label, "cells": row}
            for label, row in zip(cm["labels"], cm["matrix"], strict=True)
        ],
    }


class EvaluationRunPage(ClinicianRequired, View):
    def get(self, request, run_id: int):
        run = evaluation_run_get(run_id=run_id)
        if run is None:
            raise Http404
        metrics = run.metrics or {}
        others = [
            r
            for r in evaluation_run_list(limit=50)
            if r.pk != run.pk and r.frozen_set_id == run.frozen_set_id
        ]
        return render(
            request,
            "evaluation/evaluation_run_detail.html",
            {
                "run": run,
                "metrics": metrics,
                "confusion": _confusion(metrics),
                "per_level": sorted((metrics.get("per_level") or {}).items()),
                "by_stratum": sorted((metrics.get("by_stratum") or {}).items()),
                "misses": evaluation_run_misses(run=run, limit=300) if run.is_finished else [],
                "others": others,
            },
        )


class EvaluationRunComparePage(ClinicianRequired, View):
    def get(self, request):
        try:
            left = evaluation_run_get(run_id=_int_or_none(request.GET.get("left")) or 0)
            right = evaluation_run_get(run_id=_int_or_none(request.GET.get("right")) or 0)
        except ApplicationError:
            raise Http404 from None
        if left is None or right is None:
            raise Http404
        return render(
            request,
            "evaluation/evaluation_run_compare.html",
            {
                "left": left,
                "right": right,
                "compare": evaluation_runs_compare(left=left, right=right),
            },
        )
