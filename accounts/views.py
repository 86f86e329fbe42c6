from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def after_login(request):
    """Send admins to the admin and everyone else to their agent's dashboard."""
    if request.user.is_staff and not request.user.agents.exists():
        return redirect("admin:index")
    return redirect("home")
