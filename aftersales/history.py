"""Trigger-based row history (django-pghistory): every insert, update and delete, even from code
that forgets, is copied by PostgreSQL into a *History table. On SQLite (the demo) no triggers run."""

import pghistory


def tracked(model_name: str, *, inserts_only: bool = False):
    """Track a model's row changes in ``model_name``; reachable as ``obj.history``.

    Trackers are built per model: pghistory binds each tracker to the model it tracks."""
    trackers = [pghistory.InsertEvent()]
    if not inserts_only:
        trackers += [pghistory.UpdateEvent(), pghistory.DeleteEvent()]
    return pghistory.track(
        *trackers,
        model_name=model_name,
        obj_field=pghistory.ObjForeignKey(related_name="history", db_constraint=False),
    )
