"""Printable day list (fpdf2, pure Python: docs/decisions/0800-fpdf2.md)."""

from __future__ import annotations

from fpdf import FPDF

from booking.french import format_date


def day_list_pdf(day_list, *, town: str) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"Liste de présence — {day_list.activity.name}")
    pdf.set_author(town)
    pdf.add_page()
    # DejaVu is not guaranteed on servers: core fonts with latin-1 text cover French.
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin(f"{town} — Liste de présence"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(
        0,
        6,
        _latin(f"{day_list.activity.name}\n{format_date(day_list.day)}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    slot = day_list.slot
    places = (
        f"{slot.booked} inscrits / {slot.capacity} places" if slot else "Pas d'accueil ce jour-là"
    )
    pdf.multi_cell(0, 6, _latin(places), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (60, 55, 30, 45)
    pdf.set_font("Helvetica", "B", 10)
    for w, head in zip(widths, ("Enfant", "Foyer", "Présent", "Absence signalée"), strict=True):
        pdf.cell(w, 8, _latin(head), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for b in day_list.bookings:
        absence = getattr(b, "absence", None)
        row = (
            f"{b.child.last_name.upper()} {b.child.first_name}",
            b.child.household.name,
            {"present": "oui", "absent": "non"}.get(b.attendance, "[   ]"),
            absence.get_decision_display() if absence else "",
        )
        for w, text in zip(widths, row, strict=True):
            pdf.cell(w, 8, _latin(text)[:40], border=1)
        pdf.ln()
    if day_list.waiting:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, _latin(f"Liste d'attente : {len(day_list.waiting)}"))
        pdf.ln()
    return bytes(pdf.output())


def _latin(text: str) -> str:
    return (
        str(text)
        .replace("—", "-")
        .replace("’", "'")
        .replace("œ", "oe")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )
