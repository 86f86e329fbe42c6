import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
application = get_wsgi_application()

from crm import rls  # noqa: E402  (after the settings are configured)

# A web process works on no agent's rows outside a request, whatever thread runs there.
rls.close_outside_requests()
