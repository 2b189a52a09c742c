from django.core.management.base import BaseCommand, CommandError

from ari_review import audit_chain
from ari_review.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain, event by event in id order. Prints OK with the "
        "number of events and the last hash (keep a copy elsewhere: removing the newest events "
        "leaves a shorter, intact chain), or the first broken link and exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, database, **options):
        report = audit_chain.chain_verify(audit_chain.chain_rows(AuditEvent, using=database))
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN at event id {report.broken_id}: {report.problem}. "
                f"The {report.count} event(s) before it are intact"
                + (f" (last good id {report.head_id})." if report.head_id is not None else "."),
                returncode=1,
            )
        self.stdout.write(
            f"OK: {report.count} audit event(s), chain intact; last event id {report.head_id}, "
            f"hash {report.head_hash}"
        )
