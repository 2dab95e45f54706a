"""The ticket deadline sweep (SPEC §6, issue #13): the periodic task and `manage.py run_deadlines` run this.

Every ticket carries one due time (tickets.due, kept by every transition). The sweep takes the tickets
whose due time has passed and that are not yet escalated at this stage, in batches, each batch locked with
`FOR UPDATE SKIP LOCKED` from the small partial index `ticket_deadline_sweep`: two sweeps at once take
different tickets, and a ticket a person is working on right now is left for the next run. Each ticket is
acted on through the ordinary services, in a savepoint of its batch, as the actor "system":

- the buyer's turn is over: the return never sent closes the ticket; the replacement's receipt is confirmed;
- the shop is late (review, refund, replacement, a logistics problem's first reply or resolution): the
  ticket is escalated, once per stage; a late refund is paid automatically where the policy says so
  (refunds subscribes to the escalation: the same finance path, so the refund is made once).

An action refused (the ticket's facts disagree with its due time) makes the system compute the due time
again and, if still due, escalate the ticket for a person: nothing is tried again and again. Any other
failure is logged and leaves that ticket for the next run; the rest go on.

Refunds stuck on their way to the gateway are the refunds part's own periodic task (refunds.tasks)."""

import contextvars
import logging
import threading
from collections import Counter
from datetime import datetime

from django.db import connection, transaction
from django.utils.translation import gettext_noop  # stored in English, shown translated

from aftersales import clock
from aftersales.errors import Contention, DomainError
from tickets import services
from tickets.due import DueKind
from tickets.models import Ticket

log = logging.getLogger(__name__)
BATCH = 200
# SQLite (the demo) has one writer at a time and a batch holds it from its first row to its commit: small
# batches there, so a request waits for a few tickets' worth of writing, not two hundred.
SQLITE_BATCH = 10

# What the command prints, in this order.
LABELS = ("closed", "auto_confirmed", "escalated_review", "escalated_refund", "auto_refunded",
          "escalated_replacement", "escalated_first_reply", "escalated_resolution", "refused", "failed")
RETURN_NOT_SENT = gettext_noop("The goods were not sent back before the return deadline.")


def due_now(now: datetime):
    """The tickets the sweep acts on at ``now``: due, and not escalated at this stage (the partial index)."""
    return Ticket.objects.filter(next_deadline_at__lt=now, escalated_at__isnull=True)


def run_deadlines(now: datetime | None = None, *, batch: int = BATCH, workers: int = 1) -> Counter:
    """Act on every ticket due at ``now`` (default: the clock's now); return how many of each were done.
    ``workers`` > 1 sweeps with that many threads, each on its own database connection, side by side as two
    sweeps would (the periodic task uses DEADLINE_SWEEP_WORKERS: the work is mostly waiting on the database)."""
    now = now or clock.now()
    if connection.vendor == "sqlite":
        batch = min(batch, SQLITE_BATCH)
    if workers <= 1 or connection.vendor != "postgresql":  # SQLite (the demo) has one writer at a time
        return _sweep(now, batch)
    results: list[Counter] = []

    def work():
        try:
            results.append(_sweep(now, batch))
        except Exception:
            log.exception("deadline sweep: a worker thread failed")
        finally:
            connection.close()

    # Each thread runs in a copy of this one's context: its log lines carry the task's request id, and its
    # connection, when it opens, the task's or the command's history context (aftersales.history_context).
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work,), name=f"deadline-sweep-{i}")
               for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(results, Counter())


def _sweep(now: datetime, batch: int) -> Counter:
    done: Counter = Counter()
    failed: set[int] = set()  # left for the next run, not retried in this one
    with clock.frozen_at(now):
        while True:
            refused_before = done["refused"]
            with transaction.atomic():
                # Each ticket with its order (the house's lock order is order, then ticket; SKIP LOCKED never
                # waits, so a ticket whose order another action holds is left for the next batch or run).
                taken = list(due_now(now).exclude(pk__in=failed).order_by("next_deadline_at")
                             .select_related("order").only("id", "next_deadline_kind", "order__id")
                             .select_for_update(skip_locked=True, of=("self", "order"))[:batch])
                for ticket in taken:
                    _act(ticket.pk, ticket.next_deadline_kind, done, failed)
            # A full batch may have more behind it; a refusal may have given a ticket a new due time.
            if len(taken) < batch and done["refused"] == refused_before:
                return done


def _act(pk: int, kind: str, done: Counter, failed: set[int]) -> None:
    try:
        done[_handle(pk, kind)] += 1
    except Contention:  # the database gave up on it for another's sake: the next run takes it again
        log.warning("deadline sweep: ticket %s (%s) was busy; left for the next run", pk, kind)
        failed.add(pk)
        done["busy"] += 1
    except DomainError as exc:  # the facts disagree with the due time: a person decides
        log.warning("deadline sweep: ticket %s (%s) refused: %s", pk, kind, exc.detail)
        try:
            services.recheck_deadline(ticket_id=pk)
            done["refused"] += 1
        except Exception:
            log.exception("deadline sweep: ticket %s could not be checked again", pk)
            failed.add(pk)
            done["failed"] += 1
    except Exception:  # each service ran in its own savepoint: the batch goes on
        log.exception("deadline sweep: ticket %s (%s) failed", pk, kind)
        failed.add(pk)
        done["failed"] += 1


def _handle(pk: int, kind: str) -> str:
    if kind == DueKind.RETURN:
        services.close_ticket(ticket_id=pk, reason=RETURN_NOT_SENT)
        return "closed"
    if kind == DueKind.CONFIRM:
        services.confirm_receipt(ticket_id=pk)
        return "auto_confirmed"
    ticket = services.escalate_ticket(ticket_id=pk, due_for=kind)
    if kind == DueKind.REFUND and ticket.refund_requested_at is not None:
        return "auto_refunded"
    return f"escalated_{kind}"
