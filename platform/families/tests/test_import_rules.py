"""The pure reading and checking of a previous portal's files (issue 22):
encodings, separators, dates, booleans, odd Unicode, and every refusal named by
file, line, column and value. No database."""

import datetime as dt
import io

import pytest

from families.import_rules import (
    ENTITIES,
    FileProblem,
    check_file,
    clean_text,
    find_duplicates,
    normalize_header,
    parse_bool,
    parse_cell,
    parse_date,
    parse_int,
    person_key,
    read_rows,
    template_csv,
)

TODAY = dt.date(2026, 12, 7)
CHILDREN = ENTITIES["enfants"]
HEADER = "id_enfant;id_foyer;prenom;nom;date_naissance;sexe;responsables\n"


def check(text, entity=CHILDREN, *, encoding="utf-8", preset="guichet", name="enfants.csv"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return check_file(entity, io.BytesIO(data), name, preset=preset, today=TODAY)


# --- dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("07/12/2019", dt.date(2019, 12, 7)),
        ("7/1/2019", dt.date(2019, 1, 7)),
        ("07-12-2019", dt.date(2019, 12, 7)),
        ("07.12.2019", dt.date(2019, 12, 7)),
        ("2019-12-07", dt.date(2019, 12, 7)),
        ("2019-12-07T00:00:00", dt.date(2019, 12, 7)),
        ("2019/12/07", dt.date(2019, 12, 7)),
        (" 07/12/2019\u00a0", dt.date(2019, 12, 7)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        (dt.datetime(2019, 12, 7, 0, 0), dt.date(2019, 12, 7)),
        (dt.date(2019, 12, 7), dt.date(2019, 12, 7)),
        # Excel serial numbers (1900 system), as cells or as text from a CSV
        (43806, dt.date(2019, 12, 7)),
        (43806.75, dt.date(2019, 12, 7)),
        ("43806", dt.date(2019, 12, 7)),
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        ("１２/１２/２０１９", dt.date(2019, 12, 12)),  # full-width digits (Japanese input)
    ],
)
def test_dates_as_found_in_files(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("31/02/2019", "n'existe pas"),
        ("29/02/2023", "n'existe pas"),
        ("00/01/2019", "n'existe pas"),
        ("07/13/2019", "n'existe pas"),
        ("07/12/19", "deux chiffres"),
        ("le 7 décembre", "illisible"),
        ("", "illisible"),
        ("2019-12", "illisible"),
        (60, "29 février 1900"),
        (0, "hors limites"),
        (-3, "hors limites"),
        (99999999, "hors limites"),
        ("٠٧/١٢/٢٠١٩x", "illisible"),
    ],
)
def test_bad_dates_say_why_in_french(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_date(raw)


def test_booleans_and_integers():
    for yes in ("oui", "OUI", "Oui ", "o", "1", "x", "vrai", "yes", True):
        assert parse_bool(yes) is True
    for no in ("non", "N", "0", "faux", "", None, False):
        assert parse_bool(no) is False
    with pytest.raises(ValueError, match="oui ou non"):
        parse_bool("peut-être")
    assert parse_int("1 180") == 1180
    assert parse_int("1\u202f180") == 1180
    assert parse_int(742.0) == 742
    assert parse_int("742,00") == 742
    for bad in ("douze", "7.5", 7.5, "-3", True, "1e3"):
        with pytest.raises(ValueError, match="entier"):
            parse_int(bad)


def test_text_is_cleaned_of_odd_unicode():
    # decomposed accents become composed, zero-width and control characters go
    assert clean_text("Le\u0301a\u200b") == "Léa"
    assert clean_text("\ufeffJean\x00\x07 Pierre") == "Jean Pierre"
    assert clean_text("  Ōkubo\u00a0\u00a0Lefèvre ") == "Ōkubo Lefèvre"
    assert clean_text(None) == ""
    assert clean_text(1234567.0) == "1234567"
    assert normalize_header("\ufeffDate de naissance ") == "date_de_naissance"
    assert normalize_header("N° allocataire") == "n_allocataire"


def test_cells_by_kind():
    responsables = ENTITIES["responsables"]
    email, phone = responsables.column("email"), responsables.column("telephone")
    assert parse_cell(email, " Sophie.Bernard@Example.ORG ") == "sophie.bernard@example.org"
    with pytest.raises(ValueError, match="e-mail"):
        parse_cell(email, "sophie@")
    assert parse_cell(phone, "+33 6 12 34 56 78") == "06 12 34 56 78"
    with pytest.raises(ValueError, match="téléphone"):
        parse_cell(phone, "12345")
    postcode = ENTITIES["foyers"].column("code_postal")
    assert parse_cell(postcode, 1000) == "01000"  # a spreadsheet ate the leading zero
    with pytest.raises(ValueError, match="5 chiffres"):
        parse_cell(postcode, "ABCDE")
    sexe = CHILDREN.column("sexe")
    assert parse_cell(sexe, "Garçon") == "M"
    assert parse_cell(sexe, "f") == "F"
    with pytest.raises(ValueError, match="valeurs possibles"):
        parse_cell(sexe, "autre")
    assert parse_cell(CHILDREN.column("responsables"), "R1 | R2") == ("R1", "R2")
    with pytest.raises(ValueError, match="trop long"):
        parse_cell(CHILDREN.column("prenom"), "x" * 81)


# --- whole files -------------------------------------------------------------------


def test_semicolon_csv_with_bom():
    result = check("\ufeff" + HEADER + "E1;F1;Léa;Martin;03/03/2019;F;R1|R2\n")
    assert result.refusals == []
    [row] = result.rows
    assert row.line == 2
    assert row.values["date_naissance"] == dt.date(2019, 3, 3)
    assert row.values["responsables"] == ("R1", "R2")


def test_comma_and_tab_separated_and_windows_1252():
    comma = check(HEADER.replace(";", ",") + 'E1,F1,"Léa, dite Lili",Martin,2019-03-03,F,R1\n')
    assert comma.rows[0].values["prenom"] == "Léa, dite Lili"
    tab = check(HEADER.replace(";", "\t") + "E1\tF1\tLéa\tMartin\t03/03/2019\tF\tR1\n")
    assert tab.rows[0].values["nom"] == "Martin"
    cp1252 = check(HEADER + "E1;F1;Héloïse;Lefèvre;03/03/2019;F;\n", encoding="cp1252")
    assert cp1252.rows[0].values["prenom"] == "Héloïse"


def test_each_refusal_names_file_line_column_value():
    text = HEADER + (
        "E1;F1;Léa;Martin;03/03/2019;F;\n"
        "E2;F1;Hugo;Martin;31/02/2019;M;\n"  # impossible date
        ";F1;Sans;Identifiant;03/03/2019;M;\n"  # no identifier
        "E4;F1;Zoé;Martin;03/03/2030;F;\n"  # born in the future
        "E1;F1;Léa;Martin;03/03/2019;F;\n"  # same identifier twice
        ";;;;;;\n"  # blank line: skipped, not refused
        "E6;F1;Tom;Martin;03/03/2019;X;\n"  # unknown sex
    )
    result = check(text)
    assert [r.values["prenom"] for r in result.rows] == ["Léa"]
    texts = [r.text() for r in result.refusals]
    assert texts[0] == (
        "enfants.csv, ligne 3, colonne « date_naissance », valeur « 31/02/2019 » : "
        "cette date n'existe pas dans le calendrier"
    )
    assert (
        texts[1] == "enfants.csv, ligne 4, colonne « id_enfant » : identifiant de l'enfant manquant"
    )
    assert "ligne 5" in texts[2] and "dans le futur" in texts[2]
    assert "ligne 6" in texts[3] and "déjà présent ligne 2" in texts[3]
    assert "ligne 8" in texts[4] and "« X »" in texts[4]
    assert result.lines == 6


def test_missing_required_column_or_empty_file_refuses_the_file():
    with pytest.raises(FileProblem, match="date de naissance"):
        check("id_enfant;id_foyer;prenom;nom\nE1;F1;Léa;Martin\n")
    with pytest.raises(FileProblem, match="vide"):
        check("")
    with pytest.raises(FileProblem, match="vide"):
        check("\n;;\n")
    with pytest.raises(FileProblem, match="UTF-16"):
        check(HEADER.encode("utf-16"))
    with pytest.raises(FileProblem, match="XLSX"):
        check(b"PK\x03\x04 not really a zip")


def test_short_lines_and_extra_columns():
    result = check(
        HEADER.strip()
        + ";commentaire\nE1;F1;Léa;Martin;03/03/2019\n"
        + "E2;F1;Hugo;Martin;04/04/2020;M;;en trop;encore\n"
    )
    assert [r.source_id for r in result.rows] == ["E1", "E2"]


def test_xlsx_with_date_cells_and_serial_numbers():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ID_ENFANT", "Id foyer", "Prénom", "Nom", "Date de naissance", "Sexe"])
    sheet.append(["E1", "F1", "Léa", "Martin", dt.datetime(2019, 3, 3), "F"])
    sheet.append([2, 1, "Hugo", "Martin", 43806, "M"])  # numbers as identifiers, a serial date
    sheet.append(["E3", "F1", "Zoé", "Martin", "pas une date", "F"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = check(buffer.getvalue(), preset="tableur", name="enfants.xlsx")
    assert [(r.source_id, r.values["date_naissance"]) for r in result.rows] == [
        ("E1", dt.date(2019, 3, 3)),
        ("2", dt.date(2019, 12, 7)),
    ]
    [refusal] = result.refusals
    assert refusal.line == 4 and refusal.column == "Date de naissance"


def test_noethys_preset_renames_its_columns():
    text = "IDindividu;IDfamille;prenom;nom;date_naiss\n12;7;Léa;Martin;03/03/2019\n"
    result = check(text, preset="noethys")
    assert result.rows[0].values["id_foyer"] == "7"
    assert result.rows[0].source_id == "12"


def test_read_rows_streams_line_numbers_with_quoted_newlines():
    data = b'a;b\n"une\nadresse";2\nx;y\n'
    assert [n for n, _cells in read_rows(io.BytesIO(data), "x.csv")] == [1, 3, 4]


def test_malformed_csv_and_undecodable_bytes_never_raise_anything_else():
    for data in (b"a;b\n\x81\x82;\xff\n", b'id_enfant;x\n"unterminated\n', bytes(range(1, 256))):
        try:
            check(data)
        except FileProblem as exc:
            assert "enfants.csv" in str(exc) or "colonne" in str(exc)


def test_fingerprint_is_stable_and_duplicates_are_listed():
    a = check(HEADER + "E1;F1;Léa;Martin;03/03/2019;F;\n").rows[0]
    b = check(HEADER + "E1;F1;Léa;Martin;2019-03-03;f;\n").rows[0]
    assert a.fingerprint == b.fingerprint
    rows = [
        (person_key("Léa", "Martin", dt.date(2019, 3, 3)), "ligne 2"),
        (person_key("LEA", "martin", dt.date(2019, 3, 3)), "ligne 5"),
        (person_key("Hugo", "Martin", dt.date(2020, 1, 1)), "ligne 6"),
    ]
    existing = {person_key("Hugo", "MARTIN", dt.date(2020, 1, 1)): "Hugo Martin, déjà enregistré"}
    assert find_duplicates(rows, existing) == [
        "ligne 5 ressemble à ligne 2",
        "ligne 6 ressemble à Hugo Martin, déjà enregistré",
    ]


def test_template_has_the_documented_columns():
    assert template_csv(CHILDREN).startswith("\ufeffid_enfant;id_foyer;prenom;nom;date_naissance")
