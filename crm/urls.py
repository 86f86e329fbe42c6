from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "WhatsApp CRM administration"
admin.site.site_title = "WhatsApp CRM admin"

urlpatterns = [
    # One login for everyone (throttled, with the two-factor step) and one password change (audited):
    # the admin's own pages for them only redirect there.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change", query_string=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("whatsapp/", include("whatsapp.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("", include("dashboard.urls")),
]
# Media files from the file system in development (`make run`); nothing is added with DEBUG off.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
