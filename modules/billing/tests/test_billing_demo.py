"""The demo (`manage.py rundemo`) shows the separated parents' payer rule:
each parent pays the weeks the child spends with him, at his own QF, on his
own invoice, and sees only his own (#23)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.testing import force_login_verified


def test_the_demo_separated_parents_each_pay_their_own_weeks_at_their_own_qf(castres, in_town):
    from accounts import demo as accounts_demo
    from accounts.models import User
    from booking.demo import load_module_demo
    from families import demo as families_demo
    from modules.billing.demo import load_demo_data
    from modules.billing.models import Invoice, InvoiceLine, PayerRule

    with in_town(castres):
        accounts_demo.load(castres)
        families_demo.load(castres)
        for module in ("periscolaire", "alsh", "petite_enfance"):
            load_module_demo(castres, module)
        load_demo_data(castres)
        load_demo_data(castres)  # a second run adds nothing
        rule = PayerRule.objects.select_related("child", "household_a", "household_b").get()
        assert rule.kind == "alternate_weeks"
        mother, father = rule.household_a, rule.household_b
        assert (mother.quotient_familial, father.quotient_familial) == (540, 1150)
        child = rule.child
        by_home = {}
        for home, qf in ((mother, "QF 540 €"), (father, "QF 1\u202f150 €")):
            lines = list(
                InvoiceLine.objects.filter(
                    invoice__household=home, child_name__startswith=child.first_name
                )
            )
            assert lines, home.name
            priced_by_qf = [line.explanation for line in lines if "QF" in line.explanation]
            assert priced_by_qf and all(qf in text for text in priced_by_qf), priced_by_qf
            # Week about: every day of a household is in one of its weeks.
            parity = {(line.day - rule.reference_monday).days // 7 % 2 for line in lines}
            assert parity == ({0} if home == mother else {1})
            by_home[home.pk] = set(
                Invoice.objects.filter(household=home).values_list("number", flat=True)
            )
        father_user = User.objects.get(adult__household=father)
        assert father_user.username == "famille.demo.3"  # README, docs/demo-accounts.md
    client = Client()
    force_login_verified(client, father_user, castres)
    page = client.get("/castres/billing/factures/").content.decode()
    assert all(number in page for number in by_home[father.pk])
    assert not any(number in page for number in by_home[mother.pk])


def _demo_moments():
    """31 December and 14 July (as the run command's test): inside the published
    school calendar, which the booking demo needs for its coming days."""
    from datetime import date, timedelta

    from booking.holidays_fr import SchoolHolidays

    known_until = SchoolHolidays.for_zone("C").known_until
    year = date.today().year
    while date(year + 1, 7, 14) + timedelta(days=90) > known_until:
        year -= 1
    return [f"{year}-12-31 23:30", f"{year + 1}-07-14 10:00"]


@pytest.mark.parametrize("moment", _demo_moments())
def test_the_demo_has_an_overdue_invoice_at_its_first_reminder_on_any_date(
    castres, in_town, moment
):
    """Staff's unpaid list is populated and famille.demo.4 sees its reminder and
    its letter, whatever the day the demo is made (#20)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine

    from accounts import demo as accounts_demo
    from accounts.models import User
    from accounts.testing import force_login_verified
    from booking.demo import load_module_demo
    from families import demo as families_demo
    from modules.billing.demo import load_demo_data
    from modules.billing.models import Invoice, ReminderStep

    now = datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo("Europe/Paris"))
    today = now.date()
    with time_machine.travel(now, tick=False):
        with in_town(castres):
            accounts_demo.load(castres)
            families_demo.load(castres)
            for module in ("periscolaire", "alsh", "petite_enfance"):
                load_module_demo(castres, module)
            load_demo_data(castres)
            load_demo_data(castres)  # a second run adds nothing
            step = ReminderStep.objects.select_related("invoice").get()
            late = step.invoice
            assert step.stage == "reminder_1"
            assert step.done_on == today - timedelta(days=3)
            assert late.status == Invoice.Status.TO_PAY and late.balance > 0
            assert late.due_date == today - timedelta(days=18)
            # issued after its month ended, numbered in date order with the others
            assert (late.year, late.month) < (late.invoice_date.year, late.invoice_date.month)
            later = Invoice.objects.filter(invoice_date__gt=late.invoice_date)
            assert later.exists() and all(i.number > late.number for i in later)
            family_user = User.objects.get(adult__household=late.household)
            assert family_user.username == "famille.demo.4"  # README, docs/demo-accounts.md
            martin = User.objects.get(username="famille.martin")
            statuses = set(
                Invoice.objects.filter(household__adults__user=martin).values_list(
                    "status", flat=True
                )
            )
            assert {"paid", "to_pay"} <= statuses, statuses  # README's family is untouched
            agent = User.objects.get(username="agent.demo")
        staff, family = Client(), Client()
        force_login_verified(staff, agent, castres)
        page = staff.get("/castres/billing/gestion/impayes/").content.decode()
        assert "Première relance envoyée — 1 facture" in page
        assert late.number in page
        assert f"/castres/billing/gestion/impayes/factures/{late.pk}/lettre.pdf" in page
        force_login_verified(family, family_user, castres)
        detail = family.get(f"/castres/billing/factures/{late.pk}/").content.decode()
        assert "Première relance" in detail and "relance.pdf" in detail
        letter = family.get(f"/castres/billing/factures/{late.pk}/relance.pdf")
        assert letter.status_code == 200 and letter.content.startswith(b"%PDF-")
