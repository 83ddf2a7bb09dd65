"""A brand's first week: it is told its prefix awaits approval, sees its plan's limits before ordering, and
finds its account and its brand's short name."""

import pytest
from django.test import Client

from brands import services
from brands.models import Brand, PrefixClaim
from tests.factories import BrandFactory, MembershipFactory, ProductFactory, ready_batch, sign_up

BANNER = 'id="unverified-banner"'


@pytest.fixture
def new_owner_client(db):
    client = Client()
    sign_up(client, "founder@fresh.example", "Fresh Sdn Bhd")
    return client


def _brand():
    return Brand.objects.get(name="Fresh Sdn Bhd")


def _prefix_step(client) -> str:
    page = client.get("/dashboard/").content.decode()
    assert 'id="prefix-step"' in page and "/settings/#prefixes" in page
    return page.split('id="prefix-state">')[1].split("<")[0]


def test_start_here_lists_claiming_the_prefix_with_its_state(new_owner_client):
    assert _prefix_step(new_owner_client) == "not claimed"
    services.claim_prefix(brand=_brand(), prefix="9506000")
    assert _prefix_step(new_owner_client) == "awaiting approval"
    services.reject_claim(claim=PrefixClaim.objects.get(brand=_brand()), note="Not your licence")
    assert _prefix_step(new_owner_client) == "rejected"
    services.claim_prefix(brand=_brand(), prefix="9521234")
    services.approve_claim(claim=PrefixClaim.objects.get(brand=_brand(), prefix="9521234"))
    assert _prefix_step(new_owner_client) == "approved"


def test_product_order_and_batch_pages_say_consumers_see_not_yet_verified(new_owner_client):
    brand = _brand()
    services.claim_prefix(brand=brand, prefix="9506000")
    product = ProductFactory(brand=brand, gtin="09506000134352")
    batch = ready_batch(product, quantity=2)
    paths = (f"/products/{product.pk}/", f"/products/{product.pk}/batches/new/", f"/batches/{batch.pk}/")
    for path in paths:
        page = new_owner_client.get(path).content.decode()
        assert BANNER in page and "Not yet verified brand" in page and "awaiting approval" in page, path
    dashboard = new_owner_client.get("/dashboard/").content.decode()
    assert BANNER in dashboard  # past Start here, the dashboard keeps saying it
    services.approve_claim(claim=PrefixClaim.objects.get(brand=brand))
    for path in (*paths, "/dashboard/"):
        assert BANNER not in new_owner_client.get(path).content.decode(), path


def test_a_verified_brands_pages_carry_no_banner(owner_client, brand):
    product = ProductFactory(brand=brand)
    assert BANNER not in owner_client.get(f"/products/{product.pk}/").content.decode()


def test_order_form_shows_the_trial_limits_before_ordering(new_owner_client):
    brand = _brand()
    product = ProductFactory(brand=brand, gtin="09506000134352")
    page = new_owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert "<strong>Trial</strong> plan" in page and "<strong>50,000</strong> codes" in page
    assert "<strong>100,000</strong> codes left this month" in page
    ready_batch(product, quantity=60)  # a small batch counts against the month
    page = new_owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert "<strong>99,940</strong> codes left this month" in page


def test_order_form_of_an_unlimited_plan_says_so(owner_client, brand):
    product = ProductFactory(brand=brand)
    page = owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert "no limit on batches or codes a month" in page


def test_verification_state_is_the_best_claim(db):
    brand = BrandFactory(prefix="")
    assert services.verification_state(brand) == "not_claimed"
    MembershipFactory(brand=brand)
    services.claim_prefix(brand=brand, prefix="9506000")
    assert services.verification_state(brand) == "pending"
    assert services.unverified_notice(brand, "09506000134352") == "pending"
    services.approve_claim(claim=PrefixClaim.objects.get(brand=brand))
    assert services.verification_state(brand) == "approved"
    assert services.unverified_notice(brand, "09506000134352") is None
    assert services.unverified_notice(brand, "04006381333931") == "approved"  # outside the approved prefix


# --- The order form, Settings, commands: what a new owner and the operator need to find ---


def test_settings_shows_the_brands_short_name_and_links_to_notifications(owner_client, brand):
    page = owner_client.get("/settings/").content.decode()
    assert f'id="brand-slug">{brand.slug}<' in page
    assert "Not available yet" not in page and 'href="/settings/notifications/"' in page


def test_settings_logo_preview_uses_what_the_pages_csp_allows(owner_client):
    response = owner_client.get("/settings/")
    csp = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";") if " " in d.strip())
    assert "data:" in csp["img-src"].split() and "blob:" not in csp["img-src"]
    from django.contrib.staticfiles import finders

    script = open(finders.find("js/settings_preview.js")).read()  # noqa: SIM115, PTH123
    assert "readAsDataURL" in script and "createObjectURL" not in script  # a blob: URL would be blocked


def test_list_brands_prints_slug_name_plan_and_claim_state(db):
    from io import StringIO

    from django.core.management import call_command

    pending = BrandFactory(name="Fresh Sdn Bhd", slug="fresh", prefix="", plan="trial")
    services.claim_prefix(brand=pending, prefix="9521234")
    BrandFactory(name="Nobody Yet", slug="nobody", prefix="", plan="trial")
    BrandFactory(name="Old Hand", slug="old-hand")
    out = StringIO()
    call_command("list_brands", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "slug\tname\tplan\tclaim"
    assert "fresh\tFresh Sdn Bhd\ttrial\tpending" in lines
    assert "nobody\tNobody Yet\ttrial\tnot_claimed" in lines and "old-hand\tOld Hand\tunlimited\tapproved" in lines
    out = StringIO()
    call_command("list_brands", "--state", "pending", stdout=out)
    assert out.getvalue().splitlines()[1:] == ["fresh\tFresh Sdn Bhd\ttrial\tpending"]


# --- The front door and a person's own account ---


def test_anonymous_visitors_get_a_landing_page_with_sign_up_and_log_in(db):
    response = Client().get("/")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="landing"' in page
    assert 'href="/signup/"' in page and 'href="/accounts/login/"' in page and "verify page" in page


def test_signed_in_people_still_go_to_their_dashboard(owner_client):
    response = owner_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_error_pages_back_link_reaches_the_landing_page_not_a_log_in(db):
    page = Client(raise_request_exception=False).get("/no-such-page/").content.decode()
    assert '<a href="/">Back to Serialize</a>' in page
    assert Client().get("/").status_code == 200


def test_profile_shows_the_account_and_saves_the_name(owner_client, owner):
    page = owner_client.get("/account/").content.decode()
    assert owner.user.email in page and 'href="/accounts/password_change/"' in page
    assert 'id="two-factor-state">not set up' in page and 'href="/account/delete/"' in page
    assert owner.brand.slug in page
    response = owner_client.post("/account/", {"first_name": "Aminah", "last_name": "Rahman"})
    assert response.status_code == 302
    owner.user.refresh_from_db()
    assert (owner.user.first_name, owner.user.last_name) == ("Aminah", "Rahman")


def test_profile_says_two_factor_is_on_once_enrolled(owner_client, owner):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=owner.user, name="app", confirmed=True)
    assert 'id="two-factor-state">on' in owner_client.get("/account/").content.decode()


def test_profile_needs_a_log_in(db):
    response = Client().get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_password_change_from_the_profile_works(owner_client, owner):
    response = owner_client.post(
        "/accounts/password_change/",
        {
            "old_password": "correct horse battery",
            "new_password1": "a new long pass 456",
            "new_password2": "a new long pass 456",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    owner.user.refresh_from_db()
    assert owner.user.check_password("a new long pass 456")
    assert "Back to your profile" in owner_client.get(response["Location"]).content.decode()
