"""PostgreSQL as in production, except that each test connection allows TRUNCATE of the history tables:
pytest-django's flush between transactional tests empties every table with one TRUNCATE, which the
history tables refuse otherwise (aftersales.history). Tests of that refusal switch it off again with
SET LOCAL inside their transaction."""

from django.db.backends.postgresql import base

from aftersales.history import ALLOW_TRUNCATE


class DatabaseWrapper(base.DatabaseWrapper):
    def init_connection_state(self):
        super().init_connection_state()
        with self.connection.cursor() as cursor:
            cursor.execute(f"SET {ALLOW_TRUNCATE} = 'on'")
