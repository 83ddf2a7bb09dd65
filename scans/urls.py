from django.urls import path, re_path

from . import views

urlpatterns = [
    # Every GS1 Digital Link with primary key 01; the path is parsed strictly by codes.gs1.
    re_path(r"^01/(?P<rest>.*)$", views.verify, name="verify"),
    # Codes of products without a GTIN (Serialize product refs): Digital Link-style, parsed by codes.gs1 too.
    re_path(r"^p/(?P<rest>.*)$", views.verify, name="verify_ref"),
    # The verify page at its own address, whatever the client accepts: the resolver's gs1:verificationService.
    re_path(r"^verify/01/(?P<rest>.*)$", views.verify_page, name="verify_page"),
    path(".well-known/gs1resolver", views.resolver_description, name="gs1resolver"),
    path("verify/locate/", views.precise_location, name="verify_locate"),
    path("verify/confirm/", views.confirm_page_view, name="verify_confirm"),
    path("verify/report/", views.counterfeit_report, name="counterfeit_report"),
]
