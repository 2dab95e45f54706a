"""manage.py seed_demo: demo shops, buyers, orders, one staff user per role, and tickets in every state.

Orders go in through the order import; tickets through the services (demo.journeys), so every
timeline is real. Idempotent: a second run adds nothing (each demo order is made once, and its
ticket only when the order is new).
"""

import io
import json
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from access import tokens
from aftersales import clock
from aftersales.management.base import RecordedCommand
from demo import journeys
from orders.models import Order, Shop
from orders.services import import_order
from policies import services as policies
from reasons.models import Reason
from tickets import rules, services
from tickets.models import Ticket
from tickets.uploads import store_upload

PASSWORD = "demo-pass-2026"
STAFF = [("admin", None), ("ops", "ops"), ("finance", "finance"), ("warehouse", "warehouse"), ("service", "service")]
BUYERS = [("alice", 3, "Room 1201, 88 Century Avenue, Pudong, Shanghai"),
          ("bob", 1, "12 Garden Road, Hangzhou")]
BUYER_CONTACTS = {"alice": {"name": "Alice Wang 王丽", "phone": "138 0013 8000"},
                  "bob": {"name": "Bob Li 李博", "phone": "139 0571 0000"}}  # on the warehouse's ship form
SHOPS = {"FRESH": ("Fresh Farm", "Returns, Fresh Farm depot, 5 Cold Chain Road, Shanghai"),
         "HOME": ("Home Goods", "Returns desk, Home Goods warehouse, 9 Logistics Park, Suzhou")}
S, T = Ticket.Status, Ticket.Type


class Command(RecordedCommand):
    help = "Load demo data (idempotent) and print the logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            staff = self._staff()
            buyers = self._buyers()
            self._shops()
        made = self._tickets(staff, buyers)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({made} new tickets, "
                                             f"{Ticket.objects.count()} in all)."))
        self._print_logins(buyers)

    # people and shops

    def _staff(self) -> dict:
        User = get_user_model()
        users = {}
        for username, group in STAFF:
            # Role users are group-only (docs/design.md, "Roles by migration"): the admin site lets ops,
            # finance and warehouse in by their group, and the service account (integrations) not at all.
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": group is None})
            if created:
                user.set_password(PASSWORD)
                user.is_superuser = group is None
                user.save()
                if group:
                    user.groups.add(Group.objects.get(name=group))  # the group's permissions are all it needs
            elif group and user.is_staff:  # seeded by an older seed_demo, which marked every role user staff
                user.is_staff = False
                user.save(update_fields=["is_staff"])
            users[group or "admin"] = user
        return users

    def _buyers(self) -> dict:
        buyers = {}
        for account, level, address in BUYERS:
            # The buyer and their login come from the order import; give the demo login a password.
            order = self._order(account, "HOME", "DEMO-WELCOME", status="delivered", days_ago=30,
                                lines=[("general", "Welcome mug", "19.90", 1)], address=address, level=level)
            user = order.buyer.user
            if not user.has_usable_password():
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            buyers[account] = order.buyer
            self._claimable_orders(account)
        return buyers

    # What a newcomer can claim at once (the README's walk): fresh produce delivered two hours ago (48-hour
    # quality window), general goods delivered yesterday (7-day no-reason return), an order not shipped yet
    # (refund only, approved by the system).
    CLAIMABLE = [
        ("CLAIM-FRESH", "FRESH", "delivered", 2 / 24, [("fresh", "Strawberries 500 g", "39.00", 2)]),
        ("CLAIM-HOME", "HOME", "delivered", 1, [("general", "Glass teapot", "129.00", 1),
                                                ("general", "Bamboo tray", "59.00", 1)]),
        ("CLAIM-UNSHIPPED", "HOME", "unshipped", 0, [("general", "Reading lamp", "88.00", 1)]),
    ]

    def _claimable_orders(self, account: str) -> None:
        for suffix, shop, status, days_ago, lines in self.CLAIMABLE:
            self._order(account, shop, suffix, status=status, days_ago=days_ago, lines=lines)

    def _shops(self) -> None:
        for code, (name, address) in SHOPS.items():
            Shop.objects.filter(code=code).update(return_address=address, return_contact=f"{name} returns",
                                                  return_phone="400-820-8820")

    # orders through the import

    def _order(self, account, shop, suffix, *, status, days_ago=1.0, lines, shipping="0.00", coupon="0.00",
               address="", level=1) -> Order:
        order_no = f"{suffix}-{account}".upper()
        existing = Order.objects.filter(order_no=order_no).first()
        if existing is not None:
            return existing
        now = clock.now()
        placed = now - timedelta(days=days_ago + 2)
        goods = sum(Decimal(price) * qty for _, _, price, qty in lines)
        data = {
            "order_no": order_no, "shop": {"code": shop, "name": SHOPS[shop][0]},
            "buyer": {"account": account, "level": level, "address": address or dict(
                (a, ad) for a, _, ad in BUYERS).get(account, ""), **BUYER_CONTACTS.get(account, {})},
            "status": status, "placed_at": placed.isoformat(), "paid_at": placed.isoformat(),
            "shipped_at": (placed + timedelta(days=1)).isoformat() if status != "unshipped" else None,
            "delivered_at": (now - timedelta(days=days_ago)).isoformat() if status == "delivered" else None,
            "shipping_fee": shipping, "coupon_discount": coupon, "virtual_currency": "0.00",
            "amount_paid": str(goods - Decimal(coupon) + Decimal(shipping)),
            "lines": [{"line_id": f"{order_no}-{i + 1}", "sku": sku.upper().replace(" ", "-")[:20],
                       "product_name": sku, "product_code": f"P-{i + 1:03d}", "category": category,
                       "unit_price": price, "quantity": qty}
                      for i, (category, sku, price, qty) in enumerate(lines)],
        }
        return import_order(data).order

    # tickets through the services

    def _tickets(self, staff, buyers) -> int:
        made = 0
        general = [("general", "Ceramic teapot", "89.00", 1), ("general", "Tea cups (set of 4)", "45.00", 2)]
        fresh = [("fresh", "Apples x10", "5.00", 10)]
        for ticket_type, states in journeys.PATHS.items():
            for status in states:
                account = "alice" if status not in (S.REJECTED, S.CLOSED) else "bob"
                shop, lines, reason = ("HOME", general, "quality_issue")
                if not ticket_type.traits.goods_come_back:  # goods not worth sending back: fresh produce
                    shop, lines, reason = ("FRESH", fresh, "damaged_in_transit")
                made += self._ticket(f"DEMO-{ticket_type[:3]}-{status[:12]}", account, shop, lines, ticket_type,
                                     reason, status, staff)
        # The seeds' own cases.
        made += self._ticket("DEMO-FRUIT", "alice", "FRESH", fresh, T.REFUND_ONLY, "quality_issue",
                             S.PENDING_REVIEW, staff, quantities=[2],
                             description="Paid 50 for 10 fruits, 2 were bad [000].")
        made += self._ticket("DEMO-UNSHIPPED", "bob", "HOME", [("general", "Desk lamp", "50.00", 1)],
                             T.REFUND_ONLY, "changed_mind", None, staff, order_status="unshipped",
                             shipping="10.00", coupon="5.00",
                             description="Ordered by mistake: auto-approved and refunded (45 goods + 10 shipping).")
        made += self._ticket("DEMO-NOREASON", "alice", "HOME", [("general", "Linen shirt", "199.00", 1)],
                             T.RETURN_REFUND, "no_reason_7d", S.PENDING_REVIEW, staff,
                             description="Does not suit me.")
        made += self._compensation(staff)
        return made

    def _ticket(self, suffix, account, shop, lines, ticket_type, reason_code, status, staff, *, quantities=None,
                order_status="delivered", shipping="0.00", coupon="0.00", description="") -> int:
        order_no = f"{suffix}-{account}".upper()
        if Order.objects.filter(order_no=order_no).exists():
            return 0
        if status == S.CLOSED:
            # The system closes a return only after its deadline (7 days after approval): play that
            # journey in the past, so every time in its timeline has really happened.
            order = self._order(account, shop, suffix, status=order_status, lines=lines, days_ago=10)
            with clock.frozen_at(clock.now() - timedelta(days=9)):
                return self._claim(order, ticket_type, reason_code, status, staff, quantities, description)
        order = self._order(account, shop, suffix, status=order_status, lines=lines, shipping=shipping,
                            coupon=coupon)
        return self._claim(order, ticket_type, reason_code, status, staff, quantities, description)

    def _claim(self, order, ticket_type, reason_code, status, staff, quantities, description) -> int:
        order_lines = list(order.lines.all())
        quantities = quantities or [ol.quantity for ol in order_lines]
        reason = Reason.objects.get(code=reason_code)
        needs_photos = rules.photos_required(order=order, categories={ol.category for ol in order_lines},
                                             ticket_type=ticket_type, reason=reason)
        photos = [self._photo(order.buyer.user).pk for _ in range(2 if needs_photos else 0)]
        ticket = services.submit_ticket(
            actor=order.buyer.user, order_no=order.order_no, type=ticket_type,
            reason_id=reason.pk, photo_ids=photos,
            description=description or "Arrived damaged: see photos.",
            lines=[{"order_line_id": ol.line_id, "quantity": q} for ol, q in zip(order_lines, quantities,
                                                                                strict=True)])
        if status is not None:
            journeys.advance(ticket, status, staff=staff)
        if status in (S.PENDING_REVIEW, S.AWAITING_RETURN):
            services.add_note(ticket_id=ticket.pk, actor=staff["ops"],
                              text="Checked photos; waiting for the buyer." if status == S.PENDING_REVIEW
                              else "Approved; waiting for goods back.")
        return 1

    def _compensation(self, staff) -> int:
        order_no = "DEMO-COMP-ALICE"
        if Order.objects.filter(order_no=order_no).exists():
            return 0
        order = self._order("alice", "HOME", "DEMO-COMP", status="delivered",
                            lines=[("general", "Wool coat", "218.00", 1)])
        ticket = services.submit_ticket(
            actor=order.buyer.user, order_no=order.order_no, type=T.RETURN_REFUND,
            reason_id=Reason.objects.get(code="not_as_described").pk, description="Small stain on the sleeve.",
            photo_ids=[self._photo(order.buyer.user).pk],
            lines=[{"order_line_id": order.lines.get().line_id, "quantity": 1}])
        services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount=Decimal("43.60"),
                                   note="Stain: offered compensation 43.60 (20% cap), buyer agreed to keep it.")
        return 1

    def _photo(self, user):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 60, 40)).save(buffer, "PNG")
        return store_upload(actor=user, file=SimpleUploadedFile("photo.png", buffer.getvalue(), "image/png"))

    def _print_logins(self, buyers) -> None:
        out = self.stdout.write
        out("")
        out("Open http://127.0.0.1:8000/admin/  (API docs: http://127.0.0.1:8000/api/docs/)")
        out("Language: the switcher at the top left of every admin page, beside the site's name (English, 简体中文).")
        out(f"Staff logins (password for all: {PASSWORD}):")
        for username, group in STAFF:
            role = "superuser" if group is None else f"role {group}"
            out(f"  {username:<10} {role}{' (API only: order import)' if group == 'service' else ''}")
        out(f"Buyer logins (password {PASSWORD}; API tokens below):")
        secrets = {}
        for account, buyer in buyers.items():
            # Only a token's hash is kept, so an earlier run's token cannot be printed again: each run revokes
            # the demo buyer's earlier tokens and prints a fresh one, which works.
            tokens.revoke_tokens(buyer.user.pk)
            secrets[account] = tokens.issue_token(buyer.user)[1]
            out(f"  {account:<10} Authorization: Token {secrets[account]}")
        service = get_user_model().objects.get(username="service")
        tokens.revoke_tokens(service.pk)
        secrets["service"] = tokens.issue_token(service)[1]
        out("The shop's systems (service account: order import, the events feed):")
        out(f"  {'service':<10} Authorization: Token {secrets['service']}")
        self._print_try_it(secrets["alice"], secrets["service"])

    # The README's first walk: what each step needs, printed to copy.
    WALK_ORDER = "CLAIM-HOME-ALICE"
    WALK_TRACKING = "SF1000000001"
    BASE = "http://127.0.0.1:8000"

    def _print_try_it(self, token: str, service_token: str) -> None:
        """The whole path of one claim, in the order it really goes: alice returns yesterday's teapot for no
        reason (7-day window), ops approves, alice sends it back, the warehouse receives it, finance pays."""
        order_no, base, tracking = self.WALK_ORDER, self.BASE, self.WALK_TRACKING
        body = json.dumps({"order_no": order_no, "type": "return_refund",
                           "reason_id": Reason.objects.get(code="no_reason_7d").pk, "description": "Too big for us.",
                           "lines": [{"order_line_id": f"{order_no}-1", "quantity": 1}]})
        shipment = json.dumps({"courier": "SF Express", "tracking_no": tracking})
        auth = f"-H 'Authorization: Token {token}'"
        out = self.stdout.write
        out("")
        out(f"A first walk: alice returns the teapot of {order_no} (delivered yesterday, 7-day no-reason return).")
        out("1. alice: what she may claim, then the claim (the new ticket's number is kept in $TICKET):")
        out(f"  curl {auth} {base}/api/v1/orders/{order_no}/eligibility/")
        out(f"  TICKET=$(curl {auth} -H 'Content-Type: application/json' -d '{body}' -s {base}/api/v1/tickets/"
            " | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"ticket_no\"])'); echo $TICKET")
        sla = f"{policies.current()['review_sla_hours'].normalize():f}"
        out(f"2. ops ({base}/admin/): Tickets, search {order_no} (the queue lists what is due first; the new claim "
            f"is due for review in {sla} hours), open it, Approve and confirm: it now waits for the goods, sent to "
            "the shop's return address.")
        out("3. alice sends the teapot back:")
        out(f"  curl {auth} -H 'Content-Type: application/json' -d '{shipment}' "
            f"{base}/api/v1/tickets/$TICKET/return-shipment/")
        out(f"4. warehouse: Arrivals to receive, scan or type {tracking}: its receive form opens; record the teapot "
            "received and passed: the ticket waits for its refund.")
        out("5. finance: Refunds to approve, tick the ticket, Approve the refunds and confirm the amount: the "
            "refund is paid and the ticket completed, as alice sees it:")
        out(f"  curl {auth} {base}/api/v1/tickets/$TICKET/")
        out("6. the shop's systems saw every step as an event (webhooks to the endpoints an administrator adds under "
            "Events and webhooks; the catch-up feed, oldest first, for the service account):")
        out(f"  curl -s -H 'Authorization: Token {service_token}' '{base}/api/v1/events/?after=0&page_size=1000'"
            " | python3 -c 'import json, sys; [print(e[\"position\"], e[\"type\"]) for e in json.load(sys.stdin)"
            "[\"results\"] if e[\"ticket_no\"] == sys.argv[1]]' $TICKET")
