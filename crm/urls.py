from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "WhatsApp CRM administration"
admin.site.site_title = "WhatsApp CRM admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("agents.urls")),
]
# Media files from the file system in development (`make run`); nothing is added with DEBUG off.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
