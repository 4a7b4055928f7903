"""What the accessibility statement says was checked, and what the browser tests
check: ONE list each, so the statement cannot claim a check the tests do not run.

- AXE_SWEEPS: tests/browser/test_axe_everywhere.py takes from here WHO it signs
  in as, and runs axe-core (WCAG 2.1 A and AA rules) on every page the access
  declarations (`@access`, core/access.py) open to that actor, WITH or without
  URL arguments (a child's file, a demande, an invoice...: filled from the
  isolation matrix's world of example records, tests/hardening/world.py); the
  visitor's sweep also walks the platform's public pages.
- CHECKED_PAGES: the public pages the statement links by name;
  tests/browser/test_public_space.py runs axe-core on each of them.
- KEYBOARD_FLOWS: journeys done end to end with the keyboard only; each names
  the browser test that does it (content/tests/test_accessibility_statement.py
  checks that the test exists).

A violation fails the test: what is listed here passed in the last run.
"""

import datetime as dt

RGAA_VERSION = "4.1.2"
# Date this statement's content was last reviewed (update with the checks).
STATEMENT_DATE = dt.date(2026, 11, 22)
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# (who, what the statement says): test_axe_everywhere's sweeps.
AXE_SWEEPS = (
    (
        "visitor",
        "toutes les pages publiques du portail, y compris la page d'une actualité et "
        "une page d'information, pour un visiteur non connecté",
    ),
    (
        "family",
        "toutes les pages de l'espace privé des familles, y compris celles propres à un "
        "dossier (fiche d'un enfant, détail d'une demande ou d'une facture, signalement "
        "d'une absence), pour une famille connectée",
    ),
    (
        "agent",
        "toutes les pages de l'espace des agents ouvertes à leur service, pour un agent de "
        "chaque service",
    ),
    (
        "town_admin",
        "toutes les pages de l'espace des agents de la commune, y compris les écrans de "
        "gestion d'un dossier (famille, demande, facture) et de configuration, pour un "
        "administrateur de la commune",
    ),
)

# (French page name, URL name)
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

# (what the statement says, the pytest node id of the browser test that does it)
KEYBOARD_FLOWS = (
    (
        "se connecter, réserver des jours dans le calendrier des réservations, puis payer la "
        "facture de ces jours en ligne, jusqu'à la page du prestataire de paiement et au retour "
        "sur le portail",
        "tests/browser/test_keyboard_flow.py::test_a_family_books_and_pays_with_the_keyboard_only",
    ),
)

NON_COMPLIANT = (
    "Les documents PDF publiés par la commune (règlements intérieurs, documents joints aux "
    "actualités) peuvent ne pas être accessibles (critère 13.3).",
    "Les factures, reçus et attestations au format PDF produits par le portail ne sont pas des "
    "PDF balisés (critère 13.3) ; le détail de chaque facture est aussi affiché en HTML sur le "
    "portail.",
    "Chaque page est contrôlée dans un état, avec des données d'exemple : les messages "
    "d'erreur des formulaires et ce qui s'affiche après une action ne sont contrôlés que "
    "lorsqu'un parcours testé les produit.",
    "La navigation au clavier seul n'est vérifiée de bout en bout que sur les parcours énumérés "
    "ci-dessus ; les autres pages n'ont pas encore toutes été parcourues au clavier.",
)
