from celery.schedules import crontab
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from backoffice.charts import bar_chart, french_number
from core.contributions import DashboardCard, NavEntry
from core.modules import ServiceModuleConfig
from core.town_config import editable

from .accounting import COLUMNS as ACCOUNTING_COLUMNS
from .accounting import DATE_FORMATS as ACCOUNTING_DATE_FORMATS
from .accounting import METHOD_KEYS as ACCOUNTING_METHODS

# JSON schema of `module_settings.billing` in tenant_configs/<slug>.yaml,
# checked by tenants/config.py when a town is onboarded. What a schema cannot
# say (cents, increasing brackets, real dates, known service codes) is checked
# by modules.billing.tariffs.parse_billing_settings.
_MONEY = {
    "type": "number",
    "minimum": 0,
    "maximum": 10000,
    "description": "Euros, deux décimales au plus (ex. 3.20)",
}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
_ACCOUNT_CODE = {"type": "string", "pattern": "^[0-9A-Za-z]{1,20}$"}
_RULES = {
    "sibling_reductions": {
        "type": "object",
        "description": "Réduction en % par rang de l'enfant dans la fratrie : {2: 10, 3: 20} "
        "(le rang le plus élevé défini vaut pour les suivants)",
        "propertyNames": {"pattern": "^([2-9]|1[0-9])$"},
        "additionalProperties": _PERCENT,
    },
    "non_resident_surcharge_percent": {
        "type": "number",
        "minimum": 0,
        "maximum": 300,
        "description": "Majoration hors commune, en %",
    },
    "absences": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "unjustified_percent": {
                **_PERCENT,
                "description": "Part facturée d'une absence non justifiée",
            },
            "late_cancellation_percent": {
                **_PERCENT,
                "description": "Part facturée d'une annulation hors délai",
            },
            "carence_days": {
                "type": "integer",
                "minimum": 0,
                "maximum": 31,
                "description": "Premiers jours calendaires d'une absence pour maladie "
                "encore facturés",
            },
        },
    },
}
BILLING_SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["services"],
    "properties": {
        "rules": {
            "type": "object",
            "additionalProperties": False,
            "properties": _RULES,
            "description": "Règles communes à tous les tarifs (une version peut les remplacer)",
        },
        "invoicing": {
            "type": "object",
            "additionalProperties": False,
            "description": "Facturation : échéance, fenêtre de paiement en ligne, facture en ligne",
            "properties": {
                "payment_days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 90,
                    "description": "Échéance = date de facture + N jours",
                },
                "online_payment_opens_at": {
                    "type": "string",
                    "pattern": "^([01]\\d|2[0-3]):[0-5]\\d$",
                    "description": "Heure d'ouverture du paiement en ligne le jour de la facture",
                },
                "e_invoice": {
                    "type": "boolean",
                    "description": "La commune propose la facture en ligne (sans papier)",
                },
                "how_to_pay": {"type": "string", "minLength": 1, "maxLength": 600},
            },
        },
        "regies": {
            "type": "array",
            "description": (
                "Régies (une facture par payeur et par régie) ; par défaut une par module"
            ),
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name", "services"],
                "properties": {
                    "code": {
                        "type": "string",
                        "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
                        "maxLength": 40,
                    },
                    "name": {"type": "string", "minLength": 1, "maxLength": 160},
                    "services": {"type": "array", "uniqueItems": True, "items": {"type": "string"}},
                },
            },
        },
        "direct_debit": {
            "type": "object",
            "additionalProperties": False,
            "required": ["creditor_name", "creditor_id", "iban", "bic"],
            "description": "Prélèvement SEPA (absent : la commune ne le propose pas)",
            "properties": {
                "creditor_name": {"type": "string", "minLength": 1, "maxLength": 70},
                "creditor_id": {"type": "string", "description": "ICS, ex. FR72ZZZ123456"},
                "iban": {"type": "string"},
                "bic": {"type": "string", "pattern": "^[A-Z0-9]{8}([A-Z0-9]{3})?$"},
                "starts": {
                    "enum": ["next_invoice", "september"],
                    "description": "Première facture prélevée après l'adhésion",
                },
            },
        },
        "reminders": {
            "type": "object",
            "additionalProperties": False,
            "description": "Relances des impayés, en jours après l'échéance (par défaut 15, 30, "
            "puis transmission au Trésor public à 60)",
            "properties": {
                "first_days": {"type": "integer", "minimum": 1, "maximum": 365},
                "second_days": {"type": "integer", "minimum": 2, "maximum": 365},
                "handover_days": {"type": "integer", "minimum": 3, "maximum": 730},
            },
        },
        "helios": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "poste_comptable",
                "siret",
                "code_collectivite",
                "code_budget",
                "code_nature",
                "code_produit",
                "nature",
            ],
            "description": "Identifiants Hélios pour les titres de recettes PES V2 (ORMC) ; "
            "absent : la commune n'envoie pas de PES",
            "properties": {
                "poste_comptable": {"type": "string", "pattern": "^\\d{6,7}$"},
                "siret": {"type": "string", "pattern": "^\\d{14}$"},
                "code_collectivite": {"type": "string", "pattern": "^\\d{3}$"},
                "code_budget": {"type": "string", "pattern": "^[0-9A-Za-z]{1,10}$"},
                "code_nature": {
                    "type": "string",
                    "pattern": "^\\d{2}$",
                    "description": "Nature du rôle ORMC (2 chiffres), entre dans la clé 1",
                },
                "code_produit": {"type": "string", "pattern": "^[0-9A-Za-z]{1,4}$"},
                "nature": {
                    "type": "string",
                    "pattern": "^\\d{1,12}$",
                    "description": "Compte nature (ex. 7067)",
                },
                "fonction": {"type": "string", "pattern": "^[0-9A-Za-z]{1,10}$"},
                "libelle": {"type": "string", "maxLength": 160},
                "proximity_payment": {
                    "type": "boolean",
                    "description": "Paiement de proximité (buralistes agréés) : DataMatrix "
                    "et mention obligatoire sur les factures",
                },
                "regies": {
                    "type": "object",
                    "description": "Code produit et nature propres à une régie (par code)",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["code_produit", "nature"],
                        "properties": {
                            "code_produit": {"type": "string"},
                            "nature": {"type": "string"},
                            "fonction": {"type": "string"},
                        },
                    },
                },
            },
        },
        "accounting_export": {
            "type": "object",
            "additionalProperties": False,
            "description": "Export comptable (journal CSV des factures, avoirs, paiements et "
            "trop-perçus) : colonnes, codes journaux et comptes ; absent : valeurs par défaut "
            "(modules/billing/README.md)",
            "properties": {
                "columns": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"enum": list(ACCOUNTING_COLUMNS)},
                    "description": "Colonnes du fichier, dans l'ordre",
                },
                "headers": {
                    "type": "object",
                    "description": "Intitulé d'une colonne dans le fichier (par clé de colonne)",
                    "propertyNames": {"enum": list(ACCOUNTING_COLUMNS)},
                    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 60},
                },
                "journals": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "sales": _ACCOUNT_CODE,
                        "payments": _ACCOUNT_CODE,
                        "opening": _ACCOUNT_CODE,
                    },
                },
                "accounts": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "customer": _ACCOUNT_CODE,
                        "revenue": _ACCOUNT_CODE,
                        "revenue_by_regie": {
                            "type": "object",
                            "additionalProperties": _ACCOUNT_CODE,
                        },
                        "overpayment": _ACCOUNT_CODE,
                        "opening": _ACCOUNT_CODE,
                        "payment": _ACCOUNT_CODE,
                        "methods": {
                            "type": "object",
                            "propertyNames": {"enum": list(ACCOUNTING_METHODS)},
                            "additionalProperties": _ACCOUNT_CODE,
                        },
                    },
                },
                "date_format": {"enum": list(ACCOUNTING_DATE_FORMATS)},
                "household_prefix": {"type": "string", "pattern": "^[0-9A-Za-z-]{0,6}$"},
            },
        },
        "services": {
            "type": "object",
            "description": "Tarif de chaque service, par code de service (section `services`)",
            "propertyNames": {"pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "additionalProperties": {"$ref": "#/$defs/service_tariff"},
        },
    },
    "$defs": {
        "service_tariff": {
            "type": "object",
            "additionalProperties": False,
            "required": ["versions"],
            "properties": {
                "quantity_per_booking": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 24,
                    "description": "Quantité facturée par réservation (ex. 9 heures pour une "
                    "journée de crèche au tarif horaire) ; 1 par défaut",
                },
                "sessions_per_month": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 744,
                    "description": "Nombre habituel de séances (ou d'heures, pour un tarif "
                    "horaire) par mois : simulateur",
                },
                "versions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/version"}},
            },
        },
        "version": {
            "type": "object",
            "additionalProperties": False,
            "required": ["applies_from", "kind"],
            "properties": {
                "applies_from": {
                    "type": "string",
                    "pattern": "^\\d{4}-\\d{2}-\\d{2}$",
                    "description": "Date d'application AAAA-MM-JJ, entre guillemets",
                },
                "kind": {"enum": ["grid", "effort_rate", "flat"]},
                "unit": {"type": "string", "minLength": 1, "maxLength": 30},
                "grid": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["price"],
                        "properties": {
                            "up_to": {
                                "type": "integer",
                                "minimum": 0,
                                "description": "QF maximal de la tranche (inclus) ; absent "
                                "pour la dernière",
                            },
                            "price": _MONEY,
                        },
                    },
                },
                "rate_percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                "floor": _MONEY,
                "ceiling": _MONEY,
                "price": _MONEY,
                **_RULES,
            },
            "allOf": [
                {"if": {"properties": {"kind": {"const": "grid"}}}, "then": {"required": ["grid"]}},
                {
                    "if": {"properties": {"kind": {"const": "effort_rate"}}},
                    "then": {"required": ["rate_percent", "floor", "ceiling"]},
                },
                {
                    "if": {"properties": {"kind": {"const": "flat"}}},
                    "then": {"required": ["price"]},
                },
            ],
        },
    },
}


class BillingConfig(ServiceModuleConfig):
    default = True  # apps.py also imports the base class
    name = "modules.billing"
    label = "billing"
    verbose_name = "Facturation et paiement"
    module_code = "billing"
    module_label = "Facturation et paiement"
    # Billing offers no service of its own: it prices the other modules' ones.
    service_kinds = ()
    config_schema = BILLING_SETTINGS_SCHEMA

    def ready(self) -> None:
        super().ready()
        # Imported once apps are loaded (they import models).
        from . import checks  # noqa: F401  (registers the deploy check of payment secrets)
        from .payers import register_demande_kind
        from .retention import register_retentions

        register_demande_kind()
        register_retentions()  # invoices, lines, payments, desk payments

    def family_calendar_entries(self, request, household, start, end) -> list:
        """« Payé par : foyer de Michel Lefort » on the booked days of children
        of separated parents (those with a payer rule), for the family calendar."""
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .calendar import family_calendar_entries

        return family_calendar_entries(request, household, start, end)

    def config_problems(self, town_config, previous_config):
        """Payment secrets only by name; tariffs must parse, and never change what
        already applied (no retroactivity)."""

        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .payments.providers import payment_problems
        from .pricing import retroactive_changes
        from .tariffs import BillingConfigError, billing_settings_from_town_config
        from .town_settings import InvoicingConfigError, invoicing_settings_from_town_config

        problems = payment_problems(town_config.get("payment") or {})
        if problems:
            return problems
        try:
            invoicing_settings_from_town_config(town_config)
        except InvoicingConfigError as exc:
            return [f"module_settings.billing.{p}" for p in exc.problems]
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .pes import helios_problems

        section = (town_config.get("module_settings") or {}).get("billing") or {}
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .reminders import schedule_problems

        problems = helios_problems(section.get("helios")) + schedule_problems(
            section.get("reminders")
        )
        if problems:
            return [f"module_settings.billing.{p}" for p in problems]
        try:
            new = billing_settings_from_town_config(town_config)
        except BillingConfigError as exc:
            return exc.problems
        if not previous_config:
            return []
        try:
            old = billing_settings_from_town_config(previous_config)
        except BillingConfigError:
            return []  # the old file no longer parses: nothing reliable to compare with
        return retroactive_changes(old, new, today=timezone.localdate())

    # --- contribution points (core.contributions): only for towns with billing on ---

    def import_entities(self):
        """The opening-balances file of the family import (opening_balances.py)."""
        from .opening_balances import OpeningBalanceImporter  # models: not while apps load

        return [OpeningBalanceImporter()]

    def family_nav(self, request):
        return [NavEntry("Factures", "billing:home", order=40, match="billing:*")]

    def family_dashboard_cards(self, request, household):
        """The amount due with one « Payer » (all invoices, oldest first)."""
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .pricing import euros
        from .selectors import amount_due  # models: not importable while apps load

        due, count = amount_due(household) if household is not None else (0, 0)
        context = {"due": due, "due_label": euros(due), "count": count}
        return [DashboardCard("billing/_dashboard_card.html", order=20, context=context)]

    def family_day_prices(self, household, queries, *, commune):
        """core.day_prices: what a day costs a family (calendar, basket, absences)."""
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .day_prices import family_day_prices

        return family_day_prices(household, queries, commune=commune)

    def staff_home_cards(self, request):
        if not request.user.works_in("billing"):
            return []  # the figure is computed only for those who see it
        from .selectors import unpaid_by_month  # models: not importable while apps load

        unpaid = unpaid_by_month()
        svg = (
            bar_chart(unpaid, title="Impayés par mois de facturation", unit="\u00a0€", decimals=2)
            if unpaid
            else ""
        )
        rows = [(month, french_number(v, 2) + "\u00a0€") for month, v in unpaid]
        return [
            DashboardCard(
                "billing/_staff_unpaid_card.html",
                order=50,
                area="billing",
                context={"unpaid": rows, "unpaid_svg": svg},
            )
        ]

    def backoffice_config_pages(self, request):
        # The configuration page summarises the document its pages edit.
        provider = (editable(request.commune).get("payment") or {}).get("provider") or "aucun"
        admin = ("town_admin",)
        return [
            NavEntry(
                "Paiement en ligne",
                "billing:config-payment",
                order=40,
                roles=admin,
                description=provider,
            ),
            NavEntry(
                "Tarifs et règles de facturation",
                "billing:config-tariffs",
                order=50,
                roles=admin,
            ),
            NavEntry(
                "Régies, prélèvement automatique et Hélios",
                "billing:config-regies",
                order=60,
                roles=admin,
            ),
        ]

    def load_demo_data(self, commune) -> None:
        """Invoices of the past month for the demo families, and the payment
        simulator's keys for the secrets the town names (modules/billing/demo.py)."""
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .demo import demo_payment_secrets, load_demo_data

        demo_payment_secrets()
        load_demo_data(commune)

    def periodic_jobs(self) -> list:
        """Run in the towns that have billing on (core.tasks.dispatch_to_towns)."""

        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import PeriodicJob

        return [
            # The month just ended is invoiced on the 1st, each town at its own moment.
            PeriodicJob(
                "billing-monthly-run",
                "billing.tasks.run_month_for_town",
                crontab(minute=0, hour=2, day_of_month=1),
                window_seconds=settings.BILLING_RUN_WINDOW_SECONDS,
            ),
            # PayFiP confirms nothing by itself: ask it about attempts left
            # waiting; other providers' attempts silent for a day expire. Every
            # billing town: the task reads the town's provider from its payment
            # row (selectors.payment_settings), the one reader of `payment`.
            PeriodicJob(
                "billing-payfip-reconciliation",
                "billing.tasks.reconcile_payments_for_town",
                15 * 60.0,
                window_seconds=600,
            ),
            # A direct debit is paid on its collection date (not when the file is made).
            PeriodicJob(
                "billing-debit-settlement",
                "billing.tasks.settle_debits_for_town",
                crontab(hour=6, minute=0),
            ),
            # Unpaid follow-up: reminder 1, reminder 2, handover to the trésorerie.
            PeriodicJob(
                "billing-reminders",
                "billing.tasks.send_reminders_for_town",
                crontab(hour=7, minute=30),
            ),
        ]

    def sync_town_rows(self, town_config) -> None:
        """The town's PaymentSettings row from its `payment` section (onboarding)."""
        from .models import PaymentSettings  # models: not importable while apps load

        PaymentSettings.objects.all().delete()
        payment = town_config.get("payment")
        if payment:
            PaymentSettings.objects.create(
                kind=payment["provider"],
                options=payment.get("options", {}),
                secret_env=payment.get("secrets", {}),
            )

    def forget_services(self, town_config, codes) -> None:
        """A service leaving the town takes its tariff with it."""
        section = (town_config.get("module_settings") or {}).get("billing")
        if section and section.get("services"):
            section["services"] = {
                code: entry for code, entry in section["services"].items() if code not in codes
            }

    def staff_family_sections(self, request, household) -> list:
        """The family record's « Factures et paiements » section, with the desk
        payment form (agents of billing, managers, admins)."""
        if not request.user.works_in("billing"):
            return []
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from .staff_views import family_section

        return [family_section(request, household)]

    def staff_nav(self, request) -> list:
        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import NavEntry

        return [
            NavEntry(
                "Facturation",
                "billing:staff-overview",
                order=69,
                area="billing",
                description="Tarifs en vigueur et impayés.",
            ),
            NavEntry("Factures", "billing:staff", order=70, area="billing"),
            NavEntry("Prélèvements", "billing:staff-debits", order=71, area="billing"),
            NavEntry("État de régie", "billing:staff-regie", order=72, area="billing"),
            NavEntry(
                "Impayés et relances",
                "billing:staff-unpaid",
                order=74,
                area="billing",
                description="Relances, suspensions (échéancier), transmissions au Trésor public.",
            ),
            NavEntry(
                "Export comptable",
                "billing:staff-accounting",
                order=75,
                area="billing",
                description="Journal des factures, avoirs et paiements pour le logiciel financier.",
            ),
            NavEntry(
                "Titres Hélios (PES)",
                "billing:staff-pes",
                order=73,
                area="billing",
                description="Bordereaux de titres de recettes pour la trésorerie.",
            ),
        ]

    def staff_counters(self, request) -> list:
        """Money received that no invoice owed (credits to handle); unpaid invoices
        past their due date; direct debits the bank rejected."""
        if not request.user.works_in("billing"):
            return []

        # Django's app loading: apps.py is imported before the models, so imported when called.
        from core.contributions import Counter

        from .models import AccountCredit, DirectDebit, Invoice

        credits = AccountCredit.objects.filter(status=AccountCredit.Status.OPEN).count()
        overdue = Invoice.objects.filter(
            status__in=[Invoice.Status.TO_PAY, Invoice.Status.PARTLY_PAID],
            due_date__lt=timezone.localdate(),
        ).count()
        rejected = DirectDebit.objects.filter(status=DirectDebit.Status.REJECTED).count()
        return [
            Counter(
                "Paiements reçus en trop, à rembourser ou déduire",
                credits,
                reverse("billing:staff-credits"),
                area="billing",
                tone="danger" if credits else "ok",
                order=69,
            ),
            Counter(
                "Factures impayées après l'échéance",
                overdue,
                reverse("billing:staff") + "?statut=en-retard",
                area="billing",
                tone="danger" if overdue else "ok",
                order=70,
            ),
            Counter(
                "Prélèvements rejetés par la banque",
                rejected,
                reverse("billing:staff-debits") + "#rejets",
                area="billing",
                tone="danger" if rejected else "ok",
                order=71,
            ),
        ]
