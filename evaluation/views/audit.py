"""The audit log (admins only)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views import View

from ari_review.mixins import AdminRequired
from evaluation.selectors.audit import audit_events_list


class AuditLogPage(AdminRequired, View):
    def get(self, request):
        filters = {
            k: request.GET.get(k, "").strip()[:60] for k in ("action", "actor", "object_type")
        }
        page = Paginator(audit_events_list(**filters), 50).get_page(request.GET.get("page"))
        return render(request, "evaluation/audit_log.html", {"page": page, "filters": filters})
