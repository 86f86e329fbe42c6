from django.urls import path

from .views import composer, customers, home, inbox, media, quick_replies

urlpatterns = [
    path("", home.home, name="home"),
    path("agent/switch/", home.switch_agent, name="switch_agent"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/rows/", inbox.inbox_rows, name="inbox_rows"),
    path("conversations/<int:customer_id>/", inbox.conversation, name="conversation"),
    path("conversations/<int:customer_id>/older/", inbox.conversation_older, name="conversation_older"),
    path("conversations/<int:customer_id>/tail/", inbox.conversation_tail, name="conversation_tail"),
    path("conversations/<int:customer_id>/send/", composer.send_message, name="send_message"),
    path("conversations/<int:customer_id>/send-template/", composer.send_template_message, name="send_template"),
    path("conversations/<int:customer_id>/template/", composer.template_form, name="template_form"),
    path("conversations/<int:customer_id>/templates/refresh/", composer.refresh_templates, name="refresh_templates"),
    path("messages/<int:message_id>/media/", media.message_media, name="message_media"),
    path("messages/<int:message_id>/resend/", composer.resend_message, name="resend_message"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/new/", customers.customer_add, name="customer_add"),
    path("customers/export.csv", customers.customer_export, name="customer_export"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer_detail"),
    path("customers/<int:customer_id>/name/", customers.customer_rename, name="customer_rename"),
    path("customers/<int:customer_id>/picture/", customers.customer_picture, name="customer_picture"),
    path("customers/<int:customer_id>/avatar.jpg", customers.customer_avatar, name="customer_avatar"),
    path("quick-replies/", quick_replies.quick_reply_list, name="quick_replies"),
    path("quick-replies/<int:quick_reply_id>/", quick_replies.quick_reply_edit, name="quick_reply_edit"),
    path("quick-replies/<int:quick_reply_id>/delete/", quick_replies.quick_reply_delete, name="quick_reply_delete"),
]
