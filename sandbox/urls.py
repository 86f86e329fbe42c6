from django.urls import path

from . import views

app_name = "sandbox"
urlpatterns = [
    path("", views.page, name="page"),
    path("chat/", views.chat, name="chat"),
    path("send/", views.send, name="send"),
    path("tap/", views.tap, name="tap"),
    path("pay/", views.pay, name="pay"),
    path("cart/", views.cart_add, name="cart_add"),
    path("cart/send/", views.cart_send, name="cart_send"),
    path("failures/", views.failures, name="failures"),
    path("media/<int:media_id>/", views.media, name="media"),
]
