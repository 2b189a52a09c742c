"""python manage.py frozen_sets load-starter|from-labels|freeze|list

load-starter [--kind safety|persona|edge]   the shipped starter versions, frozen (idempotent)
from-labels                                  a draft safety set from clinician gold labels
freeze ID --user NAME                        freeze a draft (content hash, who, when; audited)
list                                         every version with its hash
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ari_review.api.errors import ApplicationError
from evaluation.models import FrozenSet, FrozenSetItem, FrozenSetKind
from evaluation.selectors.frozen_sets import (
    frozen_set_get,
    frozen_set_list,
    safety_rows_from_labels,
)
from evaluation.services.frozen_sets import (
    frozen_set_draft_create,
    frozen_set_freeze,
    frozen_set_item_verify,
    frozen_set_next_version,
    frozen_set_starter_load,
)


class Command(BaseCommand):
    help = "Manage the frozen test sets (starter versions, drafts from labels, freezing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=["load-starter", "from-labels", "freeze", "next-version", "verify", "list"],
        )
        parser.add_argument("frozen_set_id", nargs="?", type=int)
        parser.add_argument("--kind", choices=FrozenSetKind.values)
        parser.add_argument("--user", help="the admin or clinician acting (audited)")
        parser.add_argument("--drop", action="store_true", help="verify: drop the item instead")

    def _user(self, username):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        return user

    def handle(self, *args, action, frozen_set_id, kind, user, **options):
        who = self._user(user)
        frozen: FrozenSet | None
        try:
            if action == "load-starter":
                for k in [kind] if kind else FrozenSetKind.values:
                    frozen = frozen_set_starter_load(kind=k, created_by=who)
                    self.stdout.write(
                        f"{k} v{frozen.version}: {frozen.items.count()} items, "
                        f"{frozen.status}, hash {frozen.content_hash[:16]}"
                    )
            elif action == "from-labels":
                rows = safety_rows_from_labels()
                draft = frozen_set_draft_create(
                    kind=FrozenSetKind.SAFETY, rows=rows, source="clinician labels", created_by=who
                )
                self.stdout.write(
                    f"draft safety v{draft.version} (id {draft.pk}): {len(rows)} items"
                )
            elif action == "freeze":
                if not frozen_set_id:
                    raise CommandError("freeze needs the frozen set's id")
                frozen = frozen_set_get(frozen_set_id=frozen_set_id)
                if frozen is None:
                    raise CommandError(f"no frozen set {frozen_set_id}")
                frozen = frozen_set_freeze(frozen_set=frozen, user=who)
                self.stdout.write(f"frozen {frozen.kind} v{frozen.version}: {frozen.content_hash}")
            elif action in ("next-version", "verify"):
                if not frozen_set_id:
                    raise CommandError(f"{action} needs an id")
                if action == "next-version":
                    frozen = frozen_set_get(frozen_set_id=frozen_set_id)
                    if frozen is None:
                        raise CommandError(f"no frozen set {frozen_set_id}")
                    draft = frozen_set_next_version(frozen_set=frozen, created_by=who)
                    self.stdout.write(f"draft {draft.kind} v{draft.version} (id {draft.pk})")
                else:
                    if who is None:
                        raise CommandError("verify needs --user (the clinician verifying)")
                    item = FrozenSetItem.objects.filter(pk=frozen_set_id).first()
                    if item is None:
                        raise CommandError(f"no frozen set item {frozen_set_id}")
                    frozen_set_item_verify(item=item, clinician=who, keep=not options["drop"])
                    self.stdout.write("dropped" if options["drop"] else item.verification)
            else:
                for f in frozen_set_list(kind=kind):
                    self.stdout.write(
                        f"{f.pk:>4} {f.kind:<8} v{f.version:<3} {f.status:<7} {f.n_items:>4} items "
                        f"{f.content_hash[:16] or '-':<16} {f.source}"
                    )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
