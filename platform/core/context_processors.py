def town(request):
    """`commune` in every template: the current town, or None on the platform site."""
    return {"commune": getattr(request, "commune", None)}
