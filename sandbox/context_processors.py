from django.conf import settings


def sandbox(request):
    """Whether the customer sandbox is on, so the header can link to it."""
    return {"sandbox_enabled": settings.WHATSAPP_SANDBOX}
