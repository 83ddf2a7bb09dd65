"""Every word a consumer reads, in every language the verify page speaks, with real parameters.

Driven by the data, so a new verdict status, warning or catalogue entry is checked without touching this file:
every unit state (`CodeStatus`, plus the derived `expired`), every warning `scans/wording.py` words, every
verdict page (not recognised, unverified brand, likely copy, PIN checks) through the real verify view, as a
page and as JSON; and every catalogue entry's placeholders against its msgid (msgfmt's format check too)."""

import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation

from brands import services as brand_services
from codes.models import Code, CodeBatch, CodeStatus, Lot
from scans import rules, wording
from scans.models import DetectionSettings
from tests.factories import BrandFactory, ProductFactory, ready_batch
from tests.scans.test_verify import GEORGE_TOWN_IP, IPHONE, KUALA_LUMPUR_IP, STANFORD_IP, qr_path

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TRANSLATED = [code for code in LANGUAGES if code != settings.LANGUAGE_CODE]
CATALOGUES = sorted(Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/django.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)([-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa])")
UNFILLED = re.compile(r"%\(\w+\)|\{\{|\{%|%[ds]\b")


def placeholders(text: str) -> set[tuple[str, str]]:
    return set(PLACEHOLDER.findall(text))


# --- the catalogues ---------------------------------------------------------------------------------------


def test_there_is_a_catalogue_for_every_language_but_english():
    assert sorted(p.parent.parent.name for p in CATALOGUES) == sorted(
        translation.to_locale(code) for code in TRANSLATED
    )


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_every_translation_fills_exactly_the_placeholders_its_msgid_has(path):
    """A `%(places)d` where the code passes `regions` is a 500 on the verify page; a `%(when)s` where the code
    passes nothing shows literally. Every form of a plural entry is checked against the plural msgid."""
    wrong = []
    for entry in polib.pofile(str(path)):
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            wanted = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
            for form, text in entry.msgstr_plural.items():
                if placeholders(text) != wanted and placeholders(text) != placeholders(entry.msgid_plural):
                    wrong.append((entry.msgid, form, text))
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            wrong.append((entry.msgid, None, entry.msgstr))
    assert not wrong, wrong


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_msgfmt_format_check_passes(path):
    """GNU gettext's own check (the one `compilemessages` skips): python-format entries keep their arguments."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext's msgfmt is needed (bin/install-system-packages installs it)"
    result = subprocess.run([msgfmt, "--check-format", "-o", "/dev/null", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- the words: every warning the renderer knows, in every language ---------------------------------------

SINCE = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)


def every_warning() -> list[rules.VerdictWarning]:
    """Every warning a verdict can carry, with the parameters the verify path gives it."""
    states = [w for status in [*CodeStatus.values, rules.EXPIRED] for w in rules.state_warnings(status)]
    copied = rules.likely_copy_warning(
        rules.CodeSignals(scan_count=100_000, regions=5, devices=40),
        places="MY-10;MY-01;MY-07;MY-14;SG;",
        since=SINCE,
    )
    nowhere = rules.likely_copy_warning(rules.CodeSignals(scan_count=12, regions=0, devices=11), since=SINCE)
    recalled = rules.VerdictWarning(rules.RECALLED, {"message": "Batch L1 is recalled."})
    return [*states, copied, nowhere, recalled, rules.pin_reused_warning(SINCE)]


def worded(warning, language: str) -> str:
    with translation.override(language):
        return wording.word(warning)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_warning_is_worded_in_every_language(language):
    for warning in every_warning():
        text = worded(warning, language)
        assert text and not UNFILLED.search(text), (warning, text)
        if language in TRANSLATED:
            assert text != worded(warning, settings.LANGUAGE_CODE), (language, warning.code, text)


@pytest.mark.parametrize(
    "language,words",
    [
        ("en", "Scanned 100,000 times in 5 places since 3 Mar 2026: Selangor, Johor, Pulau Pinang and 2 more."),
        ("ms", "Diimbas 100,000 kali di 5 tempat sejak 3 Mar 2026: Selangor, Johor, Pulau Pinang dan 2 lagi."),
        ("zh-hans", "自 2026年3月3日 起在 5 个地点被扫描 100,000 次：Selangor、Johor、Pulau Pinang及另外 2 个地点。"),
        ("ta", "3 மார்ச், 2026 முதல் 5 இடங்களில் 100,000 முறை ஸ்கேன் செய்யப்பட்டது: Selangor, Johor, Pulau Pinang"),
    ],
)
def test_likely_copy_says_how_often_where_and_since_when(language, words):
    assert worded(every_warning()[-4], language).startswith(words)


# --- the pages: every verdict through the real verify view, page and JSON ---------------------------------


def page_and_json(path, language, *, ip=KUALA_LUMPUR_IP, pin=None):
    client = Client()
    headers = {"HTTP_ACCEPT_LANGUAGE": language, "REMOTE_ADDR": ip, "HTTP_USER_AGENT": IPHONE}
    if pin is None:
        page = client.get(path, **headers)
        data = client.get(path, HTTP_ACCEPT="application/json", **headers)
    else:
        page = client.post(path, {"pin": pin}, **headers)
        data = client.post(path, {"pin": pin}, HTTP_ACCEPT="application/json", **headers)
    return page, data


def verdict_words(page) -> str:
    """The verdict as read: its heading and paragraphs."""
    html = page.content.decode()
    section = html.split('id="verdict"')[1].split("</section>")[0]
    return " ".join(re.findall(r"<(?:h1|p)[^>]*>(.*?)</(?:h1|p)>", section))


def read_everywhere(path, *, expect_status, ip=KUALA_LUMPUR_IP, pin=None, before=None):
    """The verdict of `path` in every language: no error, nothing left unfilled, and each translated language's
    words its own (not the English ones)."""
    english = None
    for language in LANGUAGES:
        if before:
            before(language)
        page, data = page_and_json(path, language, ip=ip, pin=pin)
        html = page.content.decode()
        assert page.status_code == expect_status and data.status_code == expect_status, (language, path)
        assert f'lang="{language}"' in html and not UNFILLED.search(html.split("<main")[1]), (language, html)
        messages = [w["message"] for w in data.json()["warnings"]]
        assert all(m and not UNFILLED.search(m) for m in messages), (language, messages)
        if english is None:
            english = (verdict_words(page), messages)
        else:
            assert verdict_words(page) != english[0], (language, verdict_words(page))
            assert not set(messages) & set(english[1]), (language, messages)
    return english


@pytest.fixture
def batch(brand):
    return ready_batch(
        ProductFactory(brand=brand, gtin="09506000134352"), quantity=len(CodeStatus.values) + 8, activated=True
    )


@pytest.fixture
def codes(batch):
    return list(Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal"))


@pytest.mark.parametrize("status", CodeStatus.values)
def test_every_unit_state_reads_in_every_language(codes, status):
    code = codes[CodeStatus.values.index(status)]
    Client().get(qr_path(code), HTTP_ACCEPT="application/json")  # scanned once before: "first verified on …"
    Code.objects.filter(pk=code.pk).update(status=status)
    english_words, _messages = read_everywhere(qr_path(code), expect_status=404 if status == "not_activated" else 200)
    assert english_words


def test_an_expired_unit_reads_in_every_language(codes):
    Lot.objects.filter(pk=codes[0].batch.lot_id).update(expires_on=date.today() - timedelta(days=1))
    path = qr_path(codes[0], with_expiry=False)
    _words, messages = read_everywhere(path, expect_status=200)
    assert messages == ["This product is past its expiry date. Do not use it."]


def test_a_likely_copy_reads_in_every_language_with_its_places(brand, codes):
    DetectionSettings.objects.create(brand=brand, max_regions=1)
    code = codes[-1]
    for ip in (KUALA_LUMPUR_IP, GEORGE_TOWN_IP, STANFORD_IP):
        Client().get(qr_path(code), REMOTE_ADDR=ip, HTTP_ACCEPT="application/json", HTTP_USER_AGENT=IPHONE)
    words, messages = read_everywhere(qr_path(code), expect_status=200)
    assert "possible copy" in words and "Kuala Lumpur, Pulau Pinang, California" in messages[0]


def test_a_made_up_serial_reads_in_every_language(codes):
    read_everywhere(f"/01/{codes[0].product.gtin}/21/NOTAREALCODE", expect_status=404)


def test_an_unverified_brands_code_reads_in_every_language(db):
    impostor = BrandFactory(prefix="")
    brand_services.claim_prefix(brand=impostor, prefix="9506000")
    code = Code.objects.filter(batch=ready_batch(ProductFactory(brand=impostor), quantity=2, activated=True)).first()
    read_everywhere(f"/01/{code.product.gtin}/21/{code.serial}", expect_status=404)


@pytest.fixture
def pin_codes(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=len(LANGUAGES) + 1, with_pin=True, activated=True)
    codes = list(Code.objects.select_related("batch__lot", "product__key").filter(batch=batch).order_by("ordinal"))
    for code in codes:
        code.pin = brand_pin(code)
    return codes


def brand_pin(code):
    from codes.serials import scratch_pin

    return scratch_pin(code.product.key.secret(), code.product.gtin, code.serial)


def test_every_pin_verdict_reads_in_every_language(pin_codes):
    wrong = "".join("2" if digit == "1" else "1" for digit in pin_codes[0].pin)
    read_everywhere(qr_path(pin_codes[0]), expect_status=200, pin=wrong)
    # A PIN used for the first time, then the same PIN again: each language its own fresh unit.
    fresh = dict(zip(LANGUAGES, pin_codes[1:], strict=False))
    english = None
    for language, code in fresh.items():
        first, _data = page_and_json(qr_path(code), language, pin=code.pin)  # the page's POST is the first use
        again, data = page_and_json(qr_path(code), language, pin=code.pin)
        for page in (first, again):
            html = page.content.decode()
            assert page.status_code == 200 and not UNFILLED.search(html.split("<main")[1]), html
        [reused] = data.json()["warnings"]
        assert reused["code"] == "pin_reused" and not UNFILLED.search(reused["message"]), reused
        assert "Tell us where you bought it" not in first.content.decode()
        if english is None:
            english = verdict_words(again)
        else:
            assert verdict_words(again) != english, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_message_reads_in_every_language(language):
    request = RequestFactory().get("/")
    with translation.override(language):
        pages = [
            render_to_string("scans/rate_limited.html", request=request),
            render_to_string("scans/report_thanks.html", request=request),
            render_to_string("scans/unavailable.html", {"message": "x"}, request=request),
        ]
    for html in pages:
        assert f'lang="{language}"' in html and not UNFILLED.search(html.split("<main")[1])
    if language in TRANSLATED:
        with translation.override(settings.LANGUAGE_CODE):
            english = render_to_string("scans/rate_limited.html", request=request)
        assert re.search(r"<h1>(.*?)</h1>", pages[0])[1] != re.search(r"<h1>(.*?)</h1>", english)[1]


# --- dates and counts as each language writes them --------------------------------------------------------


def test_a_chinese_verify_page_writes_the_date_and_groups_the_count(codes):
    code = codes[0]
    Code.objects.filter(pk=code.pk).update(
        scan_count=100_000, first_scanned_at=datetime(2026, 12, 4, 8, 0, tzinfo=UTC), first_scanned_in="Ipoh, Perak, MY"
    )
    html = Client().get(qr_path(code), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "首次验证于 2026年12月4日" in html and "已扫描 100,001 次" in html  # the page predicts its own scan
    assert "十二月" not in html  # not "4 十二月 2026"


def test_a_chinese_batch_page_groups_its_counts(owner_client, batch):
    CodeBatch.objects.filter(pk=batch.pk).update(quantity=100_000, codes_done=100_000)
    html = owner_client.get(f"/batches/{batch.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "100,000</span> of 100,000 codes generated" in html
    assert not re.search(r">[^<]*100000[^<]*<", html)  # form values keep their digits; text never
