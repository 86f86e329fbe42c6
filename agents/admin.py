from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import Action
from django.db import transaction

import audit
from crm import routers
from crm.admin import ReadOnlyModelAdmin

from . import moving, provisioning, shards, tables
from .models import Agent, AgentMove
from .tasks import run_agent_move


class AgentCreationForm(forms.ModelForm):
    placement = forms.ChoiceField(
        label="Database",
        required=False,
        help_text="Where the agent's tables live. Automatic picks the least-loaded open database.",
    )

    class Meta:
        model = Agent
        fields = ("name", "user", "placement")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        counts = shards.agent_counts()
        self.fields["placement"].choices = [("", "Automatic")] + [
            (alias, f"{alias} ({counts[alias]} agents)") for alias in routers.agent_databases()
        ]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = (
        "agent_prefix",
        "name",
        "user",
        "created_by",
        "created_at",
        "database",
        "table_status",
        "row_counts",
        "move_progress",
    )
    list_filter = ("database",)
    list_select_related = ("user", "created_by")
    search_fields = ("agent_prefix", "name", "user__email")
    readonly_fields = (
        "agent_prefix",
        "created_by",
        "created_at",
        "table_version",
        "database",
        "table_status",
        "row_counts",
    )
    fields = ("name", "user") + readonly_fields
    autocomplete_fields = ("user",)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if action_location != admin.ActionLocation.CHANGE_LIST:
            return actions
        for alias in routers.agent_databases():
            name = f"move_to_{alias}"
            description = f"Move the selected agents' tables to {alias}"
            actions[name] = Action(
                func=partial(AgentAdmin.move_to, alias=alias),
                name=name,
                description=description,
                plural_description=description,
                locations=[action_location],
            )
        return actions

    def move_to(self, request, queryset, *, alias):
        """Record each agent's move and leave it to the worker; the Move column shows how far it got."""
        for agent in queryset:
            try:
                move = moving.start_move(agent, alias)
            except (moving.MoveError, routers.UnknownAgentDatabase) as error:
                self.message_user(request, f"{agent}: {error}", messages.ERROR)
                continue
            audit.record("agent.move_started", actor=request.user, target=agent, request=request, to=alias)
            transaction.on_commit(partial(run_agent_move.enqueue, move.pk))
            self.message_user(
                request, f"{agent}: moving from {move.source} to {alias}; the Move column shows its step."
            )

    @admin.display(description="Move")
    def move_progress(self, obj):
        move = moving.current_move(obj) or obj.moves.first()
        if move is None:
            return "-"
        text = f"{move.source} → {move.target}: {move.get_step_display()}"
        return f"{text} (stopped: {move.error})" if move.error else text

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AgentCreationForm
            kwargs["fields"] = AgentCreationForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return AgentCreationForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            with transaction.atomic():
                stored = Agent.objects.select_related("user").get(pk=obj.pk)
                super().save_model(request, obj, form, change)
                changes = {
                    name: {"from": str(getattr(stored, name) or ""), "to": str(getattr(obj, name) or "")}
                    for name in form.changed_data
                }
                if changes:
                    audit.record("agent.changed", actor=request.user, target=obj, request=request, changes=changes)
            return
        created = provisioning.create_agent(
            created_by=request.user,
            user=obj.user,
            name=obj.name,
            database=form.cleaned_data["placement"] or None,
            request=request,
        )
        # The admin goes on with this instance (messages, redirect): make it the created agent.
        obj.__dict__.update(created.__dict__)
        obj._state.adding = False

    def delete_model(self, request, obj):
        provisioning.delete_agent(obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for agent in queryset:
                provisioning.delete_agent(agent, actor=request.user, request=request)

    def delete_view(self, request, object_id, extra_context=None):
        agent = self.get_object(request, object_id)
        if agent is not None:
            extra_context = {
                **(extra_context or {}),
                "agent_table_names": tables.table_names(agent.agent_prefix),
                "agent_row_counts": {
                    suffix.replace("_", " "): count for suffix, count in provisioning.row_counts(agent).items()
                },
            }
        return super().delete_view(request, object_id, extra_context)

    @admin.display(description="Tables")
    def table_status(self, obj):
        present = len(provisioning.existing_tables([obj])[obj.id])
        expected = len(tables.TABLES)
        if present == expected:
            return f"ok (version {obj.table_version})"
        return f"{present} of {expected} present"

    @admin.display(description="Rows")
    def row_counts(self, obj):
        counts = provisioning.row_counts(obj)
        if not counts:
            return "-"
        return ", ".join(f"{suffix.replace('_', ' ')}: {count}" for suffix, count in counts.items())


@admin.register(AgentMove)
class AgentMoveAdmin(ReadOnlyModelAdmin):
    """Moves of agents' tables, read-only: started from the agents' list, resumed with `manage.py move_agent`."""

    list_display = ("agent", "source", "target", "step", "error", "started_at", "updated_at", "finished_at")
    list_filter = ("step", "target")
    list_select_related = ("agent",)
    actions = ["resume"]

    @admin.action(description="Run the selected moves again from their recorded step")
    def resume(self, request, queryset):
        for move in queryset.exclude(step=AgentMove.Step.DONE):
            transaction.on_commit(partial(run_agent_move.enqueue, move.pk))
        self.message_user(request, "The moves not done go on in the background.")
