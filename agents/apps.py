from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self):
        # Only the global registry runs this: the per-agent registries use a plain AppConfig.
        from django.db.models.signals import pre_delete

        from .models import Agent
        from .provisioning import drop_tables_of_deleted_agent

        pre_delete.connect(drop_tables_of_deleted_agent, sender=Agent, dispatch_uid="drop_agent_tables")
