"""A brand's first hour, as a new user walks it, in headless Chromium against the app in its embedded mode.

The app runs as `bin/run` runs it: SQLite under a fresh VAR_DIR, a Celery worker on the filesystem broker, and
`runserver` on BIND (so printed codes point at it). The journey: sign up, add a product, order 100,000 codes
and watch the progress bar move and finish, make CSV and PDF print files and download them, open a code's
verify URL on a phone-sized second browser ("Authentic. First scan."), then find that scan on the overview
chart, in the scan list and by code lookup. Every page is screenshotted into test-artifacts/journey/ (the
README's pictures come from there), and axe-core (vendored, tests/vendor/) must report no serious or critical
accessibility violation on the overview, scans, code lookup, batch and verify pages.
"""

import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.embedded]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "journey"
AXE = (ROOT / "tests" / "vendor" / "axe-4.14.1.min.js").read_text()
PASSWORD = "a long pass phrase 2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app in its embedded mode: migrate, a worker on the filesystem broker, runserver on BIND."""
    var = tmp_path_factory.mktemp("embedded")
    port = free_port()
    unset = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "MASTER_KEY", "ALLOWED_HOSTS", "VERIFY_BASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(VAR_DIR=str(var), BIND=f"127.0.0.1:{port}", CODES_CHUNK_SIZE="10000", LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    logs = [(var / name).open("w") for name in ("worker.log", "web.log")]
    commands = [
        [sys.executable, "-m", "celery", "-A", "serialize_saas", "worker", "--pool", "solo", "--without-mingle"]
        + ["--without-gossip", "-l", "WARNING"],
        [sys.executable, "manage.py", "runserver", "--noreload", env["BIND"]],
    ]
    processes = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for cmd, log in zip(commands, logs, strict=True)
    ]
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(url + "/healthz", timeout=2).status == 200  # noqa: S310 - our server
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.5)
        yield {"url": url, "env": env, "web_log": var / "web.log"}
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(20)


def chromium(width: int, height: int, mobile: bool = False):
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("chromium and chromedriver are needed: bash bin/install-system-packages --test")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    if mobile:
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0},
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0 Mobile Safari/537.36",
            },
        )
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def desk():
    driver = chromium(1280, 900)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def phone():
    driver = chromium(390, 844, mobile=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    """The whole page (up to 3,000 px high), then the window as it was."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = driver.get_window_size()
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 3000)")
    driver.set_window_size(size["width"], max(height + 100, 600))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(size["width"], size["height"])


def serious_violations(driver) -> list[str]:
    """axe-core's serious and critical findings on the current page."""
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations)).catch(e => done(String(e)));"
    )
    assert isinstance(result, list), result
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def fill(driver, values: dict) -> None:
    for name, value in values.items():
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def submit(driver, form_id: str | None = None) -> None:
    scope = driver.find_element(By.ID, form_id) if form_id else driver
    scope.find_element(By.CSS_SELECTOR, "button.primary").click()


def click_and_wait(driver, button) -> None:
    """Click a button that posts its form, and wait for the answer's page: a `get` right after a bare click
    can cancel the post on a slow machine (the click returns before the request is sent)."""
    button.click()
    WebDriverWait(driver, 30).until(staleness_of(button))


def session_get(driver, url: str) -> bytes:
    """A download with the browser's own session (what clicking the link fetches)."""
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - our own test server
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.read()


MAILED_SIGNUP_LINK = re.compile(r"http://127\.0\.0\.1:\d+/signup/finish/\S+/")  # mailed, not the log's visits


def sign_up_on_the_page(desk, web_log, email: str, brand_name: str) -> None:
    """On the sign-up page: send the form, open the link mailed (the embedded mail goes to the web log), choose
    the password, land on the dashboard."""
    links_before = len(MAILED_SIGNUP_LINK.findall(web_log.read_text()))
    fill(desk, {"email": email, "brand_name": brand_name})
    submit(desk)

    def new_link():
        links = MAILED_SIGNUP_LINK.findall(web_log.read_text())
        return links[-1] if len(links) > links_before else None

    desk.get(wait_for(new_link, 20))
    fill(desk, {"password1": PASSWORD, "password2": PASSWORD})
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: "/dashboard/" in d.current_url)


def test_a_new_brands_first_hour(app, desk, phone):
    app, env, web_log = app["url"], app["env"], app["web_log"]
    desk.set_window_size(1280, 900)
    # Sign up: a brand name and an address; the e-mailed link (the embedded mode prints mail to the console)
    # leads to choosing a password.
    desk.get(app + "/signup/")
    fill(desk, {"email": "founder@kopi.example", "brand_name": "Kopi Lestari"})
    shot(desk, "01-signup")
    submit(desk)
    link = wait_for(lambda: re.search(r"http://127\.0\.0\.1:\d+/signup/finish/\S+/", web_log.read_text()), 20)
    desk.get(link.group(0))
    fill(desk, {"password1": PASSWORD, "password2": PASSWORD})
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: "/dashboard/" in d.current_url)
    assert "Add your first product" in desk.page_source
    shot(desk, "02-overview-new-brand")

    # Claim the GS1 Company Prefix in Settings; an operator approves it and moves the brand to the Standard
    # plan (a trial's largest batch is 50,000 codes), as Serialize's staff would.
    desk.get(app + "/settings/")
    fill(desk, {"prefix": "9551234"})
    desk.find_element(By.CSS_SELECTOR, "form[action$='/prefix/'] button, form[action*='prefix'] button").click()
    operator = (
        "from brands.models import Brand; from brands.services import approve_brand_prefix\n"
        "brand = Brand.objects.get(name='Kopi Lestari'); approve_brand_prefix(brand=brand, prefix='9551234')\n"
        "brand.plan = 'standard'; brand.save(update_fields=['plan'])\n"
    )
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + operator],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "serialize_saas.settings"},
        check=True,
        timeout=120,
    )
    desk.get(app + "/dashboard/")

    # Add a product (GTIN checked as you type).
    desk.find_element(By.LINK_TEXT, "Add your first product").click()
    fill(desk, {"name": "White coffee 3-in-1", "variant": "box of 15 sachets", "gtin": "09551234000010"})
    shot(desk, "03-product-form")
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: "/products/" in d.current_url and "new" not in d.current_url)

    # Order 100,000 codes: the request returns at once; the worker generates while the bar moves.
    desk.find_element(By.LINK_TEXT, "Order codes").click()
    fill(desk, {"lot_number": "KL2611", "quantity": "100000"})
    desk.execute_script("document.querySelector('[name=expires_on]').value = '2028-06-30'")
    assert app.split("//")[1] in desk.find_element(By.ID, "verify-host").text  # labels carry the served host
    shot(desk, "04-order-form")
    submit(desk, "order-form")
    WebDriverWait(desk, 20).until(lambda d: d.find_elements(By.ID, "batch-state"))
    seen = set()

    def progressed(driver):
        bar = driver.find_elements(By.CSS_SELECTOR, "#progress [role=progressbar]")
        if bar:
            seen.add(int(bar[0].get_attribute("aria-valuenow") or 0))
        state = driver.find_elements(By.ID, "batch-state")
        return state and state[0].text == "Ready"

    # The page reloads itself when the batch is ready: an element may go stale between two looks.
    WebDriverWait(desk, 180, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)).until(progressed)
    assert any(0 < p < 100 for p in seen), f"the bar never showed a step between 0 and 100: {sorted(seen)}"
    assert "Batch #1" in desk.find_element(By.TAG_NAME, "h1").text
    batch_url = desk.current_url
    shot(desk, "05-batch-ready")
    assert not serious_violations(desk), serious_violations(desk)

    # Print files: a CSV for the line printer and PDF label sheets of the first 48 codes.
    Select(desk.find_element(By.NAME, "format")).select_by_value("csv")
    click_and_wait(desk, desk.find_element(By.CSS_SELECTOR, "#print-form button.primary"))
    desk.get(batch_url)
    Select(desk.find_element(By.NAME, "format")).select_by_value("pdf")
    fill(desk, {"from_position": "1", "to_position": "48"})
    shot(desk, "06-print-form-pdf")
    submit(desk, "print-form")

    def both_ready(driver):
        driver.get(batch_url)
        return len(driver.find_elements(By.CSS_SELECTOR, "#print-job-table a[download]")) >= 4

    WebDriverWait(desk, 240, poll_frequency=2).until(both_ready)
    shot(desk, "07-print-files-ready")
    links = {a.get_attribute("href"): a for a in desk.find_elements(By.CSS_SELECTOR, "#print-job-table a[download]")}
    csv_url = next(u for u in links if "/files/1/" in u and session_get(desk, u)[:8] == b"position")
    pdf_url = next(u for u in links if "/files/1/" in u and u != csv_url)
    assert session_get(desk, pdf_url).startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(session_get(desk, csv_url).decode())))
    assert len(rows) == 100_000 and rows[0]["verify_url"].startswith(app + "/01/09551234000010/10/KL2611/21/")

    # Until their labels are on the boxes the codes answer "not yet activated": the packaging line marks the first
    # 48 (the PDF sheets) applied on the batch page, and those go live.
    desk.get(batch_url)
    assert desk.find_element(By.ID, "activated-count").text == "0 of 100,000"
    activate_form = desk.find_element(By.ID, "activate-form")
    activate_form.find_element(By.NAME, "first_position").send_keys("1")
    activate_form.find_element(By.NAME, "last_position").send_keys("48")
    submit(desk, "activate-form")
    WebDriverWait(desk, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "activated-count").text == "48 of 100,000"
    )

    # A consumer scans the first code with a phone.
    phone.get(rows[0]["verify_url"])
    assert phone.find_element(By.CSS_SELECTOR, ".verdict h1").text == "Authentic. First scan."
    assert "Kopi Lestari" in phone.find_element(By.CSS_SELECTOR, ".brandbar").text
    phone.save_screenshot(str(ARTIFACTS / "08-phone-verify.png"))
    assert not serious_violations(phone), serious_violations(phone)
    phone.get(app + "/01/09551234000010/21/NOTAREALCODE")
    phone.save_screenshot(str(ARTIFACTS / "09-phone-not-recognised.png"))
    assert not serious_violations(phone), serious_violations(phone)

    # The brand sees it: on the overview chart, in the scan list, and by looking the code up.
    def overview_shows_both(driver):  # the phone's page confirms its view a moment after it loads
        driver.get(app + "/dashboard/")
        today = driver.find_elements(By.CSS_SELECTOR, "#per-day-table tbody tr")[-1].find_elements(By.TAG_NAME, "td")
        return today[1].get_attribute("textContent") == "2"  # the authentic scan and the made-up serial

    WebDriverWait(desk, 20, poll_frequency=1).until(overview_shows_both)
    WebDriverWait(desk, 10).until(lambda d: d.execute_script("return !!(window.Chart && Chart.instances)"))
    charted = desk.execute_script("return Object.values(Chart.instances).map(c => c.data.datasets[0].data.at(-1))")
    assert charted[0] == 2
    shot(desk, "10-overview")
    assert not serious_violations(desk), serious_violations(desk)
    desk.find_element(By.CSS_SELECTOR, "a.stat[href$='?days=1']").click()
    assert rows[0]["serial"] in desk.find_element(By.ID, "scan-table").text
    shot(desk, "11-scans")
    assert not serious_violations(desk), serious_violations(desk)
    desk.get(app + "/codes/lookup/")
    fill(desk, {"q": rows[0]["verify_url"]})
    desk.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    WebDriverWait(desk, 10).until(lambda d: d.find_elements(By.ID, "timeline"))
    timeline = desk.find_element(By.ID, "timeline").text
    assert "Authentic" in timeline and "QR page" in timeline
    shot(desk, "12-code-lookup")
    assert not serious_violations(desk), serious_violations(desk)
    desk.get(app + "/codes/lookup/?q=NOPE")
    assert not serious_violations(desk), serious_violations(desk)

    # The same pages on a 390 px phone: nothing wider than the screen but the tables' own scroll boxes.
    desk.set_window_size(390, 844)
    for path, name in (
        ("/dashboard/", "13-phone-overview"),
        ("/scans/", "14-phone-scans"),
        (batch_url, "15-phone-batch"),
    ):
        desk.get(path if path.startswith("http") else app + path)
        overflow = desk.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than a 390 px phone"
        desk.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_the_living_demo_pages_for_the_readme(app, desk, phone):
    """The demo brand's month of scans (seed_demo): the overview, scans and a copied code, as the README shows."""
    seeded = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=app["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    password = seeded.stdout.split("owner@demo.example / ")[1].split()[0]
    url = app["url"]
    desk.delete_all_cookies()
    desk.set_window_size(1280, 900)
    desk.get(url + "/accounts/login/")
    fill(desk, {"username": "owner@demo.example", "password": password})
    desk.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(desk, 20).until(lambda d: "/dashboard/" in d.current_url)
    WebDriverWait(desk, 10).until(lambda d: d.execute_script("return !!(window.Chart && Chart.instances)"))
    assert len(desk.find_elements(By.CSS_SELECTOR, "#regions li")) >= 5
    shot(desk, "20-demo-overview")
    assert not serious_violations(desk), serious_violations(desk)
    desk.get(url + "/scans/?outside=on")
    shot(desk, "21-demo-scans-outside-territory")
    desk.get(url + "/reports/")
    shot(desk, "22-demo-reports")
    assert not serious_violations(desk), serious_violations(desk)
    desk.get(url + "/settings/")
    shot(desk, "23-demo-settings")
    assert not serious_violations(desk), serious_violations(desk)
    # The copied label: the most scanned code of the demo, on a phone.
    desk.get(url + "/scans/?days=7&q=Jakarta")
    serial = desk.find_element(By.CSS_SELECTOR, "#scan-table tbody td.mono a").text
    phone.get(f"{url}/01/09506000134352/21/{serial}")
    assert "possible copy" in phone.find_element(By.CSS_SELECTOR, ".verdict h1").text
    phone.save_screenshot(str(ARTIFACTS / "24-phone-copied-code.png"))
    assert not serious_violations(phone), serious_violations(phone)


def test_journey_recall_and_progress(app, desk):
    """A brand recalls a unit: the batch badge follows the worker, the recall form shows only the chosen scope's
    fields, a Malay phone reads the brand's Malay message, and the recall page's breakdown reads in words."""
    url, env = app["url"], app["env"]

    def django(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + code],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "serialize_saas.settings"},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    # A brand with a product, a ready batch of three and a batch still waiting for a worker.
    made = django(
        "from codes import services; from codes.gs1 import gtin_check_digit\n"
        "from tests.factories import BrandFactory, LotFactory, MembershipFactory, ProductFactory, UserFactory\n"
        "from tests.factories import ready_batch\n"
        "brand = BrandFactory(name='Teh Tarik Co', slug='teh-tarik')\n"
        "MembershipFactory(brand=brand, user=UserFactory(email='owner@tehtarik.example'))\n"
        "gtin = '0950600077777' + gtin_check_digit('0950600077777')\n"
        "product = ProductFactory(brand=brand, name='Teh tarik', gtin=gtin)\n"
        "ready = ready_batch(product, quantity=3)\n"
        "waiting = services.order_batch(product=product, lot=LotFactory(product=product), quantity=4, enqueue=False)\n"
        "code = ready.codes.order_by('ordinal').first()\n"
        "print(ready.pk, waiting.pk, product.gtin, code.serial)\n"
    )
    ready_id, waiting_id, gtin, serial = made.split()[-4:]
    desk.delete_all_cookies()
    desk.set_window_size(1280, 900)
    desk.get(url + "/accounts/login/")
    fill(desk, {"username": "owner@tehtarik.example", "password": "correct horse battery"})
    desk.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(desk, 20).until(lambda d: "/accounts/login/" not in d.current_url)

    # The badge follows the worker: queued, then "Generating 25%" as the bar moves (no reload).
    desk.get(f"{url}/batches/{waiting_id}/")
    assert desk.find_element(By.ID, "batch-state").text == "Queued"
    django(
        "from codes.models import CodeBatch\n"
        f"CodeBatch.objects.filter(pk={waiting_id}).update(state='generating', codes_done=1)"  # a worker's first chunk
    )
    WebDriverWait(desk, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "batch-state").text == "Generating 25%"
    )

    # The recall form shows the chosen scope's fields only.
    desk.get(url + "/recalls/new/")

    def shown(scopes: str) -> bool:
        return desk.find_element(By.CSS_SELECTOR, f'[data-scopes="{scopes}"]').is_displayed()

    assert shown("batch") and not shown("lot") and not shown("serials") and not shown("lot serials")
    desk.find_element(By.CSS_SELECTOR, "input[name=scope][value=lot]").click()
    assert shown("lot") and shown("lot serials") and not shown("batch") and not shown("serials")
    desk.find_element(By.CSS_SELECTOR, "input[name=scope][value=serials]").click()
    assert shown("serials") and shown("lot serials") and not shown("lot") and not shown("batch")
    desk.find_element(By.CSS_SELECTOR, "input[name=scope][value=batch]").click()
    Select(desk.find_element(By.NAME, "batch")).select_by_value(ready_id)
    fill(
        desk,
        {
            "first_position": "1",
            "last_position": "1",
            "reason": "Seal may be loose",
            "consumer_message": "Return it to the shop for a refund.",
            "consumer_message_ms": "Pulangkan ke kedai untuk bayaran balik.",
        },
    )
    shot(desk, "30-recall-form")
    assert not serious_violations(desk), serious_violations(desk)
    submit(desk, "change-form")
    WebDriverWait(desk, 20).until(lambda d: re.search(r"/recalls/\d+/$", d.current_url))
    recall_url = desk.current_url

    def applied(driver):
        driver.get(recall_url)
        return "Changed 1 codes" in driver.page_source

    WebDriverWait(desk, 60, poll_frequency=1).until(applied)

    # A phone set to Malay reads the brand's Malay message under the recall warning.
    malay = chromium(390, 844, mobile=True)
    try:
        malay.execute_cdp_cmd(
            "Network.setUserAgentOverride",
            {"userAgent": malay.execute_script("return navigator.userAgent"), "acceptLanguage": "ms-MY,ms"},
        )
        malay.get(f"{url}/01/{gtin}/21/{serial}")
        page = malay.find_element(By.TAG_NAME, "main").text
        assert "Pulangkan ke kedai untuk bayaran balik." in page and "Return it to the shop" not in page
        malay.save_screenshot(str(ARTIFACTS / "31-phone-recall-malay.png"))
    finally:
        malay.quit()

    # The recall page says in words where scans after the recall came from (this server places nobody).
    def breakdown(driver):
        driver.get(recall_url)
        found = driver.find_elements(By.ID, "scans-by-country")
        return found and found[0].text

    text = WebDriverWait(desk, 20, poll_frequency=1).until(breakdown)
    assert "country not known (no location) 1 scan" in text and "?" not in text
    shot(desk, "32-recall-page")
    assert not serious_violations(desk), serious_violations(desk)


def run_in_app(app, code: str) -> str:
    """Python run against the embedded app's own database and settings (what a shell on its host runs)."""
    setup = (
        "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'serialize_saas.settings')\n"
        "django.setup()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", setup + code], cwd=ROOT, env=app["env"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_journey_demo_alerts(app, desk):
    """The demo's history raised the alerts live scans would: the owner finds a likely copy and grey-market
    alerts in the inbox, reads why in words with the scans that made it a copy, and gets an e-mail about it."""
    subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=app["env"], check=True, timeout=300)
    run_in_app(
        app,
        "from brands.models import User\n"
        f"user = User.objects.get(email='owner@demo.example'); user.set_password({PASSWORD!r}); user.save()\n",
    )
    url = app["url"]
    desk.delete_all_cookies()
    desk.set_window_size(1280, 900)
    desk.get(url + "/accounts/login/")
    fill(desk, {"username": "owner@demo.example", "password": PASSWORD})
    desk.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(desk, 20).until(lambda d: "/dashboard/" in d.current_url)
    desk.get(url + "/alerts/")
    kinds = [row.text for row in desk.find_elements(By.CSS_SELECTOR, "table.list tbody tr td:nth-child(2)")]
    assert "Likely copy" in kinds and kinds.count("Grey market") >= 20, kinds
    shot(desk, "40-demo-alert-inbox")
    assert not serious_violations(desk), serious_violations(desk)
    # The likely copy: why, in words; every scan of the unit, the evidence marked; where it was first scanned.
    desk.find_element(By.XPATH, "//tr[td[2]='Likely copy']/td[1]/a").click()
    WebDriverWait(desk, 10).until(lambda d: "/alerts/" in d.current_url and d.find_elements(By.ID, "reasons"))
    assert "Scanned in 7 different regions" in desk.find_element(By.ID, "reasons").text
    rows = desk.find_elements(By.CSS_SELECTOR, "#alert-scans tbody tr")
    places = " ".join(row.text for row in rows)
    assert len(rows) >= 7 and all(p in places for p in ("Jakarta", "Bangkok", "Singapore", "Kuching"))  # + README walk
    assert len(desk.find_elements(By.CSS_SELECTOR, "#alert-scans tr.evidence")) >= 1
    assert "in Kuala Lumpur" in desk.find_element(By.ID, "first-place").text
    assert "{'" not in desk.page_source and "unknown" not in desk.find_element(By.CSS_SELECTOR, ".facts").text
    alert_url = desk.current_url
    shot(desk, "41-demo-likely-copy-alert")
    assert not serious_violations(desk), serious_violations(desk)
    # The unit's own page carries the copy flag.
    desk.find_element(By.CSS_SELECTOR, ".facts a.mono").click()
    assert "Likely copy" in WebDriverWait(desk, 10).until(lambda d: d.find_element(By.ID, "copy-flag")).text
    shot(desk, "42-demo-copied-unit")
    # The e-mail an immediate subscriber gets about it (rendered by the app's own code, into a file to open).
    email_file = ARTIFACTS / "43-alert-email.html"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    text = run_in_app(
        app,
        "from django.conf import settings\nfrom django.core import mail\n"
        "settings.EMAIL_BACKEND = 'django.core.mail.backends.locmem.EmailBackend'\n"
        "from notifications.models import EmailSubscription\nfrom scans import alert_mail\n"
        "from scans.models import Alert\n"
        "alert = Alert.objects.get(kind='likely_copy')\n"
        "from django.utils import timezone\n"
        "EmailSubscription.objects.update_or_create(brand=alert.brand, email='owner@demo.example',"
        " defaults={'confirmed_at': timezone.now()})\n"
        "alert_mail.send_alert_email(alert_id=alert.pk, event='alert.opened')\n"
        "[message] = mail.outbox\n"
        f"open({str(email_file)!r}, 'w').write(message.alternatives[0][0])\n"
        "print(message.subject); print(message.body)\n",
    )
    assert "Likely copy of a unit" in text and "Vitamin C 1000 mg" in text and "L2026A" in text
    assert "Thailand" in text and "TH-10" not in text and alert_url in text
    desk.get(email_file.as_uri())
    assert "Scanned in 7 different regions" in desk.find_element(By.TAG_NAME, "body").text
    shot(desk, "43-alert-email")
    desk.find_element(By.LINK_TEXT, "Look into it").click()  # the absolute link leads back to the alert
    WebDriverWait(desk, 10).until(lambda d: d.current_url == alert_url)


def test_journey_onboarding(app, desk):
    """A new owner's first minutes: the landing page, sign-up, Start here's prefix step, the order form's trial
    limit and "awaiting approval" banner, the profile page and a password change."""
    from codes.gs1 import gtin_check_digit

    app, web_log = app["url"], app["web_log"]
    desk.set_window_size(1280, 900)
    desk.get(app + "/")
    desk.delete_all_cookies()  # whoever an earlier walk left signed in: this is a new visitor
    desk.get(app + "/")
    assert desk.find_elements(By.ID, "landing") and "/accounts/login/" not in desk.current_url
    shot(desk, "onboarding-01-landing")
    assert not serious_violations(desk), serious_violations(desk)

    desk.find_element(By.PARTIAL_LINK_TEXT, "Sign up").click()
    sign_up_on_the_page(desk, web_log, "owner@teh-tarik.example", "Teh Tarik Co")
    step = desk.find_element(By.ID, "prefix-step")
    assert (
        "Claim your GS1 Company Prefix" in step.text and desk.find_element(By.ID, "prefix-state").text == "not claimed"
    )
    step.find_element(By.LINK_TEXT, "Settings").click()
    WebDriverWait(desk, 20).until(lambda d: "/settings/" in d.current_url)
    fill(desk, {"prefix": "9557777"})
    click_and_wait(desk, desk.find_element(By.CSS_SELECTOR, "form[action*='prefix'] button"))
    desk.get(app + "/dashboard/")
    assert desk.find_element(By.ID, "prefix-state").text == "awaiting approval"
    shot(desk, "onboarding-02-start-here")

    desk.find_element(By.LINK_TEXT, "Add your first product").click()
    body = "0955777700001"
    fill(desk, {"name": "Teh tarik 3-in-1", "gtin": body + gtin_check_digit(body)})
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: "/products/" in d.current_url and "new" not in d.current_url)
    desk.find_element(By.LINK_TEXT, "Order codes").click()
    limits = desk.find_element(By.ID, "order-limits").text
    assert "Trial" in limits and "50,000" in limits and "100,000 codes left this month" in limits, limits
    banner = desk.find_element(By.ID, "unverified-banner").text
    assert "Not yet verified brand" in banner and "awaiting approval" in banner, banner
    shot(desk, "onboarding-03-order-form")

    desk.find_element(By.LINK_TEXT, "owner@teh-tarik.example").click()
    WebDriverWait(desk, 20).until(lambda d: d.current_url.endswith("/account/"))
    assert desk.find_element(By.ID, "profile-email").text == "owner@teh-tarik.example"
    assert desk.find_element(By.ID, "two-factor-state").text == "not set up"
    fill(desk, {"first_name": "Siti"})
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: "Profile saved" in d.page_source)
    shot(desk, "onboarding-04-profile")
    assert not serious_violations(desk), serious_violations(desk)

    desk.find_element(By.ID, "change-password").click()
    new_password = "another long pass phrase 2027"
    fill(desk, {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password})
    submit(desk)
    WebDriverWait(desk, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "Password changed" in d.find_element(By.TAG_NAME, "h1").text
    )
    desk.delete_all_cookies()
    desk.get(app + "/accounts/login/")
    fill(desk, {"username": "owner@teh-tarik.example", "password": new_password})
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: "/dashboard/" in d.current_url)


def test_journey_copied_label_in_malay(app):
    """A phone set to Bahasa Melayu opens the demo's copied label: the likely-copy verdict in Malay, saying how
    often, where and since when the unit was scanned, with the report form, and no error."""
    subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=app["env"], check=True, timeout=300)
    found = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", COPIED_SERIAL],
        cwd=ROOT,
        env=app["env"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    serial = found.stdout.strip().splitlines()[-1]
    malay = chromium(390, 844, mobile=True)
    try:
        agent = malay.execute_script("return navigator.userAgent")
        malay.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": "ms"})
        malay.get(f"{app['url']}/01/09506000134352/21/{serial}")
        assert malay.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ms"
        assert malay.find_element(By.CSS_SELECTOR, ".verdict h1").text == "Amaran: mungkin salinan"
        warning = malay.find_element(By.CSS_SELECTOR, "p.card.error").text
        assert re.match(
            r"Diimbas [\d,]+ kali di 7 tempat sejak \d+ \w+ \d{4}: Kuala Lumpur, Pulau Pinang, Perak dan 4 lagi\.",
            warning,
        ), warning
        assert "Ini mungkin salinan" in warning and "%(" not in malay.page_source
        assert "Beritahu kami di mana anda membelinya" in malay.find_element(By.TAG_NAME, "main").text
        shot(malay, "30-phone-copied-code-malay")
        assert not serious_violations(malay), serious_violations(malay)
    finally:
        malay.quit()


# The demo's copied label: the unit its scans flagged as a likely copy (scans.demo, "A copied label").
COPIED_SERIAL = (
    "from codes.models import Code; "
    "print(Code.objects.filter(suspect_at__isnull=False).order_by('-scan_count').values_list('serial', flat=True)[0])"
)


def test_journey_activation(app, desk, phone):
    """A leaked label verifies as nothing: a new batch's code scanned before activation says "not yet activated";
    the owner marks the batch applied on its page; the same code then verifies as authentic, first scan."""
    url, env = app["url"], app["env"]
    # A verified brand with a product and a ready batch of 12 codes, set up from a shell as an operator would.
    setup = (
        "from brands.models import User; from brands import services; from codes import services as codes\n"
        "from codes.gs1 import gtin_check_digit\n"
        "user = User.objects.create_user('packer@tehtarik.example', 'a long pass phrase 2026')\n"
        "brand = services.create_brand(name='Teh Tarik Bersama', owner=user)\n"
        "services.approve_brand_prefix(brand=brand, prefix='9557788')\n"
        "gtin = '0955778800001' + gtin_check_digit('0955778800001')\n"
        "product = codes.create_product(brand=brand, name='Teh tarik', gtin=gtin, serial_alphabet='alnum',"
        " serial_length=12)\n"
        "lot = codes.get_or_create_lot(product=product, number='TT2612')\n"
        "batch = codes.generate_batch(codes.order_batch(product=product, lot=lot, quantity=12, enqueue=False).pk)\n"
        "print(batch.pk, gtin, batch.codes.order_by('ordinal').first().serial)\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + setup],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "serialize_saas.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    batch_id, gtin, serial = made.stdout.split()[-3:]
    label = f"{url}/01/{gtin}/10/TT2612/21/{serial}"

    # The print file leaked before any label exists: the code is genuine, but its unit is not live.
    phone.get(label)
    assert phone.find_element(By.CSS_SELECTOR, ".verdict h1").text == "Not yet activated"
    assert "Authentic" not in phone.page_source
    phone.save_screenshot(str(ARTIFACTS / "activation-1-phone-not-yet-activated.png"))
    assert not serious_violations(phone), serious_violations(phone)

    # The owner marks the whole batch applied on its page (both positions left empty).
    desk.delete_all_cookies()
    desk.set_window_size(1280, 900)
    desk.get(url + "/accounts/login/")
    fill(desk, {"username": "packer@tehtarik.example", "password": PASSWORD})
    desk.find_element(By.CSS_SELECTOR, "form button").click()
    WebDriverWait(desk, 20).until(lambda d: "/dashboard/" in d.current_url)
    desk.get(f"{url}/batches/{batch_id}/")
    assert desk.find_element(By.ID, "activated-count").text == "0 of 12"
    shot(desk, "activation-2-batch-not-activated")
    assert not serious_violations(desk), serious_violations(desk)
    submit(desk, "activate-form")
    WebDriverWait(desk, 20, ignored_exceptions=(StaleElementReferenceException,)).until(  # the page reloads
        lambda d: d.find_element(By.ID, "activated-count").text == "12 of 12"
    )
    assert "12 units activated: their codes now verify as authentic." in desk.page_source
    shot(desk, "activation-3-batch-activated")

    # The same label now verifies; the scan before activation did not use up its first scan.
    phone.get(label)
    assert phone.find_element(By.CSS_SELECTOR, ".verdict h1").text == "Authentic. First scan."
    phone.save_screenshot(str(ARTIFACTS / "activation-4-phone-authentic.png"))


def test_journey_brand_without_gs1_prefix(app, desk, phone, tmp_path):
    """A small brand with no GS1 Company Prefix: sign-up, "I have no GS1 prefix" with its company registration,
    an operator's approval, a product with no GTIN (a Serialize product ref), codes, a QR print file, and a
    phone's scan that verifies authentic without ever showing a GTIN."""
    env, web_log, url = app["env"], app["web_log"], app["url"]
    desk.delete_all_cookies()
    desk.set_window_size(1280, 900)
    desk.get(url + "/signup/")
    sign_up_on_the_page(desk, web_log, "founder@jamu.example", "Jamu Sehat")

    # Settings: no GS1 prefix, so the company registration with its certificate, for an operator to review.
    certificate = tmp_path / "ssm-certificate.pdf"
    certificate.write_bytes(b"%PDF-1.4 SSM certificate of Jamu Sehat Sdn Bhd")
    desk.get(url + "/settings/")
    fill(desk, {"registration_number": "202401012345", "country": "MY"})
    desk.find_element(By.CSS_SELECTOR, "#registration-claim-form input[name=evidence]").send_keys(str(certificate))
    shot(desk, "30-no-prefix-registration")
    submit(desk, "registration-claim-form")
    WebDriverWait(desk, 20).until(lambda d: "Registration submitted" in d.page_source)
    assert "202401012345" in desk.find_element(By.ID, "claims").text
    assert not serious_violations(desk), serious_violations(desk)
    subprocess.run(  # the operator, from a shell (or /staff/claims/)
        [sys.executable, "manage.py", "approve_brand", "--brand", "jamu-sehat"]
        + ["--registration", "202401012345", "--country", "MY"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )

    # A product with no GTIN: Serialize gives it a ref.
    desk.get(url + "/products/new/")
    fill(desk, {"name": "Jamu kunyit asam", "variant": "bottle of 250 ml"})
    desk.find_element(By.CSS_SELECTOR, "input[name=identifier_kind][value=brand_ref]").click()
    shot(desk, "31-no-prefix-product-form")
    submit(desk)
    WebDriverWait(desk, 20).until(lambda d: d.find_elements(By.ID, "product-ref"))
    assert desk.find_element(By.ID, "product-ref").text == "Ref jamu-sehat.1"
    desk.find_element(By.LINK_TEXT, "Order codes").click()
    fill(desk, {"lot_number": "JS2612", "quantity": "20"})
    submit(desk, "order-form")
    WebDriverWait(desk, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_elements(By.ID, "batch-state") and d.find_element(By.ID, "batch-state").text == "Ready"
    )
    batch_url = desk.current_url

    # A GS1 DataMatrix would claim a GTIN: refused, saying why; QR codes and the CSV carry the ref's URL.
    Select(desk.find_element(By.NAME, "format")).select_by_value("datamatrix")
    submit(desk, "print-form")  # the click returns before the answer arrives: wait for it
    WebDriverWait(desk, 20).until(lambda d: "has none" in d.page_source)
    desk.get(batch_url)
    Select(desk.find_element(By.NAME, "format")).select_by_value("csv")
    submit(desk, "print-form")

    def csv_ready(driver):
        driver.get(batch_url)
        return driver.find_elements(By.CSS_SELECTOR, "#print-job-table a[download]")

    WebDriverWait(desk, 120, poll_frequency=2).until(csv_ready)
    link = desk.find_element(By.CSS_SELECTOR, "#print-job-table a[download][href*='/files/1/']")
    rows = list(csv.DictReader(io.StringIO(session_get(desk, link.get_attribute("href")).decode())))
    assert len(rows) == 20 and rows[0]["verify_url"].startswith(url + "/p/jamu-sehat.1/10/JS2612/21/")
    assert rows[0]["gs1_element_string"] == "" and "/01/" not in rows[0]["verify_url"]

    # The labels are on the jars: the whole batch is marked applied and goes live.
    desk.get(batch_url)
    submit(desk, "activate-form")
    WebDriverWait(desk, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "activated-count").text == "20 of 20"
    )

    # A consumer scans the first code: authentic, the brand's page, the product's ref and no GTIN.
    phone.get(rows[0]["verify_url"])
    assert phone.find_element(By.CSS_SELECTOR, ".verdict h1").text == "Authentic. First scan."
    assert "Jamu Sehat" in phone.find_element(By.CSS_SELECTOR, ".brandbar").text
    assert "jamu-sehat.1" in phone.find_element(By.ID, "product-ref").text and "GTIN" not in phone.page_source
    phone.save_screenshot(str(ARTIFACTS / "32-no-prefix-phone-verify.png"))
    assert not serious_violations(phone), serious_violations(phone)
