"""Chinese: every string the project shows is in the zh-Hans catalogue, translated; the compiled catalogue
matches it; and the ops screens in Chinese show no English label of ours."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from demo import journeys
from tests.factories import UserFactory, make_order, submit

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PARTS = ["aftersales", "access", "orders", "reasons", "policies", "tickets", "refunds", "warehouse", "demo", "config"]


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

    ours = [msgid for _context, msgid in extracted if re.search(r"[A-Za-z]{3}", msgid) and "%" not in msgid
            and "{" not in msgid and len(msgid) > 3]
    for url, html in pages.items():
        assert 'lang="zh-hans"' in html, url
        # Each language is named in its own words in the switcher ("English", "简体中文"): not a label to translate.
        html = re.sub(r'<select name="language".*?</select>', "", html, flags=re.S)
        text = re.sub(r"<[^>]+>", "\n", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
        shown = {line.strip() for line in text.splitlines() if line.strip()}
        english = sorted(msgid for msgid in ours if msgid in shown or msgid.capitalize() in shown)
        assert not english, f"{url} shows English: {english[:15]}"
