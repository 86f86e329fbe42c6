"""Shop settings: the shop's name, and the currency, locale and time zone every amount and date is written in."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from agents import shop
from agents.access import agent_required

from ..forms import ShopForm


@agent_required
def shop_settings(request):
    current = shop.shop_of(request.agent)
    if request.method != "POST":
        form = ShopForm(
            initial={
                "name": request.agent.name,
                "currency": current.currency,
                "locale": current.locale,
                "time_zone": current.time_zone,
            }
        )
        return _page(request, form, current)
    form = ShopForm(request.POST)
    if form.is_valid():
        try:
            shop.save_shop(request.agent, **form.cleaned_data, actor=request.user, request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The shop settings were saved.")
            return redirect("shop_settings")
    return _page(request, form, current, status=400)


def _page(request, form, current, *, status=200):
    return render(
        request,
        "agents/shop_settings.html",
        {"section": "shop", "form": form, "example": shop.format_money("1234.5", current)},
        status=status,
    )
