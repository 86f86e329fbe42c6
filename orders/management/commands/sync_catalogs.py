from django.core.management.base import BaseCommand, CommandError

from agents.models import Agent
from crm import rls
from orders.catalog_sync import enqueue_catalog_syncs, sync_catalog


class Command(BaseCommand):
    help = (
        "Sync agents' catalogs from their Meta commerce catalogs. Without arguments, enqueue a background sync "
        "for every agent with a catalog (the clock, run_periodic_tasks, does this every "
        "WHATSAPP_TEMPLATE_SYNC_INTERVAL); with --agent, sync that agent now and say how it went."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agent", type=int, help="The id of the agent whose catalog to sync now.")

    def handle(self, *args, agent=None, **options):
        if agent is None:
            self.stdout.write(f"Catalog syncs enqueued: {enqueue_catalog_syncs()}")
            return
        with rls.agent_scope(agent):
            found = Agent.objects.filter(pk=agent).first()
            if found is None:
                raise CommandError(f"No agent {agent}.")
            sync = sync_catalog(found)
        if sync.succeeded_at is None or sync.succeeded_at != sync.finished_at:
            raise CommandError(f"Catalog {sync.catalog_id or '(none)'} not synced: {sync.error}")
        self.stdout.write(
            f"Catalog {sync.catalog_id} synced: {sync.added} added, {sync.changed} changed, {sync.removed} removed."
            + (f" {sync.error}" if sync.error else "")
        )
