"""A generated town in the documented import format (tests, bench/import_families.py):
N households, about 1.75 children each, with a share of faulty lines whose
(file, line) are returned so a test can check the dry run lists exactly them."""

from __future__ import annotations

import datetime as dt
import io
import random

FIRST = [
    "Léa",
    "Hugo",
    "Chloé",
    "Lucas",
    "Inès",
    "Jules",
    "Zoé",
    "Adam",
    "Manon",
    "Noé",
    "Élise",
    "Ōscar",
]
LAST = [
    "Martin",
    "Bernard",
    "Nguyen",
    "Da Silva",
    "Lefèvre",
    "Moreau",
    "Haddad",
    "Ōkubo",
    "N'Diaye",
    "Dupont",
]
FAULTS = (
    ("date_naissance", "31/02/2019"),
    ("prenom", ""),
    ("id_foyer", "INCONNU"),
    ("sexe", "X"),
    ("date_naissance", "2099-01-01"),
)


def generate(households: int, *, fault_rate: float = 0.02, seed: int = 22, today: dt.date):
    """Returns ({entity: (filename, bytes)}, {(filename, line)} of faulty lines)."""
    rng = random.Random(seed)
    foyers = ["id_foyer;nom_foyer;adresse;code_postal;commune;regime;numero_allocataire"]
    adults = ["id_responsable;id_foyer;prenom;nom;email;telephone;payeur"]
    children = ["id_enfant;id_foyer;prenom;nom;date_naissance;sexe;ecole;classe;responsables"]
    faulty: set[tuple[str, int]] = set()
    child_no = 0
    for h in range(1, households + 1):
        hid, last = f"H{h:06d}", rng.choice(LAST)
        foyers.append(
            f"{hid};Famille {last} {h};{h} rue des Écoles;81100;Castres;caf;{1000000 + h}"
        )
        ids = []
        for a in range(1 if h % 3 == 0 else 2):
            aid = f"R{h:06d}{a}"
            ids.append(aid)
            email, phone = f"parent{h}.{a}@example.org", f"06{h % 100:02d}{a}{h:05d}"
            payer = "oui" if a == 0 else "non"
            adults.append(f"{aid};{hid};{rng.choice(FIRST)};{last};{email};{phone};{payer}")
        for _c in range(1 + (h % 4 != 0) - (h % 5 == 0) + (h % 7 == 0)):
            child_no += 1
            birth = today - dt.timedelta(days=365 * 3 + (child_no * 37) % (365 * 9))
            cells = {
                "id_enfant": f"E{child_no:07d}",
                "id_foyer": hid,
                "prenom": rng.choice(FIRST),
                "nom": last,
                "date_naissance": birth.strftime("%d/%m/%Y"),
                "sexe": rng.choice("FM"),
                "ecole": "École Jean Macé",
                "classe": "CP",
                "responsables": "|".join(ids),
            }
            if rng.random() < fault_rate:
                column, value = FAULTS[child_no % len(FAULTS)]
                cells[column] = value
                faulty.add(("enfants.csv", len(children) + 1))
            children.append(";".join(cells.values()))
    files = {
        "foyers": ("foyers.csv", "\n".join(foyers) + "\n"),
        "responsables": ("responsables.csv", "\n".join(adults) + "\n"),
        "enfants": ("enfants.csv", "\n".join(children) + "\n"),
    }
    return {k: (name, text.encode("utf-8-sig")) for k, (name, text) in files.items()}, faulty


def streams(files):
    return {k: (name, io.BytesIO(data)) for k, (name, data) in files.items()}
