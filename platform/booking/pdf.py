"""Printable day list (fpdf2, pure Python: docs/decisions/0800-fpdf2.md)."""

from __future__ import annotations

from fpdf import FPDF

from booking.french import format_date


def day_list_pdf(day_list, *, town: str, health: bool = False) -> bytes:
    """The printed day list: the same safety columns as the screen
    (booking.checkin.CheckinList); health columns only when `health`."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"Liste de présence — {day_list.activity.name}")
    pdf.set_author(town)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    # DejaVu is not guaranteed on servers: core fonts with latin-1 text cover French.
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin(f"{town} — Liste de présence"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    slot = day_list.slot
    places = (
        f"{slot.booked} inscrits / {slot.capacity} places" if slot else "Pas d'accueil ce jour-là"
    )
    pdf.multi_cell(
        0,
        6,
        _latin(f"{day_list.activity.name} — {format_date(day_list.day)} — {places}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    heads = ["Enfant", "Présent", "Absence signalée"]
    widths = [45, 18, 30]
    if health:
        heads += ["Allergies", "PAI (trousse)", "Régime"]
        widths += [35, 40, 25]
    heads += ["Part seul", "Autorisés à venir chercher", "Tél. urgence"]
    widths += [16, 40 if health else 80, 28 if health else 50]
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(
        col_widths=widths, width=sum(widths), text_align="LEFT", line_height=4.5
    ) as table:
        head = table.row()
        for text in heads:
            head.cell(_latin(text))
        for r in day_list.rows:
            absence = r.absence
            cells = [
                f"{r.child.last_name.upper()} {r.child.first_name}",
                {"present": "oui", "absent": "non"}.get(r.booking.attendance, "[   ]"),
                absence.get_decision_display() if absence else "",
            ]
            if health:
                cells += [
                    r.allergies or "-",
                    ("oui : " + (r.pai_kit or "voir la famille")) if r.pai else "non",
                    r.diet or "-",
                ]
            cells += [
                "oui" if r.may_leave_alone else "non",
                ", ".join(r.pick_up) or "-",
                r.emergency_phone or "-",
            ]
            row = table.row()
            for text in cells:
                row.cell(_latin(text))
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
