"""Admin pages of the model registry: versions, their metrics, activation, and training jobs
with live progress (the job page polls ``/api/v1/training-jobs/<id>/``; without JavaScript it
refreshes itself every few seconds)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import AdminRequired
from training_jobs import selectors
from training_jobs.models import Backend, ModelKind
from training_jobs.services import training_job_create


def _confusion_rows(block: dict | None) -> dict | None:
    if not block or "confusion_matrix" not in block:
        return None
    cm = block["confusion_matrix"]
    return {
        "labels": cm["labels"],
        "rows": [
            {"label": label, "cells": row}
            for label, row in zip(cm["labels"], cm["matrix"], strict=True)
        ],
    }


def _per_class(block: dict | None) -> list[dict]:
    if not block:
        return []
    return [{"label": label, **values} for label, values in (block.get("per_class") or {}).items()]


class ModelListPage(AdminRequired, View):
    def get(self, request):
        versions = list(selectors.model_version_list())
        return render(
            request,
            "training_jobs/model_list.html",
            {
                "active": {k: selectors.model_version_active_get(kind=k) for k in ModelKind.values},
                "versions": versions,
                "jobs": selectors.training_job_list(limit=10),
                "kinds": ModelKind.choices,
                "backends": Backend.choices,
            },
        )


class TrainingJobStartPage(AdminRequired, View):
    def post(self, request):
        kind = request.POST.get("kind", "")
        backend = request.POST.get("backend", Backend.LINEAR)
        activate = request.POST.get("activate") in ("1", "on", "true")
        try:
            job = training_job_create(
                kind=kind, backend=backend, activate=activate, created_by=request.user
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("training_jobs:model-list")
        return redirect("training_jobs:job-detail", job_id=job.pk)


class TrainingJobPage(AdminRequired, View):
    def get(self, request, job_id: int):
        job = selectors.training_job_get(job_id=job_id)
        if job is None:
            raise Http404
        return render(request, "training_jobs/job_detail.html", {"job": job})


class ModelVersionPage(AdminRequired, View):
    def get(self, request, version_id: int):
        version = selectors.model_version_get(version_id=version_id)
        if version is None:
            raise Http404
        metrics = version.metrics or {}
        job = getattr(version, "training_job", None)
        if version.kind == ModelKind.SAFETY:
            levels = metrics.get("levels")
            reference = [
                ("Served (model + rule net)", metrics),
                ("Model alone", metrics.get("model_only") or {}),
                ("Rule net alone", metrics.get("rules_only") or {}),
            ]
        else:
            levels = metrics
            reference = []
        return render(
            request,
            "training_jobs/model_detail.html",
            {
                "version": version,
                "job": job,
                "metrics": metrics,
                "per_class": _per_class(levels),
                "confusion": _confusion_rows(levels),
                "category_per_class": _per_class(metrics.get("category")),
                "reference": reference,
                "by_tag": sorted((metrics.get("high_recall_by_tag") or {}).items()),
                "latency": metrics.get("latency_single") or {},
                "thresholds": version.thresholds or {},
            },
        )
