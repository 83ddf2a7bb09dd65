"""What people see, in headless Chromium: the pages' own JavaScript at work."""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from codes import services as code_services
from codes.models import Code
from scans.models import Scan
from tests.factories import LotFactory, ProductFactory, ready_batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser():
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("chromium and chromedriver are needed: bash bin/install-system-packages --test")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=412,915",
        # A phone's browser: headless Chromium's own user agent says "HeadlessChrome", which the verify page
        # rightly treats as a bot (CrawlerDetect) whose visit is not a scan.
        "--user-agent=Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console messages, CSP reports among them
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def log_in(browser, live_server, membership):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    user = membership.user
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["brand_id"] = membership.brand_id
    session.save()
    browser.get(live_server.url + "/accounts/login/")
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "path": "/"})


def csp_violations(browser) -> list[str]:
    """What Chromium wrote to the console about the Content-Security-Policy since the last call."""
    return [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]


def test_consumer_shares_location_and_the_scan_moves_to_that_city(browser, live_server):
    product = ProductFactory(name="Vitamin C 1000 mg")
    code = Code.objects.filter(batch=ready_batch(product, quantity=2, activated=True)).first()
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": live_server.url, "permissions": ["geolocation"]})
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 1.4927, "longitude": 103.7414, "accuracy": 50}
    )
    browser.get(f"{live_server.url}/01/{product.gtin}/21/{code.serial}")
    assert "Authentic. First scan." in browser.find_element(By.CSS_SELECTOR, ".verdict h1").text
    # The page's script confirmed that a person opened it: only now is the first scan used up.
    WebDriverWait(browser, 10).until(lambda b: Code.objects.get(pk=code.pk).scan_count == 1)
    browser.find_element(By.ID, "locate").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "locate").text.endswith(", MY"))
    assert Scan.objects.get().region_code == "MY-01"


def test_batch_page_progress_bar_follows_the_worker_and_shows_ready(browser, live_server, owner):
    product = ProductFactory(brand=owner.brand)
    batch = code_services.order_batch(product=product, lot=LotFactory(product=product), quantity=30_000, enqueue=False)
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/batches/{batch.pk}/")
    assert browser.find_element(By.ID, "batch-state").text == "Queued"
    code_services.generate_batch(batch.pk, chunk_size=5_000)  # what the worker does, while the page polls
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.ID, "batch-state").text == "Ready")
    assert (
        "30,000 of" in browser.find_element(By.ID, "progress").text
        or "30000 of" in browser.find_element(By.ID, "progress").text
    )


def test_gtin_field_checks_the_check_digit_as_you_type(browser, live_server, owner):
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/products/new/")
    field = browser.find_element(By.NAME, "gtin")
    field.send_keys("9506000134353")
    assert "should be 2" in field.find_element(By.XPATH, "following-sibling::div").text
    field.send_keys("\b2")
    assert field.find_element(By.XPATH, "following-sibling::div").text == "Check digit OK"


def test_print_job_table_turns_ready_with_download_links_while_the_page_is_open(browser, live_server, owner):
    from codes import printing

    batch = ready_batch(ProductFactory(brand=owner.brand), quantity=300)
    job = printing.create_print_job(batch=batch, fmt="csv", part_size=100, enqueue=False)
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/batches/{batch.pk}/")
    browser.find_element(By.ID, "id_from_position").send_keys("12")  # a half-filled form must survive
    for part in job.files.filter(part__gt=0):
        printing.render_part(part.pk)  # what the workers do, while the page is open
    WebDriverWait(browser, 15).until(lambda b: "Ready" in b.find_element(By.ID, "print-job-table").text)
    links = browser.find_elements(By.CSS_SELECTOR, "#print-job-table a[download]")
    assert [link.text.split(" (")[0] for link in links] == ["Manifest", "Part 1", "Part 2", "Part 3"]
    assert browser.find_element(By.ID, "id_from_position").get_attribute("value") == "12"


def test_print_form_shows_only_the_chosen_formats_options(browser, live_server, owner):
    from selenium.webdriver.support.ui import Select

    batch = ready_batch(ProductFactory(brand=owner.brand), quantity=3)
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/batches/{batch.pk}/")

    def shown(name):
        return browser.find_element(By.NAME, name).is_displayed()

    choice = Select(browser.find_element(By.NAME, "format"))
    choice.select_by_value("csv")
    assert not any(shown(n) for n in ("error_level", "module_size", "page_size", "columns"))
    choice.select_by_value("datamatrix")
    assert shown("module_size") and not shown("error_level") and not shown("page_size")
    choice.select_by_value("pdf")
    assert shown("page_size") and shown("columns") and shown("error_level") and not shown("module_size")


def test_brand_switcher_switches_brand_on_choosing_one_without_a_csp_violation(browser, live_server, owner):
    from selenium.webdriver.support.ui import Select

    from brands.models import Role
    from tests.factories import BrandFactory, MembershipFactory

    MembershipFactory(user=owner.user, brand=BrandFactory(name="Second Brand"), role=Role.VIEWER)
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/dashboard/")
    assert csp_violations(browser) == []
    Select(browser.find_element(By.CSS_SELECTOR, ".switcher select")).select_by_visible_text("Second Brand")
    WebDriverWait(browser, 10).until(
        lambda b: (
            Select(b.find_element(By.CSS_SELECTOR, ".switcher select")).first_selected_option.text == "Second Brand"
        )
    )
    assert csp_violations(browser) == []


def test_recall_progress_bar_and_the_error_page_are_styled_within_the_csp(browser, live_server, owner, settings):
    from tests.factories import applied_recall

    change = applied_recall(ready_batch(ProductFactory(brand=owner.brand), quantity=10), first=1, last=5)
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/recalls/{change.pk}/")
    bar = browser.find_element(By.CSS_SELECTOR, "#progress .progress > div")
    track = browser.find_element(By.CSS_SELECTOR, "#progress .progress")
    WebDriverWait(browser, 5).until(lambda b: bar.size["width"] == track.size["width"])  # 100 %, drawn
    assert csp_violations(browser) == []
    settings.ROOT_URLCONF = "tests.urls_failing"
    browser.get(f"{live_server.url}/crash/")
    assert "Something went wrong" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.TAG_NAME, "body").value_of_css_property("max-width") == "512px"
    assert csp_violations(browser) == []


def test_settings_logo_preview_shows_a_chosen_file_within_the_csp(browser, live_server, owner, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), "#aa3300").save(logo)
    log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/settings/")
    assert csp_violations(browser) == []
    browser.find_element(By.NAME, "logo").send_keys(str(logo))
    preview = browser.find_element(By.ID, "preview-logo")
    WebDriverWait(browser, 10).until(lambda b: preview.get_property("naturalWidth") == 40)
    assert preview.is_displayed() and preview.get_attribute("src").startswith("data:image/png")
    assert csp_violations(browser) == []
