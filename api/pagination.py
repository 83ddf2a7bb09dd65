from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Every list pages by an opaque cursor (stable under inserts, no COUNT over millions of rows)."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
