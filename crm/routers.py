"""Sends each agent's generated model classes to the database that holds that agent's tables."""

from agents.tables import APP_LABEL


class AgentTablesRouter:
    """The single place that knows where an agent's tables live (`agent_database` on its classes).

    Core models (users, agents, configurations...) stay on `default`; `migrate` never creates the
    per-agent tables, which provisioning owns.
    """

    def db_for_read(self, model, **hints):
        return getattr(model, "agent_database", None)

    def db_for_write(self, model, **hints):
        return getattr(model, "agent_database", None)

    def allow_relation(self, obj1, obj2, **hints):
        first, second = getattr(obj1, "agent_id_value", None), getattr(obj2, "agent_id_value", None)
        if first is None and second is None:
            return None
        return first == second

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == APP_LABEL:
            return False
        return None
