"""Moving an agent's tables to another database of the shard map, step by step, safe to run again.

The steps (AgentMove.step): hold the agent's webhook events and sends and wait for those in flight;
copy its tables with COPY while the old ones are locked against writes; verify rows, sums and a digest
per table; switch `agents.database`; drop the old tables; release what was held. A run stopped anywhere
resumes from its recorded step: before the switch it copies again from the start, after it it finishes.
"""

import copy
import time

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from crm import rls, routers

from . import provisioning, tables
from .models import Agent, AgentMove
from .signals import agent_move_released, agent_move_waiting

Step = AgentMove.Step
# Money columns summed by the verification, per table suffix (beside rows, ids and a digest of every row).
AMOUNTS = {"orders": "total_amount", "orders_items": "total"}


# pg_advisory_xact_lock_shared(MOVE_LOCK, agent id) is held by each intake transaction that may write to
# the agent's tables; a move takes it exclusively once, to wait for them (agents/provisioning.py has its own).
MOVE_LOCK = 0x6D6F7600  # "mov\0"


class MoveError(Exception):
    pass


def held_agents(agents):
    """The ids of the `agents` whose events and sends a move holds; the others' `database` brought up to date.

    Holds a shared advisory lock per agent (MOVE_LOCK) until the caller's transaction on the core database
    ends: a move waits for that transaction before it copies anything. An advisory lock, not a row lock:
    it writes nothing, and the intake takes it for every batch.
    """
    by_id = {}
    for agent in agents:
        by_id.setdefault(agent.pk, []).append(agent)
    if not by_id:
        return set()
    connection = connections[routers.CORE_DATABASE]
    if connection.vendor != "postgresql":
        return set(_unfinished(list(by_id)))
    # Unrestricted: the intake's routing works for every agent, and the webhook's request for none.
    with rls.unrestricted(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.database, pg_advisory_xact_lock_shared(%s, (a.id %% 2147483648)::int) IS NULL, "
            "EXISTS (SELECT 1 FROM agent_moves m WHERE m.agent_id = a.id AND m.finished_at IS NULL) "
            "FROM agents a WHERE a.id = ANY(%s) ORDER BY a.id",
            [MOVE_LOCK, sorted(by_id)],
        )
        held = set()
        for agent_id, database, _, moving in cursor.fetchall():
            for agent in by_id[agent_id]:
                agent.database = database
            if moving:
                held.add(agent_id)
    return held


def _unfinished(agent_ids):
    with rls.unrestricted():
        return AgentMove.objects.filter(agent_id__in=agent_ids, finished_at__isnull=True).values_list(
            "agent_id", flat=True
        )


def is_held(agent_id):
    """Whether a move holds the agent's sends right now (checked after a send is claimed)."""
    return AgentMove.objects.filter(agent_id=agent_id, finished_at__isnull=True).exists()


def current_move(agent):
    """The agent's move that has not reached DONE, or None."""
    return AgentMove.objects.filter(agent=agent).exclude(step=Step.DONE).first()


def start_move(agent, target):
    """Record a move of `agent` to `target` (or return the one already under way to it); it holds at once."""
    routers.check_agent_database(target)
    under_way = current_move(agent)
    if under_way is not None:
        if under_way.target != target:
            raise MoveError(f"{agent.agent_prefix} is already moving to {under_way.target}; run that move again first.")
        return under_way
    if agent.database == target:
        raise MoveError(f"{agent.agent_prefix} already lives on {target}.")
    for alias in (agent.database, target):
        if connections[alias].vendor != "postgresql":
            raise MoveError(f"moving agents needs PostgreSQL; {alias} is {connections[alias].vendor}.")
    if agent.table_version != tables.CURRENT_VERSION:
        raise MoveError(
            f"{agent.agent_prefix} has tables of version {agent.table_version}, not {tables.CURRENT_VERSION}: "
            "run `manage.py upgrade_agent_tables` first."
        )
    return AgentMove.objects.create(agent=agent, source=agent.database, target=target)


def move_agent(move, *, after_step=None):
    """Run `move` from its recorded step to DONE; returns it. `after_step(move)` runs after each recorded
    step (the tests crash the move there)."""
    done = after_step or (lambda move: None)
    with rls.unrestricted():
        try:
            if move.step == Step.HOLDING:
                _wait_for_work_in_flight(move)
                _record(move, Step.HELD)
                done(move)
            if move.step in (Step.HELD, Step.COPIED, Step.VERIFIED):
                _copy_verify_switch(move, done)
            if move.step == Step.SWITCHED:
                _drop(_at(move.agent, move.source))
                _record(move, Step.DROPPED, finished_at=timezone.now())
                done(move)
            if move.step == Step.DROPPED:
                agent_move_released.send(sender=AgentMove, agent=Agent.objects.get(pk=move.agent_id))
                _record(move, Step.DONE, error="")
                done(move)
        except MoveError as error:
            AgentMove.objects.filter(pk=move.pk).update(error=str(error), updated_at=timezone.now())
            raise
    return move


def _record(move, step, **fields):
    move.step = step
    for name, value in fields.items():
        setattr(move, name, value)
    move.save(update_fields=["step", "updated_at", *fields])


def _wait_for_work_in_flight(move):
    """Wait for the intake transactions that saw no move (they hold MOVE_LOCK shared) and for
    sends claimed before the hold (the apps above say which, through agent_move_waiting)."""
    connection = connections[routers.CORE_DATABASE]
    with transaction.atomic(using=routers.CORE_DATABASE), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MOVE_LOCK, move.agent_id % 2**31])
    agent = Agent.objects.get(pk=move.agent_id)
    deadline = time.monotonic() + settings.AGENT_MOVE_WAIT_SECONDS
    while True:
        busy = [answer for _, answer in agent_move_waiting.send(sender=AgentMove, agent=agent) if answer]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise MoveError(f"still in flight after {settings.AGENT_MOVE_WAIT_SECONDS:g} s: {'; '.join(busy)}")
        time.sleep(0.1)


def _at(agent, database):
    """The agent as if its tables lived on `database` (for provisioning on the target, dropping the source)."""
    twin = copy.copy(agent)
    twin.database = database
    return twin


def _copy_verify_switch(move, done):
    """Copy, verify, drop and switch while the old tables accept reads only (one transaction on the source)."""
    agent = Agent.objects.get(pk=move.agent_id)
    source, target = _at(agent, move.source), _at(agent, move.target)
    names = tables.table_names(agent.agent_prefix)
    with transaction.atomic(using=move.source):
        with connections[move.source].cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(names)} IN EXCLUSIVE MODE")
            # A statement that reads rows puts the row scope (crm/rls.py) on this transaction: the COPY
            # below goes to psycopg directly, around the wrapper that would.
            cursor.execute("SELECT 1")
        _copy(source, target)
        _record(move, Step.COPIED)
        done(move)
        figures = {suffix: [_figures(source, suffix), _figures(target, suffix)] for suffix in _classes(agent)}
        different = [suffix for suffix, (old, new) in figures.items() if old != new]
        if different:
            _drop(target)  # an untrusted copy; a later run copies afresh
            raise MoveError(f"the copy differs from the original in {', '.join(different)}: nothing was switched")
        _record(move, Step.VERIFIED, verified_figures=figures)
        done(move)
        # Dropped first, in the transaction that still holds the copy's lock: the drop commits with the switch
        # when both are on one database, after it otherwise. (On the core database, dropping the foreign key
        # to `agents` locks that table: taken before the agent's row, as the intake takes them.)
        _drop(source)
        with transaction.atomic(using=routers.CORE_DATABASE):
            if not Agent.objects.filter(pk=agent.pk, database=move.source).update(database=move.target):
                raise MoveError(f"{agent.agent_prefix} no longer lives on {move.source}: nothing was switched")
            _record(move, Step.SWITCHED)
        tables.cache.discard(agent.id)
        done(move)
    _record(move, Step.DROPPED, finished_at=timezone.now())
    done(move)


def _copy(source, target):
    """The agent's tables on the target, fresh (a copy left by an earlier run is dropped first), filled with
    COPY in binary, then their sequences set past the copied ids and their row security put back."""
    with transaction.atomic(using=target.database):
        _drop(target)
        provisioning.provision_agent_tables(target)
        out, into = connections[source.database], connections[target.database]
        models = list(_classes(source).values())
        with into.cursor() as cursor:
            for model in models:
                # COPY FROM refuses a table under row security; the policies are put back below.
                cursor.execute(f"ALTER TABLE {model._meta.db_table} DISABLE ROW LEVEL SECURITY")
        for model in models:
            columns = ", ".join(field.column for field in model._meta.concrete_fields)
            table = model._meta.db_table
            with (
                out.connection.cursor() as reading,
                into.connection.cursor() as writing,
                reading.copy(f"COPY {table} ({columns}) TO STDOUT (FORMAT BINARY)") as rows_out,
                writing.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as rows_in,
            ):
                for block in rows_out:
                    rows_in.write(block)
        with into.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {table}"
                )
            for sql in provisioning.row_security_sql(into, target, [m._meta.db_table for m in models]):
                cursor.execute(sql)
            for model in models:
                # Fresh tables have no statistics: without them the planner guesses the agent's queries.
                cursor.execute(f"ANALYZE {model._meta.db_table}")


def _classes(agent):
    """{table suffix: class} of the agent's tables on the database `agent.database` names."""
    built = tables.build(agent.id, agent.agent_prefix, database=agent.database).classes
    return {spec.suffix: built[spec.model_name] for spec in tables.TABLES}


def _figures(agent, suffix):
    """[rows, sum of ids, sum of the money column, a digest of every row] of one table.

    The digest adds up the first 64 bits of each row's md5 (wrapping numeric, not bigint): constant
    memory whatever the table's size, and any changed, missing or extra row changes it.
    """
    model = _classes(agent)[suffix]
    columns = ", ".join(field.column for field in model._meta.concrete_fields)
    amount = f"SUM({AMOUNTS[suffix]})::text" if suffix in AMOUNTS else "''"
    digest = f"SUM(('x' || substr(md5(ROW({columns})::text), 1, 16))::bit(64)::bigint::numeric)"
    with connections[agent.database].cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(id), 0)::text, COALESCE({amount}, '0'), COALESCE({digest}, 0)::text "
            f"FROM {model._meta.db_table}"
        )
        return list(cursor.fetchone())


def _drop(agent):
    provisioning.drop_agent_tables(agent)


def shard_report():
    """Per database of the shard map: its agents, the rows in their tables (PostgreSQL's estimate) and their
    size on disk (pg_total_relation_size), and a suggestion for rebalancing."""
    report = []
    for alias in routers.agent_databases():
        prefixes = list(
            Agent.objects.filter(database=alias, table_version__gt=0).values_list("agent_prefix", flat=True)
        )
        sizes = _sizes(alias, prefixes)
        report.append(
            {
                "database": alias,
                "agents": len(prefixes),
                "rows": sum(rows for rows, _ in sizes.values()) if sizes is not None else None,
                "bytes": sum(size for _, size in sizes.values()) if sizes is not None else None,
                "sizes": sizes,
            }
        )
    return report, _suggestion(report)


def _sizes(alias, prefixes):
    """{agent prefix: (rows, bytes)} of the agents `prefixes` on `alias`; None where it cannot be measured."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substring(relname from '^(agt_[0-9]+)_') AS prefix, "
            "SUM(GREATEST(reltuples, 0))::bigint, SUM(pg_total_relation_size(oid))::bigint "
            "FROM pg_class WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace "
            "AND substring(relname from '^(agt_[0-9]+)_') = ANY(%s) GROUP BY 1",
            [prefixes],
        )
        return {prefix: (rows, size) for prefix, rows, size in cursor.fetchall()}


def _suggestion(report):
    measured = [entry for entry in report if entry["bytes"] is not None]
    if len(measured) < 2:
        return "Only one database holds agents: add one to AGENT_DATABASES before rebalancing."
    fullest = max(measured, key=lambda entry: entry["bytes"])
    emptiest = min(measured, key=lambda entry: entry["bytes"])
    if fullest["bytes"] <= 1.5 * max(emptiest["bytes"], 1) and fullest["bytes"] - emptiest["bytes"] < 100 * 2**20:
        return "Balanced: no database holds much more than another."
    gap = (fullest["bytes"] - emptiest["bytes"]) / 2
    moving, moved = [], 0
    for prefix, (_, size) in sorted(fullest["sizes"].items(), key=lambda item: -item[1][1]):
        if moved + size > gap:
            continue
        moving.append(prefix)
        moved += size
        if moved >= gap * 0.8:
            break
    if not moving:
        return f"{fullest['database']} holds the most, but no agent of it is small enough to even the two out."
    return (
        f"Move {', '.join(moving)} from {fullest['database']} to {emptiest['database']} "
        f"(about {moved / 2**20:.1f} MB), e.g. `manage.py move_agent {moving[0]} --to {emptiest['database']}`, "
        f"and take {fullest['database']} out of NEW_AGENT_DATABASES while it is the fullest."
    )
