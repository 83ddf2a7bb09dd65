"""The app's URLs plus the load-test baseline: the least a verify view could do in Django."""

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone

from codes.models import Code


def baseline(request, product_id: int, ordinal: int):
    """One UPDATE … RETURNING on the codes table and one INSERT into a scans table: nothing else."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Code._meta.db_table} SET scan_count = scan_count + 1, last_scanned_at = %s "
            "WHERE product_id = %s AND ordinal = %s RETURNING id, status, scan_count",
            [now, product_id, ordinal],
        )
        row = cursor.fetchone()
        # The same row shape as a real scan log entry.
        cursor.execute(
            "INSERT INTO bench_scans (code_id, brand_id, product_id, gtin, serial, scanned_at, source, outcome, place,"
            " city, region_code, country_code, location_source, user_agent_family, ip_hash, out_of_territory)"
            " VALUES (%s, NULL, %s, '', '', %s, 'api', %s, '', '', '', '', '', '', '', false)",
            [row[0] if row else None, product_id, now, "authentic" if row else "not_recognised"],
        )
    return JsonResponse({"authentic": row is not None, "scan_count": row[2] if row else 0}, status=200 if row else 404)


urlpatterns = [
    path("bench/baseline/<int:product_id>/<int:ordinal>", baseline),
    path("", include("serialize_saas.urls")),
]
