"""What the project's admin pages share."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """A record the app writes and people only read (events, logs, what Meta sent): never added,
    changed or deleted from the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
