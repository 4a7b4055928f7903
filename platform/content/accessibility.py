"""What the accessibility statement says was checked, and what the browser tests
check: ONE list, so the statement cannot claim a check the tests do not run.

tests/browser/test_public_space.py runs axe-core (WCAG 2.1 A and AA rules) on
every page below and fails on any violation.
"""

import datetime as dt

RGAA_VERSION = "4.1.2"
# Date this statement's content was last reviewed (update with the checks).
STATEMENT_DATE = dt.date(2026, 11, 22)
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# (French page name, URL name, kwargs)
CHECKED_PAGES = (
    ("Accueil de la commune", "town-home"),
    ("Actualités", "content:news"),
    ("Menus de la restauration scolaire", "content:menus"),
    ("Informations pratiques", "content:pages"),
    ("Règlements intérieurs", "content:reglements"),
    ("Contacts", "content:contacts"),
    ("Déclaration d'accessibilité", "content:accessibility"),
    ("Mentions légales", "content:legal"),
    ("Données personnelles", "content:privacy"),
)

NON_COMPLIANT = (
    "Les documents PDF publiés par la commune (règlements intérieurs, documents joints aux actualités) "
    "peuvent ne pas être accessibles (critère 13.3).",
    "Les pages de l'espace privé des familles n'ont pas encore toutes été vérifiées.",
)
