from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    """« Mon tableau de bord » (placeholder: the families issue fills it)."""
    return render(request, "families/dashboard.html")
