from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Every list pages by an opaque cursor (stable under inserts, no COUNT over millions of rows)."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        """`page_size` as asked (at most `max_page_size`); one that is no whole number from 1 (`null`, `abc`, `0`)
        is a 400 naming it, never silently the default."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not asked.isascii() or not asked.isdigit() or int(asked) < 1:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return min(int(asked), self.max_page_size)
