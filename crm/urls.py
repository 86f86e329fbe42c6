from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "WhatsApp CRM administration"
admin.site.site_title = "WhatsApp CRM admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("whatsapp/", include("whatsapp.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("", include("agents.urls")),
]
