"""PES V2 batches: what a batch would hold, building it, sending, the treasury's answer.

The rules are pure in pes.py; this file reads the invoices, applies them and
writes in transactions. A batch covers one régie and one invoiced month: the
invoices of that month still owing something and not yet a live title. The
bordereau number is gapless per exercice (numbering.py, counter
`pes-bordereau-<year>`), reserved in the transaction that stores the file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from prometheus_client import Counter

from core import metrics, town_config

from . import numbering, pes
from .french import month_label
from .models import DebtorDetails, DirectDebit, Invoice, InvoiceLine, PesBatch, PesPiece

PES_BATCHES = Counter(
    "guichet_pes_batches_total",
    "Bordereaux PES V2 (titres de recettes pour Hélios), par commune et issue "
    "(outcome: built, refused, sent).",
    ["town", "outcome"],
)
PES_PIECES = Counter(
    "guichet_pes_pieces_total",
    "Pièces (factures) transmises en titres PES V2, par commune.",
    ["town"],
)

OWING = [
    Invoice.Status.TO_PAY,
    Invoice.Status.PARTLY_PAID,
    Invoice.Status.DIRECT_DEBIT,
    Invoice.Status.HANDED_OVER,
]


class PesNotConfigured(pes.PesError):
    pass


def helios_settings(commune) -> pes.HeliosSettings:
    settings = pes.parse_helios(town_config.module_settings(commune, "billing").get("helios"))
    if settings is None:
        raise PesNotConfigured(
            [
                "La commune n'a pas renseigné ses identifiants Hélios (poste comptable, SIRET, "
                "codes collectivité, budget et produit) : Configuration › Régies."
            ]
        )
    return settings


@dataclass
class BlockedFamily:
    household_id: int
    name: str
    problems: list[str]
    civility_missing: bool
    invoices: int = 1


@dataclass
class Preview:
    regie_code: str
    regie_name: str
    year: int
    month: int
    pieces: list[pes.PieceData] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    blocked: list[BlockedFamily] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((p.total for p in self.pieces), Decimal("0.00"))

    @property
    def blocked_invoices(self) -> int:
        return sum(b.invoices for b in self.blocked)

    @property
    def label(self) -> str:
        return f"{self.regie_name} — factures de {month_label(self.year, self.month)}"


def regies_of_month(year: int, month: int) -> list[tuple[str, str]]:
    return list(
        Invoice.objects.filter(year=year, month=month)
        .exclude(kind__in=[Invoice.Kind.CREDIT, Invoice.Kind.OPENING])
        .values_list("regie_code", "regie_name")
        .distinct()
        .order_by("regie_code")
    )


def _candidates(regie_code: str, year: int, month: int):
    live = PesPiece.objects.exclude(status=PesPiece.Status.REJECTED).values("invoice_id")
    return (
        Invoice.objects.filter(
            regie_code=regie_code, year=year, month=month, status__in=OWING, total__gt=0
        )
        .exclude(kind__in=[Invoice.Kind.CREDIT, Invoice.Kind.OPENING])
        .exclude(id__in=live)
        .select_related("household", "payer")
        .order_by("number")
    )


def preview(regie_code: str, year: int, month: int) -> Preview:
    """What a batch would hold, and which families block it (a constant number
    of queries whatever the number of invoices)."""
    invoices = list(_candidates(regie_code, year, month))
    result = Preview(
        regie_code=regie_code,
        regie_name=invoices[0].regie_name if invoices else regie_code,
        year=year,
        month=month,
    )
    ids = [i.id for i in invoices]
    lines = defaultdict(list)
    for invoice_id, label, amount in (
        InvoiceLine.objects.filter(invoice_id__in=ids)
        .order_by("invoice_id", "position", "id")
        .values_list("invoice_id", "service_name", "amount")
    ):
        lines[invoice_id].append((label, amount))
    civility = dict(
        DebtorDetails.objects.filter(
            household_id__in={i.household_id for i in invoices}
        ).values_list("household_id", "civility")
    )
    debits = {
        d.invoice_id: d
        for d in DirectDebit.objects.filter(
            invoice_id__in=ids,
            status__in=[DirectDebit.Status.SCHEDULED, DirectDebit.Status.EXPORTED],
        ).select_related("mandate")
    }
    blocked: dict[int, BlockedFamily] = {}
    for invoice in invoices:
        household = invoice.household
        payer = invoice.payer
        debtor = pes.Debtor(
            family=f"Famille {household.name}"
            if not household.name.lower().startswith("famille")
            else household.name,
            civility=civility.get(household.id, ""),
            last_name=payer.last_name if payer else "",
            first_name=payer.first_name if payer else "",
            address=household.address_line,
            postcode=household.postcode,
            city=household.city,
        )
        problems = pes.debtor_problems(debtor)
        if problems:
            if household.id in blocked:
                blocked[household.id].invoices += 1
            else:
                blocked[household.id] = BlockedFamily(
                    household.id,
                    debtor.family,
                    problems,
                    civility_missing=household.id not in civility,
                )
            continue
        debit = debits.get(invoice.id)
        sepa = None
        if debit is not None:
            mandate = debit.mandate
            sepa = pes.Sepa(
                rum=mandate.rum,
                signed_on=timezone.localtime(mandate.signed_at).date(),
                sequence=debit.sequence or ("RCUR" if mandate.last_collection_on else "FRST"),
                collection_date=debit.collection_date,
                amount=debit.amount,
                iban=mandate.iban,
                bic=mandate.bic or "NOTPROVIDED",
                holder=mandate.holder_name,
            )
        result.pieces.append(
            pes.PieceData(
                invoice_number=invoice.number,
                label=f"Facture {invoice.number} — {month_label(year, month)}",
                lines=pes.piece_lines(lines[invoice.id], invoice.balance, invoice.number),
                debtor=debtor,
                sepa=sepa,
            )
        )
        result.invoices.append(invoice)
    result.blocked = sorted(blocked.values(), key=lambda b: b.name)
    return result


def build_batch(
    *, commune, regie_code: str, year: int, month: int, by=None, today: date | None = None
):
    """Store the file of a régie and month; refuses (PesError, French sentences)
    when a family lacks tiers data or nothing is owed, rather than send a file
    Hélios would reject."""
    helios = helios_settings(commune)
    today = today or timezone.localdate()
    with transaction.atomic():
        # One batch at a time per régie and month: the second waits, then sees
        # the first's pieces as live titles.
        numbering.lock(f"pes-{regie_code}-{year}-{month:02d}")
        data = preview(regie_code, year, month)
        if data.blocked:
            PES_BATCHES.labels(metrics.town_label(), "refused").inc()
            raise pes.PesError(
                ["Le bordereau ne peut pas être constitué : des données manquent."]
                + [p for b in data.blocked for p in b.problems]
            )
        exercice = today.year
        number = numbering.reserve(f"pes-bordereau-{exercice}")
        batch_data = pes.BatchData(
            file_name=f"PES_ORMC_{helios.code_collectivite}_{exercice}_{number:07d}.xml",
            exercice=exercice,
            bordereau=number,
            issued_on=today,
            regie_code=regie_code,
            label=data.label,
            pieces=tuple(data.pieces),
        )
        xml = pes.build_pes_xml(batch_data, helios)
        pes.validate_pes(xml)
        batch = PesBatch.objects.create(
            regie_code=regie_code,
            regie_name=data.regie_name,
            year=year,
            month=month,
            exercice=exercice,
            bordereau=number,
            file_name=batch_data.file_name,
            xml=xml,
            count=len(data.pieces),
            total=data.total,
            created_by=by,
        )
        PesPiece.objects.bulk_create(
            [
                PesPiece(batch=batch, invoice=invoice, number=n, amount=piece.total)
                for n, (invoice, piece) in enumerate(
                    zip(data.invoices, data.pieces, strict=True), 1
                )
            ]
        )
        town = metrics.town_label()
        transaction.on_commit(lambda: PES_BATCHES.labels(town, "built").inc())
        transaction.on_commit(lambda: PES_PIECES.labels(town).inc(len(data.pieces)))
    return batch


def mark_sent(batch: PesBatch, *, by=None) -> None:
    with transaction.atomic():
        locked = PesBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != PesBatch.Status.BUILT:
            return  # already sent: nothing changes (a double click)
        locked.status = PesBatch.Status.SENT
        locked.sent_at = timezone.now()
        locked.sent_by = by
        locked.save(update_fields=["status", "sent_at", "sent_by"])
        town = metrics.town_label()
        transaction.on_commit(lambda: PES_BATCHES.labels(town, "sent").inc())


def record_acknowledgement(batch: PesBatch, *, rejected: dict[int, str]) -> list[str]:
    """The treasury's PES Retour: every piece accepted but the `rejected` ones
    (piece number -> reason). Unknown numbers are refused with a French message;
    a rejected invoice may go into a later batch."""
    if batch.status == PesBatch.Status.BUILT:
        return ["Marquez d'abord le bordereau comme transmis à la trésorerie."]
    known = set(batch.pieces.values_list("number", flat=True))
    unknown = sorted(set(rejected) - known)
    if unknown:
        return ["Pièce inconnue dans ce bordereau : " + ", ".join(str(n) for n in unknown) + "."]
    with transaction.atomic():
        PesBatch.objects.select_for_update().get(pk=batch.pk)
        batch.pieces.filter(~Q(number__in=rejected)).update(
            status=PesPiece.Status.ACCEPTED, rejection_reason=""
        )
        for number, reason in rejected.items():
            batch.pieces.filter(number=number).update(
                status=PesPiece.Status.REJECTED, rejection_reason=reason[:255]
            )
        PesBatch.objects.filter(pk=batch.pk).update(
            status=PesBatch.Status.ACKNOWLEDGED, acknowledged_at=timezone.now()
        )
    return []


def set_civility(household, civility: str, *, by=None) -> None:
    DebtorDetails.objects.update_or_create(
        household=household, defaults={"civility": civility, "updated_by": by}
    )
