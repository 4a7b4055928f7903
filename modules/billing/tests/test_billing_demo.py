"""The demo (`manage.py rundemo`) shows the separated parents' payer rule:
each parent pays the weeks the child spends with him, at his own QF, on his
own invoice, and sees only his own (#23)."""

from __future__ import annotations

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
