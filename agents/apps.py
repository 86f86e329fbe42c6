from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self):
        # Only the global registry runs this: the per-agent registries use a plain AppConfig.
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate, pre_delete
        from django.tasks.signals import task_finished

        import crm.rls  # connects the row-scope wrapper to every new PostgreSQL connection

        from . import connections
        from .models import Agent
        from .provisioning import drop_tables_of_deleted_agent

        post_migrate.connect(crm.rls.prepare_after_migrate, sender=self, dispatch_uid="crm.rls.prepare")
        pre_delete.connect(drop_tables_of_deleted_agent, sender=Agent, dispatch_uid="drop_agent_tables")
        connection_created.connect(connections.forget_agents_touched, dispatch_uid="forget_agents_touched")
        for teardown in (request_finished, task_finished):
            teardown.connect(
                connections.recycle_connections_that_served_many_agents, dispatch_uid="recycle_connections"
            )
