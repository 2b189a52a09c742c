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
from training_jobs.models import Backend, ModelKind, ModelVersion
from training_jobs.services import reward_version_activate, training_job_create


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


def _version_or_404(raw: object) -> ModelVersion:
    version = (
        selectors.model_version_get(version_id=int(raw))
        if isinstance(raw, (str, int)) and str(raw).isdigit()
        else None
    )
    if version is None:
        raise Http404("No such model version.")
    return version


class ModelVersionComparePage(AdminRequired, View):
    """Two versions side by side: ``?a=<candidate>&b=<other>``; without ``b``, the version
    serving its kind now."""

    def get(self, request):
        if not request.GET.get("a"):
            versions = list(selectors.model_version_list())
            return render(
                request, "training_jobs/model_compare.html", {"versions": versions, "rows": None}
            )
        candidate = _version_or_404(request.GET.get("a"))
        other = request.GET.get("b")
        incumbent = (
            _version_or_404(other)
            if other
            else selectors.model_version_active_get(kind=candidate.kind)
        )
        if incumbent is not None and incumbent.kind != candidate.kind:
            messages.error(request, "Compare two versions of the same kind of model.")
            incumbent = None
        return render(
            request,
            "training_jobs/model_compare.html",
            {
                "candidate": candidate,
                "incumbent": incumbent,
                "rows": selectors.model_versions_compare(candidate=candidate, incumbent=incumbent),
                "versions": list(selectors.model_version_list(kind=candidate.kind)),
            },
        )


class ModelVersionActivatePage(AdminRequired, View):
    """A reward model's activation: GET the confirmation (candidate beside the incumbent),
    POST activate. Classifier versions are released instead (promote has its own page)."""

    def get(self, request, version_id: int):
        version = _version_or_404(version_id)
        if version.kind != ModelKind.REWARD:
            messages.info(request, "Classifier versions reach users through a release.")
            return redirect("training_jobs:release-list")
        incumbent = selectors.model_version_active_get(kind=version.kind)
        return render(
            request,
            "training_jobs/model_activate_confirm.html",
            {
                "candidate": version,
                "incumbent": incumbent if incumbent and incumbent.pk != version.pk else None,
                "rows": selectors.model_versions_compare(candidate=version, incumbent=incumbent),
            },
        )

    def post(self, request, version_id: int):
        version = _version_or_404(version_id)
        try:
            reward_version_activate(version=version, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("training_jobs:model-activate", version_id=version.pk)
        messages.success(request, f"{version.name} is now active.")
        return redirect("training_jobs:model-detail", version_id=version.pk)
