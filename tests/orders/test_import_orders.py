"""manage.py import_orders FILE (API.md "Operations"): good lines import, each bad line is refused by its
line number and the field at fault, nothing of a refused order is kept, re-import upserts."""

import datetime as dt
import io
import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from aftersales import clock
from orders.models import Buyer, Order, OrderLine, Shop
from tests.factories import UserFactory, submit
from tickets import services

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
REFUSED = re.compile(r"^refused line (\d+)\b(.*)$")


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()


def line(line_id: str, **changes) -> dict:
    data = {"line_id": line_id, "sku": "APL-10", "product_name": "Apples x10", "product_code": "P-APL",
            "category": "fresh", "unit_price": "5.00", "quantity": 10}
    data.update(changes)
    return data


def record(order_no: str = "SO1001", *, shop: str = "S1", account: str = "alice", lines=None, **changes) -> dict:
    """The API.md example order, delivered a day ago (relative to the clock): 10 apples at 5.00, shipping
    10.00, coupon 5.00, amount paid 55.00; no paid_amount on the line."""
    now = clock.now()
    data = {"order_no": order_no, "shop": {"code": shop, "name": f"Farm {shop}"},
            "buyer": {"account": account, "level": 2, "address": "8 Garden Lane"},
            "status": "delivered", "placed_at": iso(now - dt.timedelta(days=3)),
            "paid_at": iso(now - dt.timedelta(days=3)), "shipped_at": iso(now - dt.timedelta(days=2)),
            "delivered_at": iso(now - dt.timedelta(days=1)),
            "shipping_fee": "10.00", "coupon_discount": "5.00", "virtual_currency": "0.00", "amount_paid": "55.00",
            "lines": lines if lines is not None else [line(f"{order_no}-1")]}
    data.update(changes)
    return data


def write_jsonl(path, items) -> str:
    """One file line per item: a dict is dumped as JSON, str and bytes are written as they are."""
    chunks = []
    for item in items:
        if isinstance(item, dict):
            item = json.dumps(item)
        chunks.append(item if isinstance(item, bytes) else item.encode("utf-8"))
    path.write_bytes(b"\n".join(chunks) + b"\n")
    return str(path)


def run_import(path: str) -> tuple[str, dict[int, str]]:
    """Run the command; return its summary line and the refusals by file line number."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_orders", path, stdout=out, stderr=err)
    refusals = {}
    for text in err.getvalue().splitlines():
        match = REFUSED.match(text)
        assert match, f"unexpected output on stderr: {text!r}"
        assert int(match[1]) not in refusals, f"line {match[1]} reported twice"
        refusals[int(match[1])] = match[2]
    return out.getvalue().strip(), refusals


def snapshot() -> tuple:
    return (Order.objects.count(), OrderLine.objects.count(), Shop.objects.count(), Buyer.objects.count(),
            get_user_model().objects.count())


def test_a_mixed_file_imports_the_good_orders_and_reports_each_bad_line_by_number_and_field(tmp_path):
    mixed_paid = record("SO7", shop="S7", account="buyer7",
                        lines=[line("SO7-1", paid_amount="20.00"), line("SO7-2", sku="PEAR")])
    path = write_jsonl(tmp_path / "orders.jsonl", [
        record("SO1"),                                                                       # 1 good
        '{"order_no": "SO2", "shop": {"code": "S2"',                                         # 2 malformed
        {k: v for k, v in record("SO3", shop="S3", account="buyer3").items() if k != "placed_at"},  # 3 missing
        record("SO4", shop="S4", account="buyer4", lines=[line("SO4-1", unit_price="-1.00")]),  # 4 negative
        record("SO5", shop="S5", account="buyer5", lines=[line("SO5-1", product_name="x" * 201)]),  # 5 too long
        record("SO6", shop="S6", account="buyer6", lines=[line("SO6-1", quantity="3")]),      # 6 wrong type
        mixed_paid,                                                                          # 7 some paid_amount
        "",                                                                                  # 8 blank: skipped
        record("SO9", shop="S9", account="bob", amount_paid="40.00", shipping_fee="0.00", coupon_discount="20.00",
               lines=[line("SO9-1", paid_amount="30.00"), line("SO9-2", sku="PEAR", quantity=2,
                                                               paid_amount="10.00")]),       # 9 good
        # 10: valid on its own, but its line_id belongs to SO1: refused after its shop and buyer were written.
        record("SO10", shop="S10", account="buyer10", lines=[line("SO1-1")]),
    ])

    summary, refusals = run_import(path)

    assert summary == "2 created, 0 updated, 7 refused"
    assert sorted(refusals) == [2, 3, 4, 5, 6, 7, 10]
    assert "malformed JSON" in refusals[2]
    assert refusals[3].startswith(" (SO3): placed_at: ")
    assert refusals[4].startswith(" (SO4): lines.0.unit_price: ")
    assert refusals[5].startswith(" (SO5): lines.0.product_name: ") and "200" in refusals[5]
    assert refusals[6].startswith(" (SO6): lines.0.quantity: ")
    assert refusals[7].startswith(" (SO7): lines.1.paid_amount: ")
    assert refusals[10].startswith(" (SO10): lines.0.line_id: ")
    assert set(Order.objects.values_list("order_no", flat=True)) == {"SO1", "SO9"}
    assert set(OrderLine.objects.values_list("line_id", flat=True)) == {"SO1-1", "SO9-1", "SO9-2"}
    assert set(Shop.objects.values_list("code", flat=True)) == {"S1", "S9"}
    assert set(Buyer.objects.values_list("account", flat=True)) == {"alice", "bob"}
    assert set(get_user_model().objects.values_list("username", flat=True)) == {"alice", "bob"}
    so9 = Order.objects.get(order_no="SO9")
    assert [(ln.line_id, ln.paid_amount) for ln in so9.lines.all()] == [
        ("SO9-1", Decimal("30.00")), ("SO9-2", Decimal("10.00"))]
    assert (so9.goods_amount, so9.amount_paid) == (Decimal("60.00"), Decimal("40.00"))


def test_the_summary_line_counts_the_refused_lines_the_blank_line_is_not_one(tmp_path):
    """The summary's "refused" equals the refusals listed (the blank line in the middle is neither)."""
    path = write_jsonl(tmp_path / "orders.jsonl", ["not json", "", record("SO1"), "[1, 2]"])

    summary, refusals = run_import(path)

    assert summary == "1 created, 0 updated, 2 refused"
    assert sorted(refusals) == [1, 4]
    assert refusals[4].startswith(": order: ")


def test_reimport_updates_by_order_no_and_counts_as_updated(tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", [record("SO1"), record("SO2", lines=[line("SO2-1")])])
    assert run_import(first) == ("2 created, 0 updated, 0 refused", {})
    order_pk = Order.objects.get(order_no="SO1").pk

    changed = record("SO1", shop="S1", amount_paid="50.00", coupon_discount="10.00",
                     lines=[line("SO1-1", product_name="Apples, ten", quantity=10),
                            line("SO1-2", sku="PEAR", unit_price="2.50", quantity=4)])
    second = write_jsonl(tmp_path / "second.jsonl", [changed, record("SO3", lines=[line("SO3-1")])])

    assert run_import(second) == ("1 created, 1 updated, 0 refused", {})
    order = Order.objects.get(order_no="SO1")
    assert order.pk == order_pk
    assert Order.objects.count() == 3
    assert (order.goods_amount, order.amount_paid, order.coupon_discount) == (
        Decimal("60.00"), Decimal("50.00"), Decimal("10.00"))
    # 40.00 of goods paid over goods of 50.00 and 10.00: 33.33 and 6.67, exactly 40.00 together.
    assert [(ln.line_id, ln.product_name, ln.paid_amount) for ln in order.lines.all()] == [
        ("SO1-1", "Apples, ten", Decimal("33.33")), ("SO1-2", "Apples x10", Decimal("6.67"))]


def test_reimport_of_the_same_file_changes_nothing_but_the_counts(tmp_path):
    path = write_jsonl(tmp_path / "orders.jsonl", [record("SO1"), "oops"])
    run_import(path)
    before = list(OrderLine.objects.values_list("pk", "line_id", "quantity", "paid_amount"))

    assert run_import(path)[0] == "0 created, 1 updated, 1 refused"
    assert list(OrderLine.objects.values_list("pk", "line_id", "quantity", "paid_amount")) == before
    assert snapshot() == (1, 1, 1, 1, 1)


def test_the_api_example_order_pays_45_for_its_line_after_shipping_and_coupon(tmp_path):
    run_import(write_jsonl(tmp_path / "orders.jsonl", [record("SO1001")]))

    order = Order.objects.get(order_no="SO1001")
    assert (order.goods_amount, order.shipping_fee, order.coupon_discount, order.amount_paid) == (
        Decimal("50.00"), Decimal("10.00"), Decimal("5.00"), Decimal("55.00"))
    assert order.lines.get().paid_amount == Decimal("45.00")
    assert order.buyer.user.username == "alice"
    assert not order.buyer.user.has_usable_password()


@pytest.mark.parametrize(("values", "goods_paid", "expected"), [
    # three equal lines share 20.00: the cent left over goes to the first
    ([("10.00", 1), ("10.00", 1), ("10.00", 1)], "20.00", ["6.67", "6.67", "6.66"]),
    # 28.01 over 19.99, 15.03 and a free line: 1598.86 and 1202.14 cents exactly, the larger remainder
    # takes the spare cent; the free line gets nothing
    ([("19.99", 1), ("5.01", 3), ("0.00", 2)], "28.01", ["15.99", "12.02", "0.00"]),
    # no discount at all: each line pays its price
    ([("1.99", 3), ("0.01", 1)], "5.98", ["5.97", "0.01"]),
])
def test_without_paid_amount_discounts_are_allocated_over_lines_exactly_to_the_cent(
        tmp_path, values, goods_paid, expected):
    lines = [line(f"SO1-{i}", sku=f"SKU{i}", unit_price=price, quantity=qty)
             for i, (price, qty) in enumerate(values)]
    goods = sum(Decimal(p) * q for p, q in values)
    data = record("SO1", lines=lines, shipping_fee="6.00", coupon_discount=str(goods - Decimal(goods_paid)),
                  amount_paid=str(Decimal(goods_paid) + Decimal("6.00")))

    assert run_import(write_jsonl(tmp_path / "o.jsonl", [data])) == ("1 created, 0 updated, 0 refused", {})

    paid = [ln.paid_amount for ln in Order.objects.get(order_no="SO1").lines.order_by("line_id")]
    assert paid == [Decimal(x) for x in expected]
    assert sum(paid) == Decimal(goods_paid)


def bad(field_path: str, value):
    """A change to the example order that puts ``value`` at ``field_path`` (dots; digits index lists)."""
    def mutate(data):
        *parents, last = field_path.split(".")
        target = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
        return data
    return mutate


BAD_RECORDS = [  # (case, where the bad value goes, the value, the field the refusal names)
    ("order_no missing", "order_no", None, "order_no"),
    ("order_no too long", "order_no", "X" * 65, "order_no"),
    ("shop is not an object", "shop", "S1", "shop"),
    ("shop.name", "shop.name", "", "shop.name"),
    ("buyer.level", "buyer.level", 101, "buyer.level"),
    ("status", "status", "lost", "status"),
    ("placed_at without offset", "placed_at", "2026-11-20T10:00:00", "placed_at"),
    ("placed_at not a date", "placed_at", "yesterday", "placed_at"),
    ("placed_at an impossible date", "placed_at", "2026-02-30T10:00:00+08:00", "placed_at"),
    ("placed_at before year 1 in UTC", "placed_at", "0001-01-01T00:00:00+08:00", "placed_at"),
    ("delivered_at after year 9999 in UTC", "delivered_at", "9999-12-31T23:59:59-08:00", "delivered_at"),
    ("delivered without delivered_at", "delivered_at", None, "delivered_at"),
    ("shipping_fee float", "shipping_fee", 10.5, "shipping_fee"),
    ("shipping_fee three decimals", "shipping_fee", "10.005", "shipping_fee"),
    ("amount_paid NaN", "amount_paid", "NaN", "amount_paid"),
    ("amount_paid above the goods", "amount_paid", "60.01", "amount_paid"),
    ("amount_paid below shipping", "amount_paid", "9.99", "amount_paid"),
    ("lines empty", "lines", [], "lines"),
    ("lines.0.category", "lines.0.category", "frozen", "lines.0.category"),
    ("lines.0.quantity zero", "lines.0.quantity", 0, "lines.0.quantity"),
    ("lines.0.quantity bool", "lines.0.quantity", True, "lines.0.quantity"),
    ("lines.0.unit_price huge exponent", "lines.0.unit_price", "1e30", "lines.0.unit_price"),
    ("lines.0.unit_price huge integer", "lines.0.unit_price", 10**30, "lines.0.unit_price"),
    ("lines.0.product_name with NUL", "lines.0.product_name", "Apples\x00", "lines.0.product_name"),
    ("lines.0.product_name lone surrogate", "lines.0.product_name", "Apples \ud800", "lines.0.product_name"),
    ("lines.0.paid_amount not adding up", "lines.0.paid_amount", "45.01", "lines"),
]


@pytest.mark.parametrize(("case", "where", "value", "field"), BAD_RECORDS, ids=[c[0] for c in BAD_RECORDS])
def test_a_bad_record_is_refused_naming_its_field_and_the_next_line_still_imports(tmp_path, case, where, value,
                                                                                    field):
    data = bad(where, value)(record("SO1", shop="S-BAD", account="mallory"))
    path = write_jsonl(tmp_path / "orders.jsonl", [data, record("SO2", lines=[line("SO2-1")])])

    summary, refusals = run_import(path)

    assert summary == "1 created, 0 updated, 1 refused"
    assert list(refusals) == [1]
    assert re.match(rf"(?: \(.*\))?: {re.escape(field)}: \S", refusals[1]), refusals[1]
    assert list(Order.objects.values_list("order_no", flat=True)) == ["SO2"]
    assert not Shop.objects.filter(code="S-BAD").exists()
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_a_line_paid_more_than_its_price_is_refused_even_when_the_lines_add_up(tmp_path):
    data = record("SO1", amount_paid="100.00", coupon_discount="0.00",
                  lines=[line("SO1-1", paid_amount="50.01"), line("SO1-2", sku="PEAR", paid_amount="39.99")])

    summary, refusals = run_import(write_jsonl(tmp_path / "o.jsonl", [data]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): lines.0.paid_amount: ")
    assert snapshot() == (0, 0, 0, 0, 0)


def test_line_ids_twice_in_one_order_are_refused(tmp_path):
    data = record("SO1", lines=[line("SO1-1"), line("SO1-1", sku="PEAR")])

    summary, refusals = run_import(write_jsonl(tmp_path / "o.jsonl", [data]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): lines.1.line_id: ")
    assert snapshot() == (0, 0, 0, 0, 0)


def test_a_goods_total_beyond_what_amounts_can_hold_is_refused_not_a_crash(tmp_path):
    huge = record("SO1", amount_paid="10.00", coupon_discount="0.00",
                  lines=[line("SO1-1", unit_price="9999999999.99", quantity=1000, paid_amount="0.00")])

    summary, refusals = run_import(write_jsonl(tmp_path / "o.jsonl", [huge, record("SO2", lines=[line("SO2-1")])]))

    assert summary == "1 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): lines")
    assert not Order.objects.filter(order_no="SO1").exists()


def test_a_line_that_is_not_utf8_is_refused_and_the_rest_import(tmp_path):
    broken = json.dumps(record("SO1")).encode().replace(b"Apples x10", b"Apples \xff\xfe")
    path = write_jsonl(tmp_path / "orders.jsonl", [broken, record("SO2", lines=[line("SO2-1")])])

    summary, refusals = run_import(path)

    assert summary == "1 created, 0 updated, 1 refused"
    assert list(refusals) == [1]
    assert list(Order.objects.values_list("order_no", flat=True)) == ["SO2"]


def test_an_account_of_a_staff_user_is_refused_as_a_buyer(tmp_path, ops_user):
    summary, refusals = run_import(write_jsonl(tmp_path / "o.jsonl", [record("SO1", account=ops_user.username)]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): buyer.account: ")
    assert not Buyer.objects.exists()


@pytest.mark.parametrize("role", ["ops", "finance", "warehouse", "service"])
def test_an_account_of_a_role_user_not_marked_staff_is_refused_as_a_buyer(tmp_path, role):
    """Role users are group-only (docs/design.md): their group, not is_staff, makes them staff."""
    user = UserFactory(username=f"{role}-only", groups=[role])

    summary, refusals = run_import(write_jsonl(tmp_path / "o.jsonl", [record("SO1", account=user.username)]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): buyer.account: ")
    assert not Buyer.objects.exists()


def test_an_order_keeps_its_buyer_on_reimport(tmp_path):
    run_import(write_jsonl(tmp_path / "a.jsonl", [record("SO1")]))

    summary, refusals = run_import(write_jsonl(tmp_path / "b.jsonl", [record("SO1", account="eve")]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): buyer.account: ")
    assert Order.objects.get().buyer.account == "alice"
    assert not Buyer.objects.filter(account="eve").exists()
    assert not get_user_model().objects.filter(username="eve").exists()


# --- lines under claim ------------------------------------------------------------------------------

def claimed_order(tmp_path):
    """SO1 imported: 10 general-goods units paid 45.00 (4.50 each), delivered a day ago; 4 units claimed."""
    run_import(write_jsonl(tmp_path / "first.jsonl", [record("SO1", lines=[line("SO1-1", category="general")])]))
    order = Order.objects.get(order_no="SO1")
    ticket = submit(order, type="return_refund", reason_code="quality_issue", lines=[(0, 4)])
    assert ticket.lines.get().refund_amount == Decimal("18.00")
    return order


def test_an_update_shrinking_a_claimed_line_below_its_claimed_units_is_refused_for_that_line(tmp_path):
    order = claimed_order(tmp_path)
    shrunk = record("SO1", amount_paid="23.50", coupon_discount="1.50",
                    lines=[line("SO1-1", category="general", quantity=3)])
    other = record("SO2", lines=[line("SO2-1")])

    summary, refusals = run_import(write_jsonl(tmp_path / "second.jsonl", [shrunk, other]))

    assert summary == "1 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): lines.0.quantity: ")
    assert "claim 4 units" in refusals[1]
    kept = OrderLine.objects.get(line_id="SO1-1")
    assert (kept.quantity, kept.paid_amount) == (10, Decimal("45.00"))
    order.refresh_from_db()
    assert order.amount_paid == Decimal("55.00")


def test_an_update_shrinking_a_claimed_lines_paid_amount_below_its_claim_is_refused(tmp_path):
    claimed_order(tmp_path)
    # Same 10 units, but only 17.99 paid for them now: less than the 18.00 the ticket claims.
    cheaper = record("SO1", amount_paid="27.99", coupon_discount="32.01",
                     lines=[line("SO1-1", category="general", quantity=10)])

    summary, refusals = run_import(write_jsonl(tmp_path / "second.jsonl", [cheaper]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert refusals[1].startswith(" (SO1): lines.0.paid_amount: ")
    assert "18.00" in refusals[1]
    assert OrderLine.objects.get(line_id="SO1-1").paid_amount == Decimal("45.00")


def test_an_update_down_to_exactly_what_is_claimed_is_accepted(tmp_path):
    claimed_order(tmp_path)
    exact = record("SO1", amount_paid="28.00", coupon_discount="2.00",
                   lines=[line("SO1-1", category="general", quantity=4)])

    assert run_import(write_jsonl(tmp_path / "second.jsonl", [exact])) == ("0 created, 1 updated, 0 refused", {})
    kept = OrderLine.objects.get(line_id="SO1-1")
    assert (kept.quantity, kept.paid_amount) == (4, Decimal("18.00"))


def test_an_update_dropping_a_claimed_line_is_refused(tmp_path):
    claimed_order(tmp_path)
    without = record("SO1", amount_paid="35.00", coupon_discount="0.00",
                     lines=[line("SO1-9", category="general", quantity=5)])

    summary, refusals = run_import(write_jsonl(tmp_path / "second.jsonl", [without]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert "SO1-1" in refusals[1] and "under claim" in refusals[1]
    assert list(OrderLine.objects.values_list("line_id", flat=True)) == ["SO1-1"]


def test_an_update_may_drop_a_line_nobody_claimed(tmp_path):
    two = record("SO1", amount_paid="60.00", coupon_discount="0.00",
                 lines=[line("SO1-1", quantity=2), line("SO1-2", sku="PEAR", quantity=8)])
    run_import(write_jsonl(tmp_path / "first.jsonl", [two]))
    one = record("SO1", amount_paid="20.00", coupon_discount="0.00", lines=[line("SO1-1", quantity=2)])

    assert run_import(write_jsonl(tmp_path / "second.jsonl", [one]))[0] == "0 created, 1 updated, 0 refused"
    assert list(OrderLine.objects.values_list("line_id", flat=True)) == ["SO1-1"]


# --- other ways in -----------------------------------------------------------------------------------

def test_the_command_writes_to_the_real_streams_when_not_given_any(tmp_path, capsys):
    """As an operator sees it: the summary on standard output, each refusal on standard error."""
    path = write_jsonl(tmp_path / "orders.jsonl", [record("SO1"), "{"])

    call_command("import_orders", path)

    captured = capsys.readouterr()
    assert captured.out.strip() == "1 created, 0 updated, 1 refused"
    assert captured.err.startswith("refused line 2: malformed JSON")
    assert Order.objects.filter(order_no="SO1").exists()


def test_a_dash_reads_standard_input(monkeypatch):
    data = (json.dumps(record("SO1")) + "\n").encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    out = io.StringIO()

    call_command("import_orders", "-", stdout=out, stderr=io.StringIO())

    assert out.getvalue().strip() == "1 created, 0 updated, 0 refused"
    assert Order.objects.filter(order_no="SO1").exists()


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_orders", str(tmp_path / "absent.jsonl"), stdout=io.StringIO(), stderr=io.StringIO())
    assert snapshot() == (0, 0, 0, 0, 0)


def test_an_update_dropping_a_line_only_a_rejected_claim_names_is_refused(tmp_path, staff):
    """The rejected ticket no longer counts against the line, but it still names it: the line stays."""
    order = claimed_order(tmp_path)
    services.reject_ticket(ticket_id=order.tickets.get().pk, actor=staff["ops"], reason="Not a defect.")
    without = record("SO1", amount_paid="35.00", coupon_discount="0.00",
                     lines=[line("SO1-9", category="general", quantity=5)])

    summary, refusals = run_import(write_jsonl(tmp_path / "second.jsonl", [without]))

    assert summary == "0 created, 0 updated, 1 refused"
    assert "SO1-1" in refusals[1] and "under claim" in refusals[1]
    assert list(OrderLine.objects.values_list("line_id", flat=True)) == ["SO1-1"]
