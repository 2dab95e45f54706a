"""Who made a change, and who logged in, cannot be rewritten (issue #19, finding 6; docs/design.md "History nobody
can rewrite"). Three tables of other packages become append-only like the project's own history:

- pghistory_context: the actor of every history row. pghistory only inserts it (its upsert updates a row only
  when the same context id comes back with other metadata; aftersales.history_context takes a new id for every
  new metadata), so UPDATE and DELETE are refused.
- django_admin_log: the admin's record of who changed what. Django only inserts it: refused UPDATE and DELETE
  (a user with entries can no longer be deleted, aftersales.staff_admin says so before trying).
- axes_accesslog: the successful logins. django-axes inserts a row at login and sets its logout_time once, at
  logout: that one change is let through, nothing else (no DELETE, so `axes_reset_logs` is refused too).

TRUNCATE is refused on all three by a statement trigger that honours `aftersales.allow_truncate`, like the
others (aftersales.history). These triggers are plain SQL, not pgtrigger's: no session setting skips them.
Nothing on SQLite (the demo)."""

from django.db import migrations

REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION aftersales_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'aftersales: % is history: % refused', TG_TABLE_NAME, TG_OP;
END $$;

CREATE OR REPLACE FUNCTION aftersales_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('aftersales.allow_truncate', true) = 'on' THEN RETURN NULL; END IF;
    RAISE EXCEPTION 'aftersales: % is history and cannot be truncated', TG_TABLE_NAME;
END $$;

-- A login's row may be given its logout time once; nothing else of it changes, and it is never deleted.
CREATE OR REPLACE FUNCTION aftersales_access_log_logout_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.logout_time IS NULL AND NEW.logout_time IS NOT NULL
       AND to_jsonb(NEW) - 'logout_time' = to_jsonb(OLD) - 'logout_time' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'aftersales: % is history: % refused (only a logout time may be set, once)', TG_TABLE_NAME, TG_OP;
END $$;
"""

TRIGGERS = {  # table: the row trigger's function
    "pghistory_context": "aftersales_refuse_change",
    "django_admin_log": "aftersales_refuse_change",
    "axes_accesslog": "aftersales_access_log_logout_only",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_CHANGE, params=None)  # '%' is RAISE's, not a placeholder
    for table, function in TRIGGERS.items():
        schema_editor.execute(f"""
            CREATE TRIGGER aftersales_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {function}();
            CREATE TRIGGER aftersales_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION aftersales_refuse_truncate();""", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS aftersales_append_only ON {table};"
                              f"DROP TRIGGER IF EXISTS aftersales_no_truncate ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS aftersales_refuse_change(), aftersales_refuse_truncate(),"
                          " aftersales_access_log_logout_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0006_knox_tokens"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("axes", "0010_accessattemptexpiration"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
