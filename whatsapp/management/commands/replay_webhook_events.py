from django.core.management.base import BaseCommand, CommandError

from whatsapp import intake
from whatsapp.models import WebhookEvent


class Command(BaseCommand):
    help = (
        "Process stored webhook events again: by id, or every event in a state (e.g. after fixing a "
        "configuration that left events unroutable). Safe on any event: nothing is stored twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Ids of the events to replay.")
        parser.add_argument(
            "--state",
            action="append",
            choices=WebhookEvent.State.values,
            default=[],
            help="Replay every event in this state (repeat for several).",
        )

    def handle(self, *args, ids, state, **options):
        if not ids and not state:
            raise CommandError("Say which events to replay: give their ids, or --state failed / --state unroutable.")
        events = WebhookEvent.objects.none()
        if ids:
            events |= WebhookEvent.objects.filter(pk__in=ids)
        if state:
            events |= WebhookEvent.objects.filter(state__in=state)
        event_ids = list(events.order_by("id").values_list("id", flat=True))
        if ids and not event_ids:
            raise CommandError(f"There is no webhook event with id {', '.join(map(str, ids))}.")
        states, skipped = intake.replay_events(event_ids)
        self.stdout.write(intake.describe_replay(states, skipped))
