from django.core.management.base import BaseCommand

from agents import moving


class Command(BaseCommand):
    help = "Agents, rows and size on disk per database of the shard map, and what to move to even them out."

    def handle(self, *args, **options):
        report, suggestion = moving.shard_report()
        self.stdout.write(f"{'database':<20} {'agents':>8} {'rows':>12} {'size':>10}")
        for entry in report:
            rows = "-" if entry["rows"] is None else f"{entry['rows']:,}"
            size = "-" if entry["bytes"] is None else f"{entry['bytes'] / 2**20:.1f} MB"
            self.stdout.write(f"{entry['database']:<20} {entry['agents']:>8} {rows:>12} {size:>10}")
        self.stdout.write("")
        self.stdout.write(f"Suggestion: {suggestion}")
