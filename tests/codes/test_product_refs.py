"""Products without a GTIN (brands without a GS1 prefix): their refs, their verify URLs, their print files, and
the upgrade to a GTIN. Nothing made for them may pose as a GTIN or a GS1 element string."""

import csv
import io
import subprocess
import zipfile
from datetime import date

import pytest
import zxingcpp
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from codes import gs1, printing
from codes.models import Code, Product
from codes.serials import SerialCodec, SerialFormat
from tests.factories import BrandFactory, LotFactory, ready_batch, ready_print_job, ref_product

KEY = bytes(range(32))


# --- Refs and their URLs (pure) ----------------------------------------------------------------------------


def test_ref_url_round_trips_with_lot_serial_and_expiry():
    url = gs1.ref_link_url(
        "https://verify.example.com/",
        ref="herbs-and-co.3",
        lot="L/26",
        serial="7KQ3M9X2VD4H",
        expiry=date(2030, 12, 31),
    )
    assert url == "https://verify.example.com/p/herbs-and-co.3/10/L%2F26/21/7KQ3M9X2VD4H?17=301231"
    path, _, query = url.removeprefix("https://verify.example.com").partition("?")
    assert gs1.parse_verify_link(path, query) == gs1.RefLink(
        "herbs-and-co.3", "L/26", "7KQ3M9X2VD4H", date(2030, 12, 31)
    )


@given(slug=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,59}", fullmatch=True), number=st.integers(1, 9_999_999))
def test_a_ref_is_never_all_digits_so_never_taken_for_a_gtin(slug, number):
    ref = gs1.product_ref(slug, number)
    assert not ref.isdigit() and gs1.is_product_ref(ref)
    with pytest.raises(gs1.GS1Error):
        gs1.parse_digital_link(f"/01/{ref}/21/ABC")
    assert isinstance(gs1.parse_verify_link(f"/p/{ref}/21/ABC"), gs1.RefLink)


@pytest.mark.parametrize(
    "path",
    [
        "/p/09506000134352/21/ABC",  # a GTIN is not a ref
        "/p/acme/21/ABC",  # no number
        "/p/acme.0/21/ABC",
        "/p/acme.1/21/ABC/10/L1",  # lot after serial
        "/p/acme.1/01/09506000134352/21/ABC",  # no GTIN inside a ref's path
        "/p/acme.1/21",
        "/p/acme.1/21/A%2",
        "/p/ac%20me.1/21/ABC",
    ],
)
def test_malformed_ref_paths_are_refused(path):
    with pytest.raises(gs1.GS1Error):
        gs1.parse_verify_link(path)


def test_serials_under_a_ref_differ_from_any_gtins_and_decrypt_back():
    fmt = SerialFormat.ALNUM
    under_ref = SerialCodec(KEY, "acme.1", fmt)
    assert under_ref.serials(0, 100) != SerialCodec(KEY, "09506000134352", fmt).serials(0, 100)
    assert under_ref.serials(0, 100) != SerialCodec(KEY, "acme.2", fmt).serials(0, 100)
    assert [under_ref.ordinal(s) for s in under_ref.serials(0, 100)] == list(range(100))
    for bad in ("acme", "0950600013435", "٠" * 14):
        with pytest.raises(ValueError):
            SerialCodec(KEY, bad, fmt)


# --- Products: created, listed, edited and upgraded from the dashboard -----------------------------------


@pytest.fixture
def small_brand(db):
    return BrandFactory(name="Herbs and Co", slug="herbs-and-co", prefix="")


@pytest.fixture
def small_owner_client(small_brand):
    from brands.models import Role
    from tests.factories import MembershipFactory, logged_in_client

    return logged_in_client(MembershipFactory(brand=small_brand, role=Role.OWNER))


def test_a_brand_without_a_prefix_adds_a_product_with_no_gtin(small_owner_client, small_brand):
    response = small_owner_client.post(
        "/products/new/",
        {"name": "Herbal Balm", "identifier_kind": "brand_ref", "gtin": "", "serial_alphabet": "alnum"},
    )
    product = Product.objects.get(brand=small_brand)
    assert response.status_code == 302 and (product.gtin, product.ref) == (None, "herbs-and-co.1")
    page = small_owner_client.get(f"/products/{product.pk}/").content.decode()
    assert "Ref herbs-and-co.1" in page and "GTIN None" not in page
    assert "herbs-and-co.1" in small_owner_client.get("/products/").content.decode()


def test_choosing_a_gtin_without_one_or_no_gtin_with_one_is_a_form_error(small_owner_client):
    missing = small_owner_client.post("/products/new/", {"name": "Balm", "gtin": "", "serial_alphabet": "alnum"})
    assert "choose “No GTIN”" in missing.context["form"].errors["gtin"][0]
    both = small_owner_client.post(
        "/products/new/",
        {"name": "Balm", "identifier_kind": "brand_ref", "gtin": "09506000134352", "serial_alphabet": "alnum"},
    )
    assert "Leave the GTIN empty" in both.context["form"].errors["gtin"][0]
    assert not Product.objects.exists()


def test_another_brand_cannot_see_or_upgrade_a_ref_product(small_brand, outsider_client):
    product = ref_product(small_brand)
    assert outsider_client.get(f"/products/{product.pk}/").status_code == 404
    assert (
        outsider_client.post(f"/products/{product.pk}/edit/", {"name": "x", "gtin": "9506000134352"}).status_code == 404
    )
    assert "herbs-and-co.1" not in outsider_client.get("/products/").content.decode()
    product.refresh_from_db()
    assert product.gtin is None and product.name == "Herbal Balm 30 g"


def test_a_ref_product_with_codes_is_given_a_gtin_on_its_edit_page_once_the_prefix_is_approved(
    small_owner_client, small_brand
):
    from brands import services as brand_services

    product = ref_product(small_brand)
    ready_batch(product, quantity=2)
    edit = {"name": product.name, "gtin": "9521234000013", "serial_alphabet": "alnum", "serial_length": 12}
    claim = brand_services.claim_prefix(brand=small_brand, prefix="9521234")
    refused = small_owner_client.post(f"/products/{product.pk}/edit/", edit)
    assert refused.status_code == 200 and "approved" in refused.context["form"].errors["gtin"][0]
    brand_services.approve_claim(claim=claim)
    assert small_owner_client.post(f"/products/{product.pk}/edit/", edit).status_code == 302
    product.refresh_from_db()
    assert (product.gtin, product.ref) == ("09521234000013", "herbs-and-co.1")
    form = small_owner_client.get(f"/products/{product.pk}/edit/").context["form"]
    assert form.fields["gtin"].disabled  # labels now carry it


# --- Print files ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ref_batch(small_brand):
    product = ref_product(small_brand, name="Herbal Balm")
    return ready_batch(product, quantity=6, lot=LotFactory(product=product, number="L2026A"))


def part_bytes(job, part=1) -> bytes:
    with default_storage.open(job.files.get(part=part).name, "rb") as f:
        return f.read()


def serials_of(batch) -> list[str]:
    return list(Code.objects.filter(batch=batch).order_by("ordinal").values_list("serial", flat=True))


def test_csv_of_a_ref_product_has_its_verify_url_and_no_gs1_element_string(ref_batch):
    rows = list(csv.reader(io.StringIO(part_bytes(ready_print_job(ref_batch, "csv")).decode())))
    assert rows[0] == ["position", "serial", "verify_url", "gs1_element_string", "gs1_human_readable"]
    for (_position, serial, url, element, hri), expected in zip(rows[1:], serials_of(ref_batch), strict=True):
        assert serial == expected and element == "" and hri == ""
        assert url == f"{settings.VERIFY_BASE_URL}/p/herbs-and-co.1/10/L2026A/21/{serial}?17=301231"
        assert "/01/" not in url


def test_qr_codes_of_a_ref_product_read_as_its_verify_url(ref_batch):
    with zipfile.ZipFile(io.BytesIO(part_bytes(ready_print_job(ref_batch, "qr-png")))) as archive:
        first = archive.read(sorted(archive.namelist())[0])
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(first)))
    assert found.text.startswith(f"{settings.VERIFY_BASE_URL}/p/herbs-and-co.1/10/L2026A/21/")


def test_gs1_datamatrix_of_a_ref_product_is_refused_with_a_form_error(ref_batch, small_brand):
    from brands.models import Role
    from tests.factories import MembershipFactory, logged_in_client

    client = logged_in_client(MembershipFactory(brand=small_brand, role=Role.OWNER))
    response = client.post(f"/batches/{ref_batch.pk}/print-jobs/new/", {"format": "datamatrix", "module_size": 4})
    assert response.status_code in (200, 400) and "has none" in response.context["form"].errors["format"][0]
    pdf = client.post(f"/batches/{ref_batch.pk}/print-jobs/new/", {"format": "pdf", "symbology": "datamatrix"})
    assert "has none" in pdf.context["form"].errors["symbology"][0]
    with pytest.raises(printing.PrintError):
        printing.create_print_job(batch=ref_batch, fmt="datamatrix", enqueue=False)
    assert not ref_batch.print_jobs.exists()


def test_export_batch_refuses_a_datamatrix_of_a_ref_product(ref_batch, tmp_path):
    with pytest.raises(CommandError, match="--format: A GS1 DataMatrix"):
        call_command("export_batch", str(ref_batch.pk), "--format", "datamatrix", "--out", str(tmp_path / "out"))


def test_pdf_labels_of_a_ref_product_print_its_ref_and_no_gs1_text(ref_batch, tmp_path):
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(part_bytes(ready_print_job(ref_batch, "pdf")))
    words = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split()
    )
    assert "Ref herbs-and-co.1" in words and "Lot L2026A · Exp 2030-12-31" in words
    assert f"SN {serials_of(ref_batch)[0]}" in words
    assert "(01)" not in words and "(21)" not in words and "GTIN" not in words


def test_print_files_of_a_ref_product_are_named_and_described_by_its_ref(ref_batch):
    job = ready_print_job(ref_batch, "csv")
    manifest = printing.manifest(job, [])
    assert manifest["batch"]["gtin"] is None and manifest["batch"]["ref"] == "herbs-and-co.1"
    name = printing.job_filename(job, job.files.get(part=1))
    assert name.startswith("herbs-and-co-herbs-and-co.1-L2026A-batch")


# --- The rest of a ref product's life: recalls by its ref, and no SSCC cartons without a GS1 prefix ---------


def test_the_recall_command_names_a_ref_product_by_its_ref(ref_batch, capsys):
    serial = serials_of(ref_batch)[0]
    call_command(
        "recall", "--brand", "herbs-and-co", "--serial", serial, "--gtin", "herbs-and-co.1", "--reason", "Mould"
    )
    assert Code.objects.get(batch=ref_batch, serial=serial).status == "recalled"
    assert '"codes": 1' in capsys.readouterr().out


def test_cartons_with_sscc_need_a_gs1_prefix_so_a_ref_product_has_none(ref_batch):
    from distributors import services as distributor_services

    with pytest.raises(distributor_services.DistributorError, match="has none") as refused:
        distributor_services.pack_cartons(
            batch=ref_batch, first_position=1, last_position=6, size=3, company_prefix="9521234"
        )
    assert refused.value.field == "company_prefix"
