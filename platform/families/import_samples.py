"""A generated town in the documented import format (tests, bench/import_families.py):
every file of the import — households, representatives, children, health,
authorised persons, quotients, registrations, opening balances — with a share
of faulty lines in EACH file, whose (file, line) are returned so a test can
check that the dry run lists exactly them.

`generate(4000, today=...)` gives exactly 4,000 household lines and 7,000 child
lines (`children=` to choose). A faulty line never takes others down with it:
a faulty household has no representative, child or other line; a faulty
representative is nobody's guardian; a faulty child has no health sheet and no
registration. So the refused lines are exactly the injected ones.
"""

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
# file -> [(column, value)]: each makes its line refused with a French reason.
FAULTS = {
    "foyers": (
        ("code_postal", "8110X"),
        ("nom_foyer", ""),
        ("regime", "cnaf"),
        ("numero_allocataire", "12 34"),
    ),
    "responsables": (
        ("email", "parent@@exemple"),
        ("telephone", "12"),
        ("prenom", ""),
        ("id_foyer", "INCONNU"),
    ),
    "enfants": (
        ("date_naissance", "31/02/2019"),
        ("prenom", ""),
        ("id_foyer", "INCONNU"),
        ("sexe", "X"),
        ("date_naissance", "2099-01-01"),
    ),
    "sante": (
        ("vaccinations_a_jour", "peut-être"),
        ("regime_alimentaire", "sans gluten"),
        ("id_enfant", "INCONNU"),
        ("telephone_medecin", "123"),
    ),
    "personnes_autorisees": (
        ("telephone", ""),
        ("telephone", "abc"),
        ("id_foyer", "INCONNU"),
        ("peut_venir_chercher", "parfois"),
    ),
    "quotients": (
        ("quotient_familial", ""),
        ("quotient_familial", "12abc"),
        ("quotient_familial", "250000"),
        ("date_justificatif", "01/01/2099"),
    ),
    "inscriptions": (
        ("service", "piscine"),
        ("id_enfant", "INCONNU"),
        ("date_fin", "01/09/2000"),
        ("annee_scolaire", "2026-2028"),
    ),
    "soldes": (
        ("montant", "abc"),
        ("id_foyer", "INCONNU"),
        ("montant", "0"),
        ("date_solde", "01/01/2099"),
        ("regie", "inconnue"),
    ),
}
COLUMNS = {
    "foyers": "id_foyer;nom_foyer;adresse;code_postal;commune;regime;numero_allocataire",
    "responsables": "id_responsable;id_foyer;prenom;nom;email;telephone;payeur",
    "enfants": "id_enfant;id_foyer;prenom;nom;date_naissance;sexe;ecole;classe;responsables",
    "sante": "id_enfant;allergies;regime_alimentaire;pai;vaccinations_a_jour;medecin;"
    "telephone_medecin;photo",
    "personnes_autorisees": "id_personne;id_foyer;prenom;nom;lien;telephone;"
    "peut_venir_chercher;a_prevenir",
    "quotients": "id_foyer;quotient_familial;source;date_justificatif",
    "inscriptions": "id_inscription;id_enfant;service;annee_scolaire;date_debut;date_fin",
    "soldes": "id_solde;id_foyer;montant;date_solde;regie;libelle",
}
SERVICES = ("restauration-scolaire", "accueil-soir", "alsh-mercredi")  # in every launch town
REGIES = ("periscolaire", "alsh")


def _faulty(rng, count: int, rate: float) -> set[int]:
    return set(rng.sample(range(count), round(count * rate)))


def generate(
    households: int,
    *,
    children: int | None = None,
    fault_rate: float = 0.02,
    seed: int = 22,
    today: dt.date,
    services: tuple[str, ...] = SERVICES,
    regies: tuple[str, ...] = REGIES,
    files: tuple[str, ...] = tuple(COLUMNS),
):
    """Returns ({entity: (filename, bytes)}, {(filename, line)} of faulty lines).
    `children` defaults to 1.75 per household (4,000 -> 7,000)."""
    rng = random.Random(seed)
    children = round(households * 1.75) if children is None else children
    rows: dict[str, list[dict]] = {code: [] for code in COLUMNS}
    bad: dict[str, set[int]] = {}

    # households: the faulty ones get nothing else
    bad["foyers"] = _faulty(rng, households, fault_rate)
    good = []
    for h in range(1, households + 1):
        hid, last = f"H{h:06d}", rng.choice(LAST)
        rows["foyers"].append(
            {
                "id_foyer": hid,
                "nom_foyer": f"Famille {last} {h}",
                "adresse": f"{h} rue des Écoles",
                "code_postal": "81100",
                "commune": "Castres",
                "regime": "caf",
                "numero_allocataire": str(1000000 + h),
            }
        )
        if h - 1 not in bad["foyers"]:
            good.append((hid, last))

    # representatives: one or two per good household; the faulty ones guard nobody
    for n, (hid, last) in enumerate(good):
        for a in range(1 if n % 3 == 0 else 2):
            rows["responsables"].append(
                {
                    "id_responsable": f"R{hid[1:]}{a}",
                    "id_foyer": hid,
                    "prenom": rng.choice(FIRST),
                    "nom": last,
                    "email": f"parent{hid[1:]}.{a}@example.org",
                    "telephone": f"06{n % 100:02d}{a}{n % 100000:05d}",
                    "payeur": "oui" if a == 0 else "non",
                }
            )
    bad["responsables"] = _faulty(rng, len(rows["responsables"]), fault_rate)
    guardians: dict[str, list[str]] = {}
    for i, r in enumerate(rows["responsables"]):
        if i not in bad["responsables"]:
            guardians.setdefault(r["id_foyer"], []).append(r["id_responsable"])

    # children: exactly `children` of them over the good households
    per_home = [1] * len(good) if children >= len(good) else [0] * len(good)
    for _ in range(children - sum(per_home)):
        per_home[rng.randrange(len(good))] += 1
    school_year = today.year if today.month >= 9 else today.year - 1
    for (hid, last), count in zip(good, per_home, strict=True):
        for _c in range(count):
            number = len(rows["enfants"]) + 1
            birth = today - dt.timedelta(days=365 * 3 + (number * 37) % (365 * 9))
            rows["enfants"].append(
                {
                    "id_enfant": f"E{number:07d}",
                    "id_foyer": hid,
                    "prenom": rng.choice(FIRST),
                    "nom": last,
                    "date_naissance": birth.strftime("%d/%m/%Y"),
                    "sexe": rng.choice("FM"),
                    "ecole": "École Jean Macé",
                    "classe": "CP",
                    "responsables": "|".join(guardians.get(hid, [])),
                }
            )
    bad["enfants"] = _faulty(rng, len(rows["enfants"]), fault_rate)
    kept_children = [c for i, c in enumerate(rows["enfants"]) if i not in bad["enfants"]]

    for c in kept_children:
        if rng.random() < 0.6:
            rows["sante"].append(
                {
                    "id_enfant": c["id_enfant"],
                    "allergies": rng.choice(["", "", "arachide", "lactose"]),
                    "regime_alimentaire": rng.choice(["standard", "sans viande"]),
                    "pai": "non",
                    "vaccinations_a_jour": "oui",
                    "medecin": "Dr Azaïs",
                    "telephone_medecin": "05 63 00 00 00",
                    "photo": rng.choice(["oui", "non"]),
                }
            )
        for k, service in enumerate(rng.sample(services, 1 + (rng.random() < 0.5))):
            start = dt.date(school_year, 9, 1) + dt.timedelta(days=rng.randrange(20))
            rows["inscriptions"].append(
                {
                    "id_inscription": f"I{c['id_enfant'][1:]}{k}",
                    "id_enfant": c["id_enfant"],
                    "service": service,
                    "annee_scolaire": f"{school_year}-{school_year + 1}",
                    "date_debut": start.strftime("%d/%m/%Y"),
                    "date_fin": "",
                }
            )
    for n, (hid, _last) in enumerate(good):
        if rng.random() < 0.5:
            rows["personnes_autorisees"].append(
                {
                    "id_personne": f"P{hid[1:]}",
                    "id_foyer": hid,
                    "prenom": rng.choice(FIRST),
                    "nom": rng.choice(LAST),
                    "lien": "grand-parent",
                    "telephone": f"07{n % 100:02d}{n % 1000000:06d}",
                    "peut_venir_chercher": "oui",
                    "a_prevenir": "oui",
                }
            )
        if rng.random() < 0.85:
            rows["quotients"].append(
                {
                    "id_foyer": hid,
                    "quotient_familial": str(rng.randrange(200, 2500)),
                    "source": "caf",
                    "date_justificatif": (today - dt.timedelta(days=90)).strftime("%d/%m/%Y"),
                }
            )
        if rng.random() < 0.3:
            cents = rng.randrange(100, 50000) * rng.choice((1, 1, 1, -1))
            rows["soldes"].append(
                {
                    "id_solde": f"S{hid[1:]}",
                    "id_foyer": hid,
                    "montant": f"{cents / 100:.2f}".replace(".", ","),
                    "date_solde": (today - dt.timedelta(days=30)).strftime("%d/%m/%Y"),
                    "regie": rng.choice(regies),
                    "libelle": "Solde de l'ancien portail",
                }
            )
    for code in ("sante", "personnes_autorisees", "quotients", "inscriptions", "soldes"):
        bad[code] = _faulty(rng, len(rows[code]), fault_rate)

    out, faulty = {}, set()
    for code in files:
        filename = f"{code}.csv"
        lines = [COLUMNS[code]]
        for i, row in enumerate(rows[code]):
            if i in bad[code]:
                column, value = FAULTS[code][i % len(FAULTS[code])]
                row = {**row, column: value}
                faulty.add((filename, len(lines) + 1))
            lines.append(";".join(row.values()))
        out[code] = (filename, ("\n".join(lines) + "\n").encode("utf-8-sig"))
    return out, faulty


def streams(files):
    return {k: (name, io.BytesIO(data)) for k, (name, data) in files.items()}
