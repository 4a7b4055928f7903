"""The test WORLD shared by the generated suites: the routes of both URLconfs
with their access declarations (`@access`, platform/core/access.py), a
household owning one object of every kind a URL can name, the town's staff,
its public content, and the URL of a route filled from those objects.

tests/hardening/test_isolation_matrix.py builds it inside a rolled-back
transaction (every actor × every route); tests/browser/test_axe_everywhere.py
builds it COMMITTED in a throwaway town (axe-core on every page an actor may
open). A URL argument is named after a world value (DEFAULT_ARGS) or declared
next to the view (`@access(FAMILY_OBJECT, pk="child")`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.access import MODULE, declared_for
from documents.testing import make_image, make_pdf
from families.testing import make_family, make_staff

AREAS = ("periscolaire", "alsh", "petite_enfance", "billing")

# URL argument -> name of a world value, unless the declaration says otherwise
# (`@access(FAMILY_OBJECT, pk="child")`): `pk` always needs a declaration.
DEFAULT_ARGS = {
    "demande_pk": "demande",
    "child_pk": "child",
    "household_pk": "household",
    "adult_id": "adult",
    "entry_id": "waiting_entry",
    "booking_id": "booking",
    "absence_id": "absence",
    "declaration_id": "declaration",
    "document_id": "registration_document",
    "application_id": "application",
    "public_id": "vault_item",
    "attachment_pk": "news_attachment",
    "number": "config_version",
    "slug": "page_slug",
    "code": "service_code",
    "kind_code": "content_kind",
    "year": "year",
    "day": "debit_day",
    "token": "token",
    "uidb64": "uidb64",
    # the operator console (Django's admin)
    "object_id": "operator",
    "id": "operator",
    "content_type_id": "user_content_type",
    "app_label": "admin_app",
    "url": "admin_unknown",
}


# --- enumeration ---------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    site: str  # "town" (portal.urls_tenant) or "platform" (portal.urls_public)
    path: str  # the pattern, e.g. "mon-espace/famille/enfants/<int:pk>/"
    name: str  # namespaced URL name ("admin:" when unnamed)
    callback: object

    @property
    def declared(self):
        return declared_for(self.callback, self.name)

    @property
    def api(self) -> bool:
        return self.site == "town" and self.path.startswith("api/")

    @property
    def id(self) -> str:
        return f"{self.site}:{self.name or '?'}:{self.path}"


def _walk(patterns, prefix, namespace):
    for p in patterns:
        pattern = str(p.pattern)
        pattern = pattern.removeprefix("^").removesuffix("$").removesuffix("\\Z")
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _walk(p.url_patterns, prefix + pattern, ns)
        elif isinstance(p, URLPattern):
            name = ":".join(x for x in (namespace, p.name or "") if x)
            if not p.name and namespace:
                name += ":"
            yield prefix + pattern, name, p.callback


def entries():
    seen, out = set(), []
    for site, urlconf in (("town", "portal.urls_tenant"), ("platform", "portal.urls_public")):
        for path, name, callback in _walk(get_resolver(urlconf).url_patterns, "", ""):
            if (site, path) not in seen:  # the first pattern wins, as in resolve()
                seen.add((site, path))
                out.append(Entry(site, path, name, callback))
    return out


ENTRIES = entries()


def _pdf(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, _PDF, content_type="application/pdf")


_PDF = make_pdf("Matrice")


def build_household(town, *, key, last_name, vault_id, content=True):
    """A household of `town` owning one object of every kind a URL can name,
    created in a fixed order (same order, same ids in both towns)."""
    import zlib

    from booking.models import (
        Absence,
        AbsenceDeclaration,
        Activity,
        Booking,
        DaySlot,
        Registration,
        RegistrationDocument,
        ReservationPeriod,
        WaitingListEntry,
    )
    from core.models import Service
    from demandes.models import Attachment, Demande, DemandeEvent
    from documents import services as documents
    from documents.models import VaultItem
    from modules.billing.models import DirectDebit, Invoice, Mandate, Payment, PesBatch, SepaExport
    from modules.petite_enfance.models import CrecheApplication

    fam = make_family(town, key=key, last_name=last_name)
    today = timezone.localdate()
    with tenant_context(town):
        user, household, adult, child = fam.user, fam.household, fam.adult, fam.children[0]
        demande = Demande.objects.create(
            kind="quotient_familial",
            subject=f"QF {last_name}",
            household=household,
            submitted_by=user,
            service_area="billing",
            payload={"quotient_familial": 1},
        )
        event = DemandeEvent.objects.create(
            demande=demande, actor=user, to_status="submitted", message=f"attestation {last_name}"
        )
        attachment = Attachment(
            event=event,
            stored_name=f"{key:x<32}.pdf"[:36],
            original_name=f"{last_name}.pdf",
            content_type="application/pdf",
            size=len(_PDF),
        )
        attachment.file.save(attachment.stored_name, _pdf("x.pdf"), save=False)
        attachment.save()
        document = documents.upload_document(
            household=household,
            uploaded_by=user,
            uploaded_file=_pdf(f"{last_name}.pdf"),
            kind="attestation_rc",
            title=f"Assurance {last_name}",
        )
        # The vault's public ids (uuid) collide too: sealed with the chosen id.
        public_id = VaultItem._meta.get_field("public_id")
        default, public_id.default = public_id.default, (lambda: uuid.UUID(int=vault_id))
        public_id.__dict__.pop("_get_default", None)  # Field caches its default
        try:
            vault_item = documents.vault_store(
                household=household, uploaded_file=_pdf("coffre.pdf"), title=f"Coffre {last_name}"
            )
        finally:
            public_id.default = default
            public_id.__dict__.pop("_get_default", None)
        # Per booking module (the URLs of a module only reach its own rows): a
        # booking, an absence with its justification, a waiting-list entry, a
        # registration with a document. World names `booking@alsh`...
        per_module = {}
        day = today + dt.timedelta(days=30)
        for module in ("periscolaire", "alsh", "petite_enfance"):
            service = Service.objects.filter(module=module).order_by("code").first()
            activity = Activity.objects.filter(service=service).order_by("pk").first()
            activity = activity or Activity.objects.create(
                service=service, name=f"Activité {module}", default_capacity=10
            )
            slots = [
                DaySlot.objects.get_or_create(
                    activity=activity,
                    day=day + dt.timedelta(days=i),
                    defaults={"capacity": 10 if i < 2 else 0},
                )[0]
                for i in range(3)
            ]
            booking = Booking.objects.create(slot=slots[0], child=child)
            absence = Absence(
                booking=Booking.objects.create(slot=slots[1], child=child),
                reason="illness",
                justification_name="certificat.pdf",
                justification_type="application/pdf",
            )
            absence.justification.save("certificat.pdf", _pdf("c.pdf"), save=False)
            if module == "periscolaire":  # declared over a period (staff: absences déclarées)
                absence.declaration = AbsenceDeclaration.objects.create(
                    child=child, first_day=slots[1].day, last_day=slots[1].day, reason="illness"
                )
                per_module["declaration"] = absence.declaration
            absence.save()
            waiting = WaitingListEntry.objects.create(slot=slots[2], child=child)
            registration = Registration.objects.create(
                child=child, service=service, school_year=today.year, status="pending"
            )
            reg_doc = RegistrationDocument(
                registration=registration,
                code="attestation",
                label="Attestation",
                original_name=f"{last_name}.pdf",
                content_type="application/pdf",
                size=len(_PDF),
            )
            reg_doc.file.save("piece.pdf", _pdf("p.pdf"), save=False)
            reg_doc.save()
            per_module.update(
                {
                    f"booking@{module}": booking,
                    f"absence@{module}": absence,
                    f"waiting_entry@{module}": waiting,
                    f"registration_document@{module}": reg_doc,
                    f"activity@{module}": activity,
                }
            )
        application = CrecheApplication.objects.create(
            household=household,
            child=child,
            submitted_by=user,
            service=Service.objects.filter(module="petite_enfance").order_by("code").first(),
            desired_start=today + dt.timedelta(days=90),
        )
        now = timezone.now()
        invoice = Invoice.objects.create(
            number=f"F-{key}",
            regie_code="regie",
            regie_name="Régie",
            household=household,
            payer=adult,
            payer_name=f"Camille {last_name}",
            year=today.year,
            month=today.month,
            invoice_date=today,
            due_date=today + dt.timedelta(days=30),
            payment_opens_at=now - dt.timedelta(days=1),
            payment_closes_at=now + dt.timedelta(days=30),
            total=Decimal("42.00"),
        )
        # Last month's invoice, past its due date and still owed: it has a reminder letter.
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        overdue_invoice = Invoice.objects.create(
            number=f"R-{key}",
            regie_code="regie",
            regie_name="Régie",
            household=household,
            payer=adult,
            payer_name=f"Camille {last_name}",
            year=last_month.year,
            month=last_month.month,
            invoice_date=today - dt.timedelta(days=40),
            due_date=today - dt.timedelta(days=20),
            payment_opens_at=now - dt.timedelta(days=40),
            payment_closes_at=now - dt.timedelta(days=20),
            total=Decimal("42.00"),
        )
        payment = Payment.objects.create(
            invoice=invoice,
            method="desk",
            provider="regie",
            transaction_id=f"T-{key}",
            amount=Decimal("10.00"),
            paid_at=now,
            receipt_number=f"R-{key}",
        )
        mandate = Mandate.objects.create(
            household=household,
            signed_by=user,
            rum=f"RUM-{key}",
            holder_name=last_name,
            iban="FR7630006000011234567890189",
            signed_at=now,
            applies_from=today,
        )
        export = SepaExport.objects.create(
            collection_date=today, message_id=f"M-{key}", xml=b"<xml/>", count=1, total=Decimal("1")
        )
        debit = DirectDebit.objects.create(
            invoice=invoice,
            mandate=mandate,
            amount=Decimal("1.00"),
            collection_date=today,
            export=export,
        )
        pes_batch = PesBatch.objects.create(
            regie_code="regie",
            regie_name="Régie",
            year=today.year,
            month=today.month,
            exercice=today.year,
            bordereau=zlib.crc32(key.encode()) % 10**6 + 1,
            file_name=f"PES-{key}.xml",
            xml=b"<xml/>",
            count=1,
            total=Decimal("42.00"),
        )
        # An opening with its waiting room (booking.waiting_room), tomorrow, for
        # days two years ahead: it gates nothing the other routes touch.
        opening = ReservationPeriod.objects.create(
            label=f"Ouverture {last_name}",
            opens_at=now + dt.timedelta(days=1),
            closes_at=now + dt.timedelta(days=30),
            first_day=today + dt.timedelta(days=730),
            last_day=today + dt.timedelta(days=731),
            waiting_room=True,
        )
        values = {
            "opening": opening,
            "user": user,
            "household": household,
            "adult": adult,
            "child": child,
            "member": fam.member,
            "demande": demande,
            "attachment": attachment,
            "document": document,
            "vault_item": vault_item.public_id,
            **per_module,
            "application": application,
            "invoice": invoice,
            "overdue_invoice": overdue_invoice,
            "payment": payment,
            "mandate": mandate,
            "sepa_export": export,
            "debit": debit,
            "pes_batch": pes_batch,
        }
        if content:
            values.update(build_content(town, last_name))
    connection.set_schema_to_public()
    return values


def build_content(town, last_name):
    from content.models import InfoPage, NewsAttachment, NewsItem, Reglement

    published = {"status": "published", "published_at": timezone.now()}
    news = NewsItem(title=f"Nouvelles {last_name}", image_alt="Affiche", **published)
    news.image.save("affiche.png", ContentFile(make_image()), save=False)
    news.save()
    news_attachment = NewsAttachment(
        news=news, title="Programme", content_type="application/pdf", size=len(_PDF)
    )
    news_attachment.file.save("programme.pdf", _pdf("programme.pdf"), save=False)
    news_attachment.save()
    reglement = Reglement(title=f"Règlement {last_name}", size=len(_PDF), **published)
    reglement.file.save("reglement.pdf", _pdf("reglement.pdf"), save=False)
    reglement.save()
    page = InfoPage.objects.create(title=f"Infos {last_name}", slug="infos-matrice", **published)
    return {
        "news": news,
        "news_attachment": news_attachment,
        "reglement": reglement,
        "page_slug": page.slug,
    }


def town_constants(town):
    from core.models import Service

    with tenant_context(town):
        service = Service.objects.order_by("code").first().code
    connection.set_schema_to_public()
    return {
        "service_code": service,
        "email_template": "booking/email/offer.txt",
        "content_kind": "actualites",
        "config_version": 1,
        "year": timezone.localdate().year,
        "debit_day": timezone.localdate().isoformat(),
        "token": "jeton-invalide",
        "uidb64": "MQ",
    }


def build_staff(town, prefix, pk_of=None):
    pk_of = pk_of or {}
    staff = {
        f"agent_{area}": make_staff(
            town, username=f"{prefix}-{area}", areas=[area], pk=pk_of.get(f"agent_{area}")
        )
        for area in AREAS
    }
    staff["manager"] = make_staff(
        town, username=f"{prefix}-resp", role="manager", pk=pk_of.get("manager")
    )
    staff["town_admin"] = make_staff(
        town, username=f"{prefix}-admin", role="town_admin", pk=pk_of.get("town_admin")
    )
    return staff


def area_of(entry):
    area = entry.declared.area
    if area == MODULE:
        return next(part for part in entry.name.split(":") if part in AREAS)
    return area


# --- requests and outcomes --------------------------------------------------------------
def url_for(values, entry, slug):
    """The concrete URL of `entry` in town `slug` (or on the platform), its
    arguments taken from `values` (a world's objects by name)."""
    declared = entry.declared

    module = next((p for p in entry.name.split(":") if p in AREAS), None)

    def named(name, arg):
        name = f"{name}@{module}" if f"{name}@{module}" in values else name
        if name is None or name not in values:
            raise LookupError(
                f"{entry.id}: argument d'URL `{arg}` sans valeur — déclarez "
                f'`@access(..., {arg}="<objet du monde>")` (noms : {sorted(values)})'
            )
        found = values[name]
        return str(getattr(found, "pk", found))

    def value(arg):
        return named(declared.args.get(arg) or DEFAULT_ARGS.get(arg), arg)

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), entry.path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), path)
    query = re.sub(r"\{(\w+)\}", lambda m: named(m.group(1), m.group(1)), declared.query)
    query = f"?{query}" if query else ""
    prefix = "/" if entry.site == "platform" else f"/{slug}/"
    return prefix + path + query


def view_class(entry):
    if entry.site != "town":
        return None
    return getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)


def gets(entry) -> bool:
    """Whether GET is tested for every actor: declared for function views,
    from the handlers of a class view."""
    cls = view_class(entry)
    return hasattr(cls, "get") if cls is not None else "get" in entry.declared.methods
