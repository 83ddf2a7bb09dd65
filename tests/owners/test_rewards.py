"""Rewards: points for a unit's first registration only (never a rescan, never twice for one unit, not even
after erasure), capped a day per person and per device; the owner's balance on "My registration"; the brand's
balances as CSV for admins."""

import csv
import io
import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from brands.models import Role
from owners import services
from owners.models import ErasedBy, PointsAward, Registration, RewardProgramme
from owners.sealing import Contact
from tests.factories import MembershipFactory, logged_in_client

from .helpers import ANSWERS, live_units, register, register_link, verify_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(brand):
    return RewardProgramme.objects.create(brand=brand, enabled=True, points=25, person_daily_cap=2, device_daily_cap=3)


def link_from(code, ip: str) -> str:
    """The registration link of `code`'s verify page, scanned from network `ip` (a device of its own)."""
    link = register_link(verify_page(code, ip=ip))
    assert link
    return link


def points_of(response) -> str:
    found = re.search(r'<p id="points">\s*(.*?)\s*</p>', response.content.decode(), re.S)
    return found.group(1) if found else ""


def test_a_first_registration_earns_the_points_and_the_thank_you_page_says_so(brand, programme):
    code = live_units(brand)[0]
    response = register(link_from(code, "175.139.1.1"))
    assert response.status_code == 200 and points_of(response) == "You earned 25 points."
    assert PointsAward.objects.get(registration__code=code).points == 25


def test_a_rescan_and_a_second_registration_of_a_unit_pay_nothing(brand, programme):
    code = live_units(brand)[0]
    register(link_from(code, "175.139.1.1"))
    again = register(link_from(code, "175.139.1.1"))  # the same owner scanning and registering again
    other = register(link_from(code, "175.139.9.9"), name="Tan", email="tan@example.my")  # a copy's holder
    assert "Already registered to you" in again.content.decode() and points_of(again) == ""
    assert "Already registered" in other.content.decode() and points_of(other) == ""
    assert list(PointsAward.objects.values_list("points", flat=True)) == [25]


def test_a_unit_erased_and_registered_again_never_pays_twice(brand, programme):
    code = live_units(brand)[0]
    register(link_from(code, "175.139.1.1"))
    services.erase_registration(registration=Registration.objects.get(code=code), by=ErasedBy.OWNER)
    response = register(link_from(code, "175.139.1.1"))
    assert points_of(response) == "" and PointsAward.objects.count() == 1


def test_a_person_is_paid_at_most_the_daily_cap_whatever_the_device(brand, programme):
    units = live_units(brand, quantity=3)
    answers = [
        register(link_from(code, f"175.139.{n}.1"), email="SITI@example.my" if n else "siti@example.my")
        for n, code in enumerate(units)
    ]
    assert [points_of(a) for a in answers[:2]] == ["You earned 25 points."] * 2
    assert "daily limit" in points_of(answers[2]), "the third of the day, from a third network, is capped"
    assert list(PointsAward.objects.order_by("pk").values_list("points", "refused")) == [
        (25, ""),
        (25, ""),
        (0, "person_cap"),
    ]
    assert Registration.objects.count() == 3, "the registration itself is taken all the same"


def test_a_device_is_paid_at_most_the_daily_cap_whatever_the_address(brand, programme):
    units = live_units(brand, quantity=4)
    answers = [register(link_from(code, "175.139.1.1"), email=f"owner{n}@example.my") for n, code in enumerate(units)]
    assert [bool(PointsAward.objects.get(registration__code=code).points) for code in units] == [True] * 3 + [False]
    assert PointsAward.objects.get(registration__code=units[3]).refused == "device_cap"
    assert "daily limit" in points_of(answers[3])


def test_a_registration_without_an_address_earns_nothing(brand, programme):
    response = register(link_from(live_units(brand)[0], "175.139.1.1"), email="", phone="+60 12-345 6789")
    assert "e-mail" in points_of(response)
    assert PointsAward.objects.get().refused == "no_email"


def test_with_the_programme_off_or_absent_nothing_is_paid(brand, programme):
    units = live_units(brand)
    RewardProgramme.objects.filter(pk=programme.pk).update(enabled=False)
    assert points_of(register(link_from(units[0], "175.139.1.1"))) == ""
    RewardProgramme.objects.all().delete()
    assert points_of(register(link_from(units[1], "175.139.1.2"))) == ""
    assert not PointsAward.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_registrations_at_once_never_exceed_the_cap(brand):
    """Many registrations of one person at the same moment: the programme row's lock decides them one by one."""
    RewardProgramme.objects.create(brand=brand, enabled=True, points=5, person_daily_cap=2, device_daily_cap=100)
    units = live_units(brand, quantity=6)
    start = threading.Barrier(len(units))

    def register_one(code):
        try:
            start.wait()
            services.register_unit(
                code=code,
                scan_id=None,
                contact=Contact(name="Siti", email="siti@example.my", phone=""),
                consents={purpose: answer == "yes" for purpose, answer in _consents().items()},
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=register_one, args=(code,)) for code in units]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(PointsAward.objects.values_list("points", flat=True)) == [0, 0, 0, 0, 5, 5]


def test_the_caps_are_per_day(brand):
    RewardProgramme.objects.create(brand=brand, enabled=True, points=5, person_daily_cap=1, device_daily_cap=1)
    units = live_units(brand, quantity=3)
    today = timezone.now()
    for code, when in zip(units, (today - timedelta(days=1), today - timedelta(days=1), today), strict=True):
        services.register_unit(
            code=code,
            scan_id=None,
            contact=Contact(name="Siti", email="siti@example.my", phone=""),
            consents={purpose: answer == "yes" for purpose, answer in _consents().items()},
            now=when,
        )
    assert [PointsAward.objects.get(registration__code=code).points for code in units] == [5, 0, 5]


def test_the_owners_export_holds_the_points(brand, programme):
    register(link_from(live_units(brand)[0], "175.139.1.1"))
    assert services.export_registration(Registration.objects.get())["points"] == 25


def _consents():
    return {name.removeprefix("consent_"): answer for name, answer in ANSWERS.items()}


def my_page(mailoutbox, django_capture_on_commit_callbacks, email="siti@example.my") -> str:
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/my-registration/", {"email": email})
    link = re.search(r"https?://[^/\s]+(/my-registration/[^\s]+/)", mailoutbox[-1].body).group(1)
    return Client().get(link).content.decode()


def test_the_balance_is_on_my_registration(
    brand, programme, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    units = live_units(brand, quantity=3)
    for n, code in enumerate(units):
        register(link_from(code, f"175.139.{n}.1"))  # the third is over the person's cap
    page = my_page(mailoutbox, django_capture_on_commit_callbacks)
    assert re.search(rf"<dt>{brand.name}</dt>\s*<dd>\s*50 points\s*</dd>", page)


def test_no_balance_is_shown_without_a_programme(brand, mailoutbox, eager_tasks, django_capture_on_commit_callbacks):
    register(link_from(live_units(brand)[0], "175.139.1.1"))
    assert 'id="points"' not in my_page(mailoutbox, django_capture_on_commit_callbacks)


def balances_csv(client) -> list[list[str]]:
    response = client.get("/owners/rewards/balances.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_brand_exports_balances_per_person(brand, programme, owner_client):
    units = live_units(brand, quantity=4)
    register(link_from(units[0], "175.139.1.1"))
    register(link_from(units[1], "175.139.2.1"), email="Siti@Example.my")
    register(link_from(units[2], "175.139.3.1"))  # capped: counted, no points
    register(link_from(units[3], "175.139.4.1"), name="Evil", email="=cmd@example.my")
    header, *rows = balances_csv(owner_client)
    assert header == list(services.BALANCE_HEADER)
    expected = [["'=cmd@example.my", "25", "1", "0"], ["siti@example.my", "50", "2", "1"]]
    assert sorted(row[:4] for row in rows) == expected, "per person, the formula-like address as text"


def test_without_contact_access_the_person_is_a_shortened_index(brand, programme):
    register(link_from(live_units(brand)[0], "175.139.1.1"))
    [row] = list(services.balance_rows(brand=brand, with_email=False))
    assert row[0] == Registration.objects.get().contact_lookup[:12] and "@" not in row[0]


def test_the_export_and_the_settings_need_the_permission_and_stay_in_the_brand(
    brand, programme, viewer_client, outsider_client, owner_client
):
    register(link_from(live_units(brand)[0], "175.139.1.1"))
    assert viewer_client.get("/owners/rewards/balances.csv").status_code == 403
    assert viewer_client.get("/owners/rewards/").status_code == 403
    operator = logged_in_client(MembershipFactory(brand=brand, role=Role.OPERATOR))
    assert operator.post("/owners/rewards/", {"enabled": "on", "points": "1"}).status_code == 403
    assert balances_csv(outsider_client) == [list(services.BALANCE_HEADER)], "another brand sees only its own"
    assert Client().get("/owners/rewards/balances.csv").status_code == 302  # to the log-in


def test_an_admin_turns_the_programme_on_with_its_caps(brand, owner_client):
    page = owner_client.get("/owners/rewards/")
    assert page.status_code == 200 and "Reward registrations with points" in page.content.decode()
    data = {"enabled": "on", "points": "15", "person_daily_cap": "1", "device_daily_cap": "2"}
    assert owner_client.post("/owners/rewards/", data).status_code == 302
    saved = RewardProgramme.objects.get(brand=brand)
    assert (saved.enabled, saved.points, saved.person_daily_cap, saved.device_daily_cap) == (True, 15, 1, 2)
    refused = owner_client.post("/owners/rewards/", {**data, "person_daily_cap": "0"})
    assert refused.status_code == 200 and RewardProgramme.objects.get(brand=brand).person_daily_cap == 1
