from django.urls import path

from .views import listing, notifications, order, reports

urlpatterns = [
    path("orders/", listing.order_list, name="order_list"),
    path("orders/export.csv", listing.order_export, name="order_export"),
    path("orders/items.csv", listing.order_items_export, name="order_items_export"),
    path("orders/settings/", notifications.order_settings, name="order_settings"),
    path("orders/settings/refresh-templates/", notifications.refresh_templates, name="order_refresh_templates"),
    path("orders/item-suggestions/", order.order_item_suggestions, name="order_item_suggestions"),
    path("orders/<int:order_id>/", order.order_detail, name="order_detail"),
    path("orders/<int:order_id>/edit/", order.order_edit, name="order_edit"),
    path("orders/<int:order_id>/status/", order.order_change_status, name="order_change_status"),
    path("orders/<int:order_id>/paid/", order.order_mark_paid, name="order_mark_paid"),
    path("orders/<int:order_id>/summary/", order.order_send_summary, name="order_send_summary"),
    path("orders/<int:order_id>/messages/", order.order_messages, name="order_messages"),
    path("customers/<int:customer_id>/orders/new/", order.order_create, name="order_create"),
    path("reports/", reports.reports_page, name="reports"),
    path("reports/export.csv", reports.report_export, name="report_export"),
]
