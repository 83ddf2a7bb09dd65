"""The verify page with its "Register this product" link and the registration form (blank, then refused with
errors) pass axe-core with no serious or critical violation on a 390 px phone, in English and Bahasa Melayu,
with nothing wider than the screen."""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.scans.test_verify import qr_path
from tests.test_journey import serious_violations

from .helpers import live_units

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def phone(request):
    """Chromium as a 390 px phone whose browser asks for the test's `language` (on every request, links too)."""
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("chromium and chromedriver are needed: bash bin/install-system-packages --test")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0}, "userAgent": PHONE}
    )
    options.add_experimental_option("prefs", {"intl.accept_languages": request.getfixturevalue("language")})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def overflow(driver) -> int:
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("language,link_text", [("en", "Register this product"), ("ms", "Daftar produk ini")])
def test_verify_and_registration_pages_pass_axe_on_a_phone(phone, live_server, brand, language, link_text):
    code = live_units(brand)[0]
    phone.get(live_server.url + qr_path(code))
    assert phone.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    link = phone.find_element(By.CSS_SELECTOR, "#register a")
    assert link.text == link_text
    assert serious_violations(phone) == [] and overflow(phone) <= 1
    link.click()
    WebDriverWait(phone, 10).until(staleness_of(link))
    assert phone.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert len(phone.find_elements(By.CSS_SELECTOR, "fieldset.consent legend")) == 3
    assert serious_violations(phone) == [] and overflow(phone) <= 1
    button = phone.find_element(By.CSS_SELECTOR, "#registration button")
    button.click()  # nothing filled in: the errors show
    WebDriverWait(phone, 10).until(staleness_of(button))
    assert phone.find_elements(By.CSS_SELECTOR, "[role=alert]")
    assert serious_violations(phone) == [] and overflow(phone) <= 1
