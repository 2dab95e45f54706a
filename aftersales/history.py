"""History nobody can rewrite (django-pghistory and pgtrigger).

Every insert, update and delete of a tracked model, even from code that forgets or from raw SQL, is
copied by PostgreSQL into its *History table, with the context of the change: the user of the request,
the Celery task, or none at all ("raw SQL", aftersales.history_context). The history tables, the
timeline and the other append-only records refuse UPDATE and DELETE (row triggers) and TRUNCATE (a
statement trigger: row triggers do not fire on TRUNCATE). An operator who must empty a table (never in
production) says so first in the session: ``SET aftersales.allow_truncate = 'on'``; the test suite's
flush between tests does. On SQLite (the demo) no triggers run. Who made each change (pghistory's context
rows), the admin's log and the login log are append-only too (aftersales/migrations/0007_append_only_logs;
a logout may set its login's logout time, once), and so are the refund lines (refunds.models.RefundLine).

No session skips a trigger: pgtrigger would let any session name triggers to skip in the setting
``pgtrigger.ignore`` (any role may set it, the app's runtime role too), and each trigger asks one function
whether to; after every ``migrate`` (which reinstalls that function with each new trigger) it answers never
(refuse_trigger_bypass). The triggers themselves are the owner's: the app's runtime role cannot disable or drop
them (aftersales.db_roles)."""

import pghistory
import pgtrigger
from django.db import connections

ALLOW_TRUNCATE = "aftersales.allow_truncate"

# The function every pgtrigger trigger calls first (pgtrigger's own, in the schema PGTRIGGER_SCHEMA, "public"),
# made to answer "never" whatever ``pgtrigger.ignore`` says.
NEVER_IGNORE = """CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) RETURNS BOOLEAN AS $$
    BEGIN
        RETURN FALSE;  -- aftersales.history: no session skips a trigger
    END;
$$ LANGUAGE plpgsql"""


class RefuseTruncate(pgtrigger.Trigger):
    """TRUNCATE of the table is refused, unless the session allowed it (see the module's docstring)."""

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement

    def __init__(self, *, name: str = "no_truncate"):
        super().__init__(name=name)

    def get_func(self, model):
        return (f"IF current_setting('{ALLOW_TRUNCATE}', true) = 'on' THEN RETURN NULL; END IF; "
                "RAISE EXCEPTION 'aftersales: % is history and cannot be truncated', TG_TABLE_NAME; RETURN NULL;")


def append_only(name: str) -> list:
    """The triggers of an append-only table: no UPDATE, no DELETE, no TRUNCATE."""
    return [pgtrigger.Protect(name=name, operation=pgtrigger.Update | pgtrigger.Delete), RefuseTruncate()]


def tracked(model_name: str, *, inserts_only: bool = False):
    """Track a model's row changes in ``model_name`` (append-only, with the change's context); reachable
    as ``obj.history``.

    Trackers are built per model: pghistory binds each tracker to the model it tracks."""
    trackers = [pghistory.InsertEvent()]
    if not inserts_only:
        trackers += [pghistory.UpdateEvent(), pghistory.DeleteEvent()]
    return pghistory.track(
        *trackers,
        model_name=model_name,
        obj_field=pghistory.ObjForeignKey(related_name="history", db_constraint=False),
        append_only=True,
        meta={"triggers": [RefuseTruncate()]},
    )


def refuse_trigger_bypass(*, using: str, **kwargs) -> None:
    """After migrate (post_migrate): ``pgtrigger.ignore`` skips no trigger of this database."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(NEVER_IGNORE)
