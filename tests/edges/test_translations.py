"""Chinese: every string the project shows is in the zh-Hans catalogue, translated (plural forms too); the
compiled catalogue matches it; the ops screens, the messages built in code and the refusal page in Chinese
show no English label of ours; the calendar's words come in Chinese from the JavaScript catalogue."""

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.test import Client
from django.urls import reverse

from demo import journeys
from tests.factories import UserFactory, make_order, submit

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PARTS = ["aftersales", "access", "orders", "reasons", "policies", "tickets", "refunds", "warehouse", "events", "demo", "config"]


def entries(po: Path) -> dict[tuple[str, str], tuple[str, bool]]:
    """(msgctxt, msgid) -> (msgstr, fuzzy) of a .po file (plural forms: the singular)."""
    text = po.read_text(encoding="utf-8")
    out = {}
    for block in text.split("\n\n"):
        fuzzy = "#, fuzzy" in block or ", fuzzy" in block
        msgid = _field(block, "msgid")
        msgstr = _field(block, "msgstr") or _field(block, r"msgstr\[0\]")
        if msgid:
            out[(_field(block, "msgctxt"), msgid)] = (msgstr, fuzzy)
    return out


def _field(block: str, name: str) -> str:
    match = re.search(rf'^{name} ((?:".*"\n?)+)', block + "\n", re.M)
    if not match:
        return ""
    return "".join(re.findall(r'"(.*)"', match.group(1))).encode().decode("unicode_escape").encode(
        "latin-1").decode("utf-8")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, tuple[str, bool]]:
    """What makemessages finds in the project today, extracted into a copy (the repository is left alone)."""
    copy = tmp_path_factory.mktemp("project")
    for part in PARTS:
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    (copy / "locale").mkdir()
    env = {**os.environ, "SECRET_KEY": "x", "DEBUG": "1", "DATABASE_URL": "sqlite:///:memory:",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"], cwd=copy,
                   env=env, check=True, capture_output=True, timeout=300)
    return entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")


def test_every_string_the_project_shows_is_translated_into_chinese(extracted):
    committed = entries(CATALOGUE / "django.po")
    missing = sorted(msgid for msgid in extracted if msgid not in committed)
    untranslated = sorted(msgid for msgid in extracted if msgid in committed
                          and (not committed[msgid][0] or committed[msgid][1]))
    assert not missing, f"not in the catalogue (run makemessages -l zh_Hans): {missing[:20]}"
    assert not untranslated, f"not translated (or fuzzy): {untranslated[:20]}"


def test_the_compiled_catalogue_is_the_one_committed():
    with open(CATALOGUE / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for (context, msgid), (msgstr, fuzzy) in entries(CATALOGUE / "django.po").items():
        if msgstr and not fuzzy:
            found = catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)
            assert found == msgstr, f"django.mo is older than django.po (compilemessages): {msgid}"


@pytest.mark.django_db
def test_the_ops_screens_in_chinese_show_no_english_label_of_ours(staff, buyer, extracted):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue", photos=1)
    journeys.approve(ticket, staff)
    client = Client()
    client.force_login(UserFactory(username="zh-ops", groups=["ops"]))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/admin/"})

    pages = {url: client.get(url).content.decode() for url in (
        reverse("admin:index"), reverse("admin:tickets_ticket_changelist"),
        reverse("admin:tickets_ticket_change", args=[ticket.pk]))}

    for url, html in pages.items():
        assert 'lang="zh-hans"' in html, url
        english = english_shown(html, extracted)
        assert not english, f"{url} shows English: {english[:15]}"


def english_shown(html: str, extracted) -> list[str]:
    """The project's English strings (whole lines of text) that a page shows."""
    ours = [msgid for _context, msgid in extracted if re.search(r"[A-Za-z]{3}", msgid) and "%" not in msgid
            and "{" not in msgid and len(msgid) > 3]
    # Each language is named in its own words in the switcher ("English", "简体中文"): not a label to translate.
    html = re.sub(r'<select name="language".*?</select>', "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "\n", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
    shown = {line.strip() for line in text.splitlines() if line.strip()}
    return sorted(msgid for msgid in ours if msgid in shown or msgid.capitalize() in shown)


def plural_entries(po: Path) -> dict[str, list[str]]:
    """msgid -> its msgstr[n] of every entry with plural forms."""
    out = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        if "msgid_plural" in block:
            forms = sorted(set(re.findall(r"^msgstr\[(\d+)\]", block, re.M)))
            out[_field(block, "msgid")] = [_field(block, rf"msgstr\[{n}\]") for n in forms]
    return out


def test_every_count_in_code_has_its_chinese_plural_form():
    """Messages with a count are built with ngettext / blocktranslate count: each has every plural form the
    language has (Chinese: one), and the compiled catalogue gives it for one and for many."""
    plural = plural_entries(CATALOGUE / "django.po")
    assert "%(n)d ticket done." in plural  # the queue's list actions (tickets.queue.each)
    with open(CATALOGUE / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for msgid, forms in plural.items():
        assert forms and all(forms), f"a plural form not translated: {msgid}"
        for n in (1, 5):
            assert catalogue.ngettext(msgid, msgid, n) == forms[0], msgid


@pytest.mark.django_db
def test_what_the_back_office_says_in_messages_and_refusals_is_chinese(buyer, extracted):
    """Messages built in code (a list action's count, a refusal prefixed by the field's label) and the
    refusal page, in Chinese: no English word of ours."""
    tickets = [submit(make_order(buyer=buyer), type="refund_only", reason_code="missing_parts", photos=1)
               for _ in range(2)]
    client = Client()
    client.force_login(UserFactory(username="zh-words", groups=["ops"]))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/admin/"})

    assigned = client.post(reverse("admin:tickets_ticket_changelist"), {
        "action": "assign_to_me", "_selected_action": [t.pk for t in tickets]}, follow=True)
    refused = client.post(reverse("admin:tickets_ticket_act", args=[tickets[0].pk]), {
        "action": "approve", "refund_amount": "0.01", "fee_reason": ""}, follow=True)
    said = [str(m) for response in (assigned, refused) for m in response.context["messages"]]
    forbidden = client.get(reverse("admin:auth_user_changelist"))

    assert len(said) == 2 and all(re.search(r"[\u4e00-\u9fff]", message) for message in said), said
    english = english_shown("\n".join(said), extracted) + [
        word for message in said for word in re.findall(r"[A-Za-z_]{3,}", message)]
    assert not english, f"messages in English: {english}"
    assert forbidden.status_code == 403
    assert not english_shown(forbidden.content.decode(), extracted)


# What the admin's calendar and clock ask Django's JavaScript catalogue for.
CALENDAR_SCRIPTS = ("calendar.js", "admin/DateTimeShortcuts.js")


def javascript_catalogue(client) -> dict:
    script = client.get(reverse("admin:jsi18n")).content.decode()
    return json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.S).group(1))


@pytest.mark.django_db
def test_the_calendar_speaks_chinese_through_the_javascript_catalogue(settings):
    """The admin's calendar (the queue's date range, every date field) reads its words from the JavaScript
    catalogue (/admin/jsi18n/): Django's own Chinese leaves the weekday initials "S M T W T F S"; the
    project's djangojs catalogue (locale/zh_Hans/LC_MESSAGES/djangojs.po) gives them."""
    scripts = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin" / "js"
    asked = set()
    for name in CALENDAR_SCRIPTS:
        source = (scripts / name).read_text(encoding="utf-8")
        asked |= set(re.findall(r"\bgettext\('([^']+)'\)", source))
        asked |= {f"{context}\x04{msgid}" for context, msgid in
                  re.findall(r"\bpgettext\('([^']+)',\s*'([^']+)'\)", source)}
    assert "one letter Sunday\x04S" in asked and "January" in asked
    client = Client()
    client.force_login(UserFactory(username="zh-calendar", groups=["ops"]))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/admin/"})

    catalogue = javascript_catalogue(client)

    untranslated = sorted(key for key in asked if not re.search(r"[\u4e00-\u9fff]", str(catalogue.get(key, ""))))
    assert not untranslated, f"the calendar shows English: {untranslated}"
    assert [catalogue[f"one letter {day}\x04{initial}"] for day, initial in (
        ("Sunday", "S"), ("Monday", "M"), ("Tuesday", "T"), ("Wednesday", "W"), ("Thursday", "T"),
        ("Friday", "F"), ("Saturday", "S"))] == ["日", "一", "二", "三", "四", "五", "六"]
