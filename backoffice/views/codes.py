from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands.access import get_for_actor, require
from brands.services import unverified_notice
from codes import activation, links, recalls, services
from codes.forms import ActivateForm, BatchOrderForm, PrintJobForm, ProductForm, ProductLinkForm
from codes.models import CodeBatch, Lot, PrintJob, Product, ProductLink, StatusChange
from codes.quotas import order_limits
from core.forms import add_service_error


def verify_host() -> dict:
    """The host every printed code will carry for good, and whether phones elsewhere can reach it."""
    host = urlsplit(settings.VERIFY_BASE_URL).hostname or ""
    local = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
    return {"verify_base_url": settings.VERIFY_BASE_URL, "verify_host_is_local": local}


def verification_banner(product: Product) -> dict:
    """The banner's context: why this product's codes answer "not yet verified brand", if they do."""
    return {"unverified": unverified_notice(product.brand, product.gtin), "gtin_scoped": True}


@require("brand.view")
def product_list(request):
    products = Product.objects.for_brand(request.brand)
    return render(request, "codes/product_list.html", {"products": products})


@require("brand.view", write="products.manage")
def product_create(request):
    form = ProductForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.create_product(brand=request.brand, **_product_values(form))
        except services.OrderError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{product} added.")
            return redirect("product_detail", product.pk)
    return render(request, "codes/product_form.html", {"form": form})


@require("brand.view", write="products.manage")
def product_edit(request, product_id: int):
    product = get_for_actor(request, Product, pk=product_id)
    if request.method != "POST":
        return render(request, "codes/product_form.html", {"form": ProductForm(instance=product), "product": product})
    with transaction.atomic():
        # Locked and re-read: a batch ordered meanwhile moves the counter and freezes the serial format.
        product = get_for_actor(request, Product.objects.select_for_update(), pk=product_id)
        form = ProductForm(request.POST, request.FILES, instance=product)
        if form.is_valid():
            try:
                services.update_product(product=product, changes=_product_values(form, only=form.changed_data))
            except services.OrderError as exc:
                add_service_error(form, exc)
                transaction.set_rollback(True)
            else:
                messages.success(request, "Product saved.")
                return redirect("product_detail", product.pk)
    return render(request, "codes/product_form.html", {"form": form, "product": product})


def _product_values(form: ProductForm, only=services.EDITABLE_PRODUCT_FIELDS) -> dict:
    """The product's fields as the form read them (of those in `only`)."""
    return {name: form.cleaned_data[name] for name in services.EDITABLE_PRODUCT_FIELDS if name in only}


@require("brand.view")
def product_detail(request, product_id: int):
    product = get_for_actor(request, Product, pk=product_id)
    lots = Lot.objects.for_brand(request.brand).filter(product=product)
    batches = CodeBatch.objects.for_brand(request.brand).filter(product=product).select_related("lot")
    context = {
        "product": product,
        "lots": lots,
        "batches": batches,
        "links": ProductLink.objects.for_brand(request.brand).filter(product=product),
        "link_form": ProductLinkForm(),
        **verification_banner(product),
    }
    return render(request, "codes/product_detail.html", context)


@require_POST
@require("brand.view", write="products.manage")
def product_link_add(request, product_id: int):
    """Attach a GS1 link (leaflet, product page, recall status ...) that the product's Digital Link resolves to."""
    product = get_for_actor(request, Product, pk=product_id)
    form = ProductLinkForm(request.POST)
    if form.is_valid():
        try:
            link = links.add_link(product=product, **form.cleaned_data)
        except links.LinkError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Link added: {link}.")
            return redirect("product_detail", product.pk)
    return render(request, "form_page.html", {"title": f"Add a link to {product}", "form": form}, status=400)


@require_POST
@require("brand.view", write="products.manage")
def product_link_remove(request, link_id: int):
    link = get_for_actor(request, ProductLink.objects.select_related("product"), pk=link_id)
    links.remove_link(link=link)
    messages.success(request, f"Link removed: {link}.")
    return redirect("product_detail", link.product.pk)


@require("brand.view", write="codes.order")
def batch_order(request, product_id: int):
    product = get_for_actor(request, Product, pk=product_id)
    form = BatchOrderForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.order_batch_in_lot(
                product=product,
                lot_number=data["lot_number"],
                expires_on=data["expires_on"],
                manufactured_on=data["manufactured_on"],
                quantity=data["quantity"],
                with_pin=data["with_pin"],
                ordered_by=request.user,
            )
        except services.OrderError as exc:
            add_service_error(form, exc, {"expiry": "expires_on", "lot": "lot_number"})
        else:
            messages.success(request, f"Batch of {batch.quantity:,} codes ordered.")
            return redirect("batch_detail", batch.pk)
    context = {"form": form, "product": product, "limits": order_limits(request.brand), **verify_host()}
    return render(request, "codes/batch_order.html", {**context, **verification_banner(product)})


@require("brand.view")
def batch_list(request):
    batches = CodeBatch.objects.for_brand(request.brand).select_related("product", "lot")[:200]
    return render(request, "codes/batch_list.html", {"batches": batches})


@require("brand.view")
def batch_detail(request, batch_id: int):
    batch = get_for_actor(request, CodeBatch.objects.select_related("product", "lot"), pk=batch_id)
    print_jobs = list(PrintJob.objects.for_brand(request.brand).filter(batch=batch).prefetch_related("files")[:50])
    context = {
        "batch": batch,
        "print_jobs": print_jobs,
        "print_jobs_active": any(not job.is_finished for job in print_jobs),
        "print_form": PrintJobForm(batch=batch),
        "activate_form": ActivateForm(),
        **verify_host(),
        **verification_banner(batch.product),
    }
    return render(request, "codes/batch_detail.html", context)


@require_POST
@require("codes.activate")
def batch_activate(request, batch_id: int):
    """The labels of a batch, or of a range of its positions, are on the products: their codes go live."""
    batch = get_for_actor(request, CodeBatch.objects.select_related("product"), pk=batch_id)
    form = ActivateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Positions are whole numbers from 1.")
        return redirect("batch_detail", batch.pk)
    try:
        change = activation.activate(
            brand=request.brand,
            batch=batch,
            first_position=form.cleaned_data["first_position"],
            last_position=form.cleaned_data["last_position"],
            by=request.user,
        )
    except recalls.ChangeError as exc:
        messages.error(request, exc.message)
        return redirect("batch_detail", batch.pk)
    return activated(request, change, back=redirect("batch_detail", batch.pk))


def activated(request, change: StatusChange | None, *, back):
    """Say what an activation did: live now, nothing left to do, or handed to a worker (then show its progress)."""
    if change is None:
        messages.info(request, "Nothing to activate: those units are live already.")
    elif change.is_finished:
        messages.success(request, f"{change.codes_changed:,} units activated: their codes now verify as authentic.")
    else:
        messages.success(request, f"Activating {change.quantity:,} units: they go live as the progress bar fills.")
        return redirect("recall_detail", change.pk)
    return back


@require("brand.view")
def batch_progress(request, batch_id: int):
    batch = get_for_actor(request, CodeBatch, pk=batch_id)
    return JsonResponse(batch.progress(state_label=batch.get_state_display()))


@require_POST
@require("codes.order")
def batch_retry(request, batch_id: int):
    batch = get_for_actor(request, CodeBatch, pk=batch_id)
    if services.retry_batch(batch):
        messages.success(request, "Generation resumes where it stopped.")
    return redirect("batch_detail", batch.pk)
