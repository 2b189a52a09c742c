"""Monitoring alerts: the history page (every alert, newest first, with its rule) and the
acknowledge / resolve actions (clinicians and admins; audited by the services)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from ari_review.api.errors import ApplicationError
from ari_review.mixins import ClinicianRequired
from ari_review.roles import ADMIN, user_has_role
from evaluation.models import MonitoringAlert
from evaluation.selectors.alerts import alert_list, alert_rule_list
from evaluation.services import alert_acknowledge, alert_resolve, alert_rules_ensure


class AlertHistoryPage(ClinicianRequired, View):
    def get(self, request):
        status = request.GET.get("status", "")
        if status not in MonitoringAlert.Status.values:
            status = ""
        alert_rules_ensure()
        page = Paginator(alert_list(status=status), 50).get_page(request.GET.get("page"))
        return render(
            request,
            "evaluation/alerts.html",
            {
                "page": page,
                "status": status,
                "statuses": MonitoringAlert.Status.choices,
                "rules": alert_rule_list(),
                "is_admin": user_has_role(request.user, ADMIN),
            },
        )


class AlertActionPage(ClinicianRequired, View):
    """POST ``action`` = acknowledge | resolve (with an optional ``note``)."""

    def post(self, request, alert_id):
        alert = get_object_or_404(MonitoringAlert, pk=alert_id)
        action = request.POST.get("action", "")
        try:
            if action == "acknowledge":
                alert_acknowledge(alert=alert, user=request.user)
                messages.success(request, f"Alert {alert.pk} acknowledged.")
            elif action == "resolve":
                alert_resolve(alert=alert, user=request.user, note=request.POST.get("note", ""))
                messages.success(request, f"Alert {alert.pk} resolved.")
            else:
                messages.error(request, "Choose acknowledge or resolve.")
        except ApplicationError as exc:
            messages.error(request, str(exc))
        return redirect("evaluation:alerts")
