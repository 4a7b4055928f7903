"""Personal-data rights (RGPD): access and portability (art. 15, 20), erasure
(art. 17) and limited retention (art. 5.1.e).

Everything here works on the FAMILY GRAPH, found generically: every model of
the town's schema that has a foreign-key path to the family's household, its
legal representatives, its children or their accounts. Models other apps add
later are included without touching this file. A row that also points to
ANOTHER family's household, adult, child or account is left out: separated
parents are two households sharing a child, and neither sees the other's rows.

Opting out: a model with `family_data = False` is never walked (audit.AuditEntry);
one with `personal_data_export = False` is erased with the family but never
exported (documents.VaultItem: the family downloads its vault from the vault).

Legal retention: some rows must outlive an erasure (issued invoices: 10 years).
Apps declare them with `register_retention(...)`; the erasure keeps them, keeps
what they point to, and anonymises what it keeps instead of deleting it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from graphlib import CycleError, TopologicalSorter
from tempfile import SpooledTemporaryFile

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Max, Q
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.functions import TruncYear
from django.utils import timezone

from audit import journal
from core import town_config
from documents import rules
from documents.storage import delete_after_commit

log = logging.getLogger(__name__)

# The family's own rows: everything else is reached through them.
ROOT_LABELS = ("families.Household", "families.Adult", "families.Child")
# Never serialised into a family's export, whatever their relations.
# (a session key in a ZIP would let whoever reads it act as the family)
REDACTED_FIELDS = frozenset({"password", "session_key"})


# --- legal retention ----------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    model: str  # "billing.Invoice"
    reason: str  # French, shown to staff on the erasure plan
    keep: Callable[[models.QuerySet], models.QuerySet] | None = None  # rows kept (default: all)
    # Kept rows whole, with who they are about replaced by a pseudonym: called
    # with the kept primary keys before anything of the family is deleted.
    anonymise: Callable[[set], None] | None = None
    # Links the anonymiser cuts (the kept row does not keep their target alive).
    detach: tuple[str, ...] = ()


_RETENTIONS: dict[str, Retention] = {}


def register_retention(model: str, *, reason: str, keep=None, anonymise=None, detach=()) -> None:
    """Declare rows an erasure must keep (call from an AppConfig.ready())."""
    _RETENTIONS[model] = Retention(model, reason, keep, anonymise, tuple(detach))


def retentions() -> dict[str, Retention]:
    return dict(_RETENTIONS)


# Accounting records (billing's invoices, lines, payments) are declared by their
# module (modules/billing/retention.py), with the anonymiser that keeps them whole.
register_retention(
    "demandes.Demande",
    reason="Demande d'effacement : preuve du traitement de la demande (RGPD, art. 5.2 et 12).",
    keep=lambda qs: qs.filter(kind="erasure"),
)


# --- the family graph -----------------------------------------------------------


@cache
def tenant_models() -> list[type[models.Model]]:
    """Every concrete model stored in a town's schema (auto-created M2M tables included),
    except those declaring `family_data = False` (the access journal: it must
    survive an erasure, and is the town's record, not the family's data)."""
    tenant_apps = set(settings.TENANT_APPS)
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_config.name in tenant_apps
        and m._meta.managed
        and not m._meta.proxy
        and getattr(m, "family_data", True)
    ]


def _fks(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is not None]


def _roots() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in ROOT_LABELS]


@dataclass
class FamilyGraph:
    household_id: int
    rows: dict[type[models.Model], set] = field(default_factory=lambda: defaultdict(set))

    def models(self) -> list[type[models.Model]]:
        return [m for m in deletion_order() if self.rows.get(m)]


def collect(household) -> FamilyGraph:
    """The family's rows in the current town, by model."""
    Household, *_ = _roots()
    User = get_user_model()
    graph = FamilyGraph(household.pk)
    rows = graph.rows
    rows[Household].add(household.pk)
    # 1. The family itself: its adults and children, then their accounts.
    for model in _roots()[1:]:
        for f in _fks(model):
            if f.related_model is Household:
                rows[model] |= set(
                    model._base_manager.filter(**{f.attname: household.pk}).values_list(
                        "pk", flat=True
                    )
                )
    for model in list(rows):
        for f in _fks(model):
            if f.related_model is User and f.one_to_one:
                rows[User] |= set(
                    model._base_manager.filter(pk__in=rows[model])
                    .exclude(**{f.attname: None})
                    .values_list(f.attname, flat=True)
                )
    # 2. Everything pointing to it, to a fixed point (paths of any length).
    outsider = _outsider_filters(rows)
    candidates = [m for m in _reachable_models() if m not in _roots() and m is not User]
    changed = True
    while changed:
        changed = False
        for model in candidates:
            inside = Q()
            for f in _fks(model):
                if rows.get(f.related_model):
                    inside |= Q(**{f"{f.attname}__in": rows[f.related_model]})
            if not inside:
                continue
            qs = model._base_manager.filter(inside)
            for q in outsider.get(model, ()):
                qs = qs.exclude(q)
            found = set(qs.values_list("pk", flat=True)) - rows[model]
            if found:
                rows[model] |= found
                changed = True
    return graph


def _outsider_filters(rows) -> dict:
    """Per model, the Q objects matching rows that also belong to ANOTHER family."""
    User = get_user_model()
    out = defaultdict(list)
    for model in tenant_models():
        for f in _fks(model):
            target = f.related_model
            if target in _roots():
                out[model].append(
                    Q(**{f"{f.attname}__isnull": False}) & ~Q(**{f"{f.attname}__in": rows[target]})
                )
            elif target is User:
                # Staff accounts (an agent who handled a request) are not another family.
                out[model].append(
                    Q(**{f"{f.name}__role": "family"}) & ~Q(**{f"{f.attname}__in": rows[User]})
                )
    return out


@cache
def _reachable_models() -> list[type[models.Model]]:
    """Models with a foreign-key path to a root model or an account (schema level)."""
    targets = set(_roots()) | {get_user_model()}
    models_ = tenant_models()
    reachable: set = set()
    changed = True
    while changed:
        changed = False
        for m in models_:
            if m not in reachable and any(f.related_model in targets | reachable for f in _fks(m)):
                reachable.add(m)
                changed = True
    return [m for m in models_ if m in reachable]


@cache
def deletion_order() -> list[type[models.Model]]:
    """Referencing models before the models they reference (erase_household also
    retries, so a foreign-key cycle added one day only costs a pass)."""
    sorter = TopologicalSorter()
    for m in tenant_models():
        sorter.add(m)
        for f in _fks(m):
            if f.related_model is not m:
                sorter.add(f.related_model, m)  # m must come before what it references
    try:
        order = list(sorter.static_order())
    except CycleError:
        order = list(reversed(tenant_models()))
    known = set(tenant_models())
    return [m for m in order if m in known]


# --- export (right of access and portability) ----------------------------------


def _row_dict(obj) -> dict:
    out = {}
    for f in obj._meta.concrete_fields:
        if f.name in REDACTED_FIELDS:
            continue
        value = getattr(obj, f.attname)
        if isinstance(f, models.FileField):
            value = value.name if value else ""
        elif isinstance(value, (bytes, memoryview)):
            value = None  # binary columns hold no readable personal data
        out[f.attname] = value
    return out


def exportable_models(graph: FamilyGraph) -> list[type[models.Model]]:
    return [m for m in graph.models() if getattr(m, "personal_data_export", True)]


def build_export(household, *, commune) -> SpooledTemporaryFile:
    """A ZIP: donnees.json (every row of the family graph) + the files of those rows."""
    graph = collect(household)
    data = {
        "commune": commune.name,
        "genere_le": timezone.now(),
        "foyer": household.pk,
        "explication": "Toutes les données que la commune détient sur votre foyer dans le portail "
        "famille, table par table. Les fichiers sont dans le dossier « fichiers ».",
        "tables": {},
    }
    files: list[tuple[str, models.fields.files.FieldFile]] = []
    for model in exportable_models(graph):
        rows = []
        for obj in model._base_manager.filter(pk__in=graph.rows[model]).order_by("pk"):
            rows.append(_row_dict(obj))
            for f in obj._meta.concrete_fields:
                if isinstance(f, models.FileField) and getattr(obj, f.attname):
                    ext = getattr(obj, f.attname).name.rsplit(".", 1)[-1]
                    files.append(
                        (
                            f"fichiers/{model._meta.label_lower}/{obj.pk}-{f.name}.{ext}",
                            getattr(obj, f.attname),
                        )
                    )
        data["tables"][model._meta.label] = {
            "nom": str(model._meta.verbose_name_plural),
            "lignes": rows,
        }
    spool = SpooledTemporaryFile(max_size=20 * 1024 * 1024)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("LISEZMOI.txt", _README.format(commune=commune.name))
        zf.writestr(
            "donnees.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        for name, fieldfile in files:
            try:
                with fieldfile.open("rb") as fh:
                    zf.writestr(name, fh.read())
            except FileNotFoundError:
                log.warning("export: fichier absent", extra={"file": fieldfile.name})
    spool.seek(0)
    return spool


_README = """Vos données personnelles — portail famille de {commune}

donnees.json : toutes les informations enregistrées sur votre foyer, par table.
fichiers/    : les documents que vous avez déposés.

Le coffre-fort personnel n'est pas inclus : ses documents sont chiffrés pour vous
seuls, téléchargez-les depuis votre coffre-fort.

Pour toute question sur vos données, contactez le délégué à la protection des
données de la commune (voir la page « Données personnelles » du portail).
"""


# --- erasure (right to erasure, retention purge) --------------------------------


@dataclass
class PlanLine:
    label: str  # French model name
    deleted: int
    kept: int
    reason: str = ""


@dataclass
class ErasurePlan:
    household_id: int
    graph: FamilyGraph
    retained: dict  # model -> pks kept by a legal retention rule
    kept: dict  # model -> pks kept (retained, or pointed to by retained rows): anonymised
    lines: list[PlanLine]

    @property
    def deletable(self) -> int:
        return sum(line.deleted for line in self.lines)


def erasure_plan(household) -> ErasurePlan:
    graph = collect(household)
    retained: dict = defaultdict(set)
    for model in graph.models():
        rule = _RETENTIONS.get(model._meta.label)
        if rule:
            qs = model._base_manager.filter(pk__in=graph.rows[model])
            retained[model] = set((rule.keep(qs) if rule.keep else qs).values_list("pk", flat=True))
    kept: dict = defaultdict(set, {m: set(pks) for m, pks in retained.items()})
    changed = True
    while changed:  # what kept rows point to is kept too
        changed = False
        for model, pks in list(kept.items()):
            if not pks:
                continue
            detached = getattr(_RETENTIONS.get(model._meta.label), "detach", ())
            for f in _fks(model):
                if f.name in detached:
                    continue
                target = f.related_model
                # SET_NULL: deleting the target only blanks the link; anything
                # else (PROTECT, CASCADE...) needs the target to stay.
                if not graph.rows.get(target) or f.remote_field.on_delete in (
                    models.SET_NULL,
                    models.SET_DEFAULT,
                ):
                    continue
                refs = (
                    set(
                        model._base_manager.filter(pk__in=pks)
                        .exclude(**{f.attname: None})
                        .values_list(f.attname, flat=True)
                    )
                    & graph.rows[target]
                )
                if refs - kept[target]:
                    kept[target] |= refs
                    changed = True
    lines = []
    # The vault is never listed on a staff screen, not even as a count.
    for model in exportable_models(graph):
        n_kept = len(kept.get(model, ()))
        rule = _RETENTIONS.get(model._meta.label)
        reason = ""
        if retained.get(model):
            reason = rule.reason
        elif n_kept:
            reason = "Conservé car lié à une donnée conservée ; anonymisé."
        lines.append(
            PlanLine(
                str(model._meta.verbose_name_plural),
                len(graph.rows[model]) - n_kept,
                n_kept,
                reason,
            )
        )
    return ErasurePlan(household.pk, graph, retained, kept, lines)


@dataclass
class ErasureReport:
    deleted: dict[str, int]
    anonymised: dict[str, int]
    kept: dict[str, int]


@transaction.atomic
def erase_household(
    *, household, actor, reason: str, action: str = journal.ERASURE
) -> ErasureReport:
    """Delete the family's rows and files; keep and anonymise what the law keeps."""
    plan = erasure_plan(household)
    graph = plan.graph
    kept = defaultdict(set, plan.kept)
    for model, pks in plan.retained.items():
        rule = _RETENTIONS.get(model._meta.label)
        if pks and rule and rule.anonymise:
            rule.anonymise(pks)  # kept whole, under a pseudonym (detached links cut)
    pending = {m: graph.rows[m] - kept[m] for m in graph.models() if graph.rows[m] - kept[m]}
    files = _file_names(pending)
    deleted: dict[str, int] = defaultdict(int)
    progress = True
    while pending and progress:
        progress = False
        for model in [m for m in deletion_order() if m in pending]:
            try:
                with transaction.atomic():
                    _, counts = model._base_manager.filter(pk__in=pending[model]).delete()
            except (ProtectedError, RestrictedError):
                continue
            for label, n in counts.items():
                deleted[label] += n
            del pending[model]
            progress = True
    for model, pks in pending.items():  # still referenced from outside the family: anonymise
        kept[model] |= pks
    anonymised: dict[str, int] = {}
    for model, pks in kept.items():
        to_anonymise = pks - plan.retained.get(model, set())
        if to_anonymise:
            files += _file_names({model: to_anonymise})
            anonymised[model._meta.label] = _anonymise(model, to_anonymise)
    report = ErasureReport(
        deleted={k: v for k, v in deleted.items() if v},
        anonymised=anonymised,
        kept={m._meta.label: len(p) for m, p in plan.retained.items() if p},
    )
    journal.record(
        actor=actor,
        action=action,
        household=household.pk,
        detail={
            "motif": reason,
            "supprimé": report.deleted,
            "anonymisé": report.anonymised,
            "conservé": report.kept,
        },
    )
    delete_after_commit(files)
    log.info(
        "personal data erased",
        extra={
            "household": household.pk,
            "action": action,
            "deleted": sum(report.deleted.values()),
        },
    )
    return report


def _file_names(rows: dict) -> list[tuple]:
    out = []
    for model, pks in rows.items():
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        for f in file_fields:
            for name in (
                model._base_manager.filter(pk__in=pks)
                .exclude(**{f.attname: ""})
                .values_list(f.attname, flat=True)
            ):
                out.append((f.storage, name))
    return out


def _anonymise(model, pks) -> int:
    User = get_user_model()
    for pk in pks:
        values = {}
        for f in model._meta.concrete_fields:
            if f.primary_key or f.is_relation or f.choices or isinstance(f, models.BooleanField):
                continue
            if isinstance(f, models.FileField):
                values[f.attname] = ""
            elif isinstance(f, (models.CharField, models.TextField)):
                values[f.attname] = (
                    f"efface-{pk}-{uuid.uuid4().hex[:8]}"[: f.max_length]
                    if f.unique
                    else ("" if f.blank else "Anonyme"[: f.max_length or 7])
                )
            elif f.null:
                values[f.attname] = None
            elif isinstance(f, models.JSONField):
                values[f.attname] = f.get_default()
            elif isinstance(f, models.BinaryField):
                values[f.attname] = b""
            elif isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
                values[f.attname] = TruncYear(f.attname)  # keep the year only
            elif f.get_internal_type() == "ArrayField":
                values[f.attname] = []
        if issubclass(model, User):
            values["password"] = make_password(None)
            values["is_active"] = False
        model._base_manager.filter(pk=pk).update(**values)
    return len(pks)


def apply_erasure_demande(demande, actor) -> None:
    """demandes.handlers: staff accepted an "erasure" request. The erasure runs
    after the acceptance commits (the request itself is kept as proof)."""
    # documents.tasks imports this module at load time: imported when called (no cycle).
    from documents.tasks import erase_household_task

    args = (demande.household_id, demande.pk, getattr(actor, "pk", None))
    # The town is named now: the callback may run after the request left its schema.
    headers = {"_schema_name": connection.schema_name}
    transaction.on_commit(lambda: erase_household_task.apply_async(args, headers=headers))


# --- retention purge -------------------------------------------------------------


def retention_years(commune) -> int:
    return int(
        town_config.section(commune, "data_protection", {}).get(
            "retention_years", settings.PERSONAL_DATA_RETENTION_YEARS
        )
    )


def last_activity(graph: FamilyGraph) -> dt.datetime | None:
    """The latest timestamp on any row of the family (logins, requests, uploads...)."""
    latest = None
    for model in graph.models():
        fields = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)
        ]
        if not fields:
            continue
        agg = model._base_manager.filter(pk__in=graph.rows[model]).aggregate(
            **{f"m{i}": Max(name) for i, name in enumerate(fields)}
        )
        for value in agg.values():
            if value and (latest is None or value > latest):
                latest = value
    return latest


def purge_inactive_households(*, commune, now: dt.datetime | None = None) -> list[int]:
    """Erase every family with no activity for the town's retention period."""
    Household, Adult, _ = _roots()
    now = now or timezone.now()
    years = retention_years(commune)
    cutoff_day = rules.add_months(timezone.localdate(now), -12 * years)
    cutoff = timezone.make_aware(dt.datetime.combine(cutoff_day, dt.time.min))
    # Cheap first filter: old households whose accounts did not sign in since.
    recent = Adult.objects.filter(user__last_login__gte=cutoff).values("household_id")
    candidates = Household.objects.filter(created_at__lt=cutoff).exclude(pk__in=recent)
    purged = []
    for household in candidates.iterator():
        graph = collect(household)
        latest = last_activity(graph)
        if latest is not None and latest >= cutoff:
            continue
        if erasure_plan(household).deletable == 0:
            continue  # already purged: only legally kept, anonymised rows remain
        erase_household(
            household=household,
            actor=None,
            action=journal.RETENTION_PURGE,
            reason=f"Aucune activité depuis le {cutoff_day:%d/%m/%Y} (durée de conservation : "
            f"{years} ans)",
        )
        purged.append(household.pk)
    log.info(
        "retention purge",
        extra={"schema": connection.schema_name, "purged": len(purged), "years": years},
    )
    return purged


def open_export(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """(donnees.json, {name: bytes}) from an export ZIP (tests and support)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        payload = json.loads(zf.read("donnees.json"))
        return payload, {n: zf.read(n) for n in zf.namelist() if n.startswith("fichiers/")}
