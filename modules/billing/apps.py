from core.modules import ServiceModuleConfig

# JSON schema of `module_settings.billing` in tenant_configs/<slug>.yaml,
# checked by tenants/config.py when a town is onboarded. What a schema cannot
# say (cents, increasing brackets, real dates, known service codes) is checked
# by modules.billing.tariffs.parse_billing_settings.
_MONEY = {"type": "number", "minimum": 0, "maximum": 10000,
          "description": "Euros, deux décimales au plus (ex. 3.20)"}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
_RULES = {
    "sibling_reductions": {
        "type": "object",
        "description": "Réduction en % par rang de l'enfant dans la fratrie : {2: 10, 3: 20} "
                       "(le rang le plus élevé défini vaut pour les suivants)",
        "propertyNames": {"pattern": "^([2-9]|1[0-9])$"},
        "additionalProperties": _PERCENT,
    },
    "non_resident_surcharge_percent": {"type": "number", "minimum": 0, "maximum": 300,
                                       "description": "Majoration hors commune, en %"},
    "absences": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "unjustified_percent": {
                **_PERCENT, "description": "Part facturée d'une absence non justifiée"},
            "late_cancellation_percent": {
                **_PERCENT, "description": "Part facturée d'une annulation hors délai"},
            "carence_days": {"type": "integer", "minimum": 0, "maximum": 31,
                             "description": "Premiers jours calendaires d'une absence pour maladie "
                                            "encore facturés"},
        },
    },
}
BILLING_SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["services"],
    "properties": {
        "rules": {"type": "object", "additionalProperties": False, "properties": _RULES,
                  "description": "Règles communes à tous les tarifs "
                                 "(une version peut les remplacer)"},
        "services": {
            "type": "object",
            "description": "Tarif de chaque service, par code de service (section `services`)",
            "propertyNames": {"pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "additionalProperties": {"$ref": "#/$defs/service_tariff"},
        },
    },
    "$defs": {
        "service_tariff": {
            "type": "object", "additionalProperties": False, "required": ["versions"],
            "properties": {
                "sessions_per_month": {
                    "type": "integer", "minimum": 0, "maximum": 744,
                    "description": "Nombre habituel de séances (ou d'heures, pour un tarif "
                                   "horaire) par mois : simulateur"},
                "versions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/version"}},
            },
        },
        "version": {
            "type": "object", "additionalProperties": False, "required": ["applies_from", "kind"],
            "properties": {
                "applies_from": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$",
                                 "description": "Date d'application AAAA-MM-JJ, entre guillemets"},
                "kind": {"enum": ["grid", "effort_rate", "flat"]},
                "unit": {"type": "string", "minLength": 1, "maxLength": 30},
                "grid": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "additionalProperties": False, "required": ["price"],
                        "properties": {
                            "up_to": {"type": "integer", "minimum": 0,
                                      "description": "QF maximal de la tranche (inclus) ; absent "
                                                     "pour la dernière"},
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
                {"if": {"properties": {"kind": {"const": "grid"}}},
                 "then": {"required": ["grid"]}},
                {"if": {"properties": {"kind": {"const": "effort_rate"}}},
                 "then": {"required": ["rate_percent", "floor", "ceiling"]}},
                {"if": {"properties": {"kind": {"const": "flat"}}},
                 "then": {"required": ["price"]}},
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

    def config_problems(self, town_config, previous_config):
        """Tariffs must parse, and never change what already applied (no retroactivity)."""
        from django.utils import timezone

        from .pricing import retroactive_changes
        from .tariffs import BillingConfigError, billing_settings_from_town_config

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
