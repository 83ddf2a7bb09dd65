import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")
application = get_wsgi_application()

from brands.startup import refuse_bad_configuration  # noqa: E402 - needs the app registry loaded above

refuse_bad_configuration()  # gunicorn runs no system checks: a bad setting must not serve a single request
