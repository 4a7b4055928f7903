from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from audit.journal import LABELS, dpo_required
from audit.models import AuditEntry
from core.access import TOWN_ADMIN, access


@access(TOWN_ADMIN)
@dpo_required
@never_cache
def journal(request):
    """The access journal, for the town's data-protection officer (town_admin)."""
    entries = AuditEntry.objects.all()
    household = request.GET.get("foyer", "")
    if household.isdigit():
        entries = entries.filter(household_id=int(household))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/journal.html",
        {
            "page": page,
            "household": household if household.isdigit() else "",
            "labels": LABELS,
        },
    )
