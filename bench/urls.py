"""The product's URLs plus /bench/bare/: the same request shape, one INSERT, nothing else."""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from crm.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def bare(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (body) VALUES (%s)", [request.body.decode()])
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


urlpatterns = [path("bench/bare/", bare), *product_urlpatterns]
