from django.urls import path

from . import views

app_name = "sandbox"
urlpatterns = [
    path("", views.page, name="page"),
    path("chat/", views.chat, name="chat"),
    path("send/", views.send, name="send"),
    path("tap/", views.tap, name="tap"),
    path("failures/", views.failures, name="failures"),
    path("media/<int:media_id>/", views.media, name="media"),
]
