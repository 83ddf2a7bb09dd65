"""The half-logged-in rule, in one place for every page (including pages added later)."""

from django.shortcuts import redirect

from .access import is_half_logged_in, second_factor_url

# What a session that still owes its second factor may reach: the second-factor page and log-out, besides the
# public pages (views marked `public`: the verify page, brand logos) that anyone may open.
HALF_LOGGED_IN_PAGES = {"two_factor", "logout"}


class SecondFactorMiddleware:
    """A password alone is not a sign-in where a second factor is owed: every other page sends the session to
    the second-factor page (so it cannot change the password, delete the account or reach the admin)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if getattr(view_func, "public", False) or (match and match.url_name in HALF_LOGGED_IN_PAGES):
            return None
        if is_half_logged_in(request):
            return redirect(second_factor_url(request.get_full_path() if request.method == "GET" else "/dashboard/"))
        return None
