"""Schemathesis over the whole OpenAPI schema, in-process (the WSGI application) on the test
database: 0 server errors, and every documented response matches its schema and content type.

- Every operation is called as each role its view allows (end user, clinician, admin; any role
  for the few shared operations), signed in with a real session (and CSRF token), with data
  that fits the schema and data that does not. Path ids come from real objects half the time,
  so the views' own code runs rather than a 404.
- A stateful run per role follows the links schemathesis infers between operations (start a
  session, send to it, end it, rate it...).

``ARI_FUZZ_EXAMPLES`` (default 10) is the number of examples per operation and role: the
default keeps the module under three minutes on two cores. Each call runs in a savepoint,
rolled back after a 5xx so one failure cannot poison the rest; every failure is collected and
reported together, with its traceback.
"""

from __future__ import annotations

import json
import os
import secrets
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import got_request_exception, request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from ari_review.api.permissions import HasAnyRole, IsAdmin, IsClinician, IsEndUser
from conversations.models import ClinicianAlert
from conversations.services import chat_turn_run, session_create
from evaluation.models import SeedDialogue, WorkItem
from evaluation.services.starter import starter_content_load
from tests import factories
from training_jobs.models import ModelVersion, TrainingJob

EXAMPLES = int(os.environ.get("ARI_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
ALL_ROLES = ("enduser", "clinician", "admin")
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.slow


def load_schema():
    """The schema ``/api/schema/`` serves: drf-spectacular's generator, called in-process."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(raw, default=str)))
    schema.app = get_wsgi_application()
    return schema


def roles_allowed(view_class) -> tuple[str, ...]:
    permissions = set(getattr(view_class, "permission_classes", ()))
    if IsAdmin in permissions:
        return ("admin",)
    if IsClinician in permissions:
        return ("clinician", "admin")
    if IsEndUser in permissions:
        return ("enduser",)
    if HasAnyRole in permissions:
        return ALL_ROLES
    return ALL_ROLES  # the schema, sign-in and sign-out: anyone


def view_classes() -> dict[tuple[str, str], type]:
    return {
        (path, method.upper()): callback.cls
        for path, _, method, callback in EndpointEnumerator().get_api_endpoints()
    }


@dataclass
class Fuzzer:
    """Calls cases as a role, counts requests, collects every failure instead of stopping."""

    users: dict
    requests: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    _auth: dict = field(default_factory=dict)
    _exception: list[str] = field(default_factory=list)

    def sign_in(self, role: str) -> None:
        """A fresh session per role and operation (a fuzzed sign-out may have ended the last)."""
        client = Client()
        client.force_login(self.users[role])
        token = secrets.token_hex(16)
        cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}
        self._auth[role] = {"cookies": cookies, "headers": {"X-CSRFToken": token}}

    def on_exception(self, sender, request=None, **kwargs):
        self._exception.append(traceback.format_exc(limit=-6))

    def call(self, case, role: str):
        if case.headers:
            # The schema documents token auth; a generated token would hide the signed-in user.
            case.headers.pop("Authorization", None)
        self._exception.clear()
        with transaction.atomic():
            response = case.call(**self._auth[role])
            if response.status_code >= 500:
                transaction.set_rollback(True)
        self.requests += 1
        self.statuses[response.status_code] += 1
        label = f"{role} {case.method} {case.formatted_path}"
        if response.status_code >= 500:
            self.server_errors += 1
            self.failures.append(f"{label}: {response.status_code}\n{''.join(self._exception)}")
            return response
        try:
            case.validate_response(response, checks=CHECKS, headers=self._auth[role]["headers"])
        # Schemathesis raises a FailureGroup (a BaseExceptionGroup): every one is collected.
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
            self.failures.append(f"{label}: {str(exc)[:1500]}")
        return response

    def report(self, title: str) -> str:
        return (
            f"{title}: {self.requests} requests, {self.server_errors} server errors, "
            f"{len(self.failures)} failures; statuses {dict(sorted(self.statuses.items()))}"
        )


@pytest.fixture
def fuzz_world(role_users):
    """Users signed in through the real WSGI stack, and real objects for path ids."""
    starter_content_load()
    enduser, clinician = role_users["enduser"], role_users["clinician"]
    own = session_create(user=enduser, session_type="check_in")
    chat_turn_run(session=own, text="I have had a long week at work.", idempotency_key="")
    ended = factories.ChatSessionFactory(user=enduser)
    other = factories.ChatSessionFactory(user=factories.UserFactory(role="enduser"), flagged=True)
    escalation = factories.EscalationFactory(session=other)
    alert = ClinicianAlert.objects.create(escalation=escalation, recipient=clinician)
    items = [
        factories.ReviewItemFactory(session=ended),
        factories.ReviewItemFactory(session=other, required_reviews=2),
        factories.LabelItemFactory(kind=WorkItem.Kind.SAFETY),
        factories.LabelItemFactory(kind=WorkItem.Kind.INTENT),
        factories.PreferenceItemFactory(),
    ]
    dialogues = [
        factories.SeedDialogueFactory(state=state, created_by=role_users["admin"])
        for state in SeedDialogue.State.values
    ]
    version = ModelVersion.objects.create(
        name="fuzz-safety",
        kind="safety",
        backend="linear",
        artifact_path="/nonexistent/fuzz-safety",
        train_data_hash="0" * 64,
        test_data_hash="0" * 64,
    )
    job = TrainingJob.objects.create(kind="safety")
    known = {
        "session_id": [str(own.public_id), str(ended.public_id), str(other.public_id)],
        "item_id": [item.pk for item in items],
        "dialogue_id": [d.pk for d in dialogues],
        "escalation_id": [escalation.pk],
        "alert_id": [alert.pk],
        "version_id": [version.pk],
        "job_id": [job.pk],
        "kind": list(WorkItem.Kind.values),
    }
    # Django's test client does the same: the WSGI handler must not close the connection
    # that holds the test's transaction at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    fuzzer = Fuzzer(users=role_users)
    got_request_exception.connect(fuzzer.on_exception)
    yield fuzzer, known
    got_request_exception.disconnect(fuzzer.on_exception)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def strategy(operation, known: dict):
    """Positive and negative cases; half of them with path ids of real objects."""
    names = [parameter.name for parameter in operation.path_parameters]
    strategies = []
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if names and all(known.get(name) for name in names):
            ids = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
            strategies.append(
                ids.flatmap(
                    lambda values, mode=mode: operation.as_strategy(
                        generation_mode=mode, path_parameters=values
                    )
                )
            )
    return st.one_of(strategies)


def run_examples(fuzzer: Fuzzer, role: str, cases) -> None:
    @HYPOTHESIS
    @given(case=cases)
    def run(case):
        fuzzer.call(case, role)

    run()


def _signs_out(operation) -> bool:
    return "logout" in operation.path


def test_every_operation_as_every_role_it_allows(fuzz_world):
    fuzzer, known = fuzz_world
    schema = load_schema()
    views = view_classes()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40, "the whole API is in the schema"
    # Sign-outs last, so they cannot end a session another operation still uses.
    operations.sort(key=_signs_out)
    for operation in operations:
        view = views.get((operation.path, operation.method.upper()))
        for role in roles_allowed(view):
            fuzzer.sign_in(role)
            cache.clear()  # throttles (this test's own Redis database) start afresh

            run_examples(fuzzer, role, strategy(operation, known))
    print(fuzzer.report(f"schemathesis, {len(operations)} operations"))
    assert fuzzer.requests >= len(operations) * EXAMPLES
    assert not fuzzer.failures, fuzzer.report("failures") + "\n\n" + "\n\n".join(fuzzer.failures)


def test_stateful_links_per_role(fuzz_world):
    fuzzer, _ = fuzz_world
    schema = load_schema()
    workflow = schema.as_state_machine()

    for role in ALL_ROLES:
        fuzzer.sign_in(role)

        class RoleWorkflow(workflow):
            signed_in_as = role

            def call(self, case, **kwargs):
                return fuzzer.call(case, self.signed_in_as)

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                pass  # the fuzzer validated it

        RoleWorkflow.run(
            settings=settings(HYPOTHESIS, max_examples=max(2, EXAMPLES // 2), stateful_step_count=6)
        )
    print(fuzzer.report("schemathesis stateful"))
    assert fuzzer.requests > 0
    assert not fuzzer.failures, fuzzer.report("failures") + "\n\n" + "\n\n".join(fuzzer.failures)


def _operation(schema, path: str):
    return next(r.ok() for r in schema.get_all_operations() if r.ok().path == path)


def test_the_fuzzer_reports_a_server_error_and_a_schema_mismatch(fuzz_world, monkeypatch):
    """The harness can fail: a view that raises is reported with its traceback, a response
    that is not what the schema says is reported with the check's message."""
    from rest_framework.response import Response

    from conversations.apis import resources as chat_apis
    from evaluation.apis import agreement as workspace_apis

    fuzzer, _ = fuzz_world

    def broken(self, request):
        raise RuntimeError("boom " + uuid.uuid4().hex)

    def off_schema(self, request):
        return Response({"results": []})  # the schema says: a plain array

    schema = load_schema()  # first: the schema of the views as they are
    monkeypatch.setattr(chat_apis.PingApi, "get", broken)
    monkeypatch.setattr(workspace_apis.AgreementApi, "get", off_schema)
    fuzzer.sign_in("enduser")
    fuzzer.call(_operation(schema, "/api/v1/ping").Case(), "enduser")
    assert fuzzer.server_errors == 1
    assert "RuntimeError: boom" in fuzzer.failures[0]
    fuzzer.sign_in("clinician")
    fuzzer.call(_operation(schema, "/api/v1/agreement/").Case(), "clinician")
    assert fuzzer.statuses == {500: 1, 200: 1}, fuzzer.statuses
    assert fuzzer.server_errors == 1 and len(fuzzer.failures) == 2
    assert "Response violates schema" in fuzzer.failures[1]
