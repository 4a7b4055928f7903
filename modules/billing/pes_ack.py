"""The treasury's acknowledgement of a PES file (« PES_ACQUIT », pure).

After Hélios receives a PES file it answers with an acknowledgement (the
tiers de télétransmission or the DGFiP's portal hands it to the town). Its
layout, as read by the open-source transmission tools that process it
(decision 0204: libriciel/s2low, sictiam/stela):

    <PES_ACQUIT>
      <Enveloppe><Parametres><NomFic V="PES_ORMC_....xml"/></Parametres></Enveloppe>
      <ACQUIT>
        <ElementACQUIT>
          <DomaineAck V="6"/>          0-2 technique, 3 certificat, 4 pièce justificative,
                                       5 dépense, 6 recette, 7 budget
          <ExerciceBord V="2026"/> <NumBord V="12"/>
          <EtatAck V="1"/>             1: accepted; anything else: rejected
          <Erreur><NumAnoAck V="ERREUR_..."/><LibelleAnoAck V="..."/></Erreur>
          <DetailPiece><NumPiece V="3"/><Erreur>...</Erreur>
            <DetailLigne><NumLigne V="1"/><Erreur>...</Erreur></DetailLigne>
          </DetailPiece>
        </ElementACQUIT>
      </ACQUIT>
    </PES_ACQUIT>

The older Rev0 schema's `PES_Acquit` (Enveloppe, then Acquit/NomFic only) says
the file was received, nothing else: every piece is taken as accepted.

`parse_ack` reads the bytes (already through core.uploads.check_upload:
well-formed, no DTD) and raises AckError with a French sentence for anything
else; `rejections` turns an acknowledgement into the rejected pieces of OUR
batch (piece number -> French reason) or refuses it when it is about another
file or bordereau. Element names are matched without their namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What the treasury's anomaly codes mean, for when its file gives no wording
# (the codes themselves are never shown: decision 0204).
ANOMALIES = {
    "ERREUR_CONNECTION_IMPOSSIBLE_A_LA_BASE": "incident technique à la trésorerie",
    "ERREUR_ENCODING": "encodage des caractères du fichier refusé",
    "ERREUR_FLUX_VIDE": "fichier vide",
    "ERREUR_SCHEMA_INCOMPLET": "fichier non conforme au format PES",
    "ERREUR_CODIFICATION": "code non reconnu par la trésorerie",
    "ERREUR_CODIQUE": "poste comptable inconnu",
    "ERREUR_SIRET": "SIRET de la collectivité inconnu",
    "ERREUR_CODE_COLLECTIVITE_BUDGET": "code collectivité ou budget inconnu",
    "ERREUR_VERSION_PES": "version du format PES refusée",
    "ERREUR_DOUBLON_BORDEREAU": "bordereau déjà reçu (en double)",
    "ERREUR_DOUBLON_PIECE": "pièce déjà reçue (en double)",
    "ERREUR_DOUBLON_LIGNE": "ligne en double",
    "ERREUR_TAILLE_BORDEREAUX": "bordereau trop volumineux",
    "ERREUR_TAILLE_PIECE": "pièce trop volumineuse",
    "ERREUR_TAILLE_LIGNE": "ligne trop volumineuse",
    "ERREUR_CUMUL_MONTANTS": "les montants ne correspondent pas au total",
    "ERREUR_MONTANT_TVA_ZERO_NEGATIF": "montant nul ou négatif",
    "ERREUR_TIMEOUT": "incident technique à la trésorerie (délai dépassé)",
}
DOMAINS = {
    "0": "technique",
    "1": "technique",
    "2": "technique",
    "3": "certificat",
    "4": "pièce justificative",
    "5": "dépense",
    "6": "recette",
    "7": "budget",
}
DEFAULT_REASON = "rejetée par la trésorerie (motif non précisé)"


class AckError(ValueError):
    """A file we cannot use as this batch's acknowledgement (French message)."""


@dataclass(frozen=True)
class AckElement:
    domain: str
    exercice: int | None
    bordereau: int | None
    accepted: bool
    reason: str = ""  # the element's own anomaly (the whole bordereau / file)
    pieces: dict[int, str] = field(default_factory=dict)  # rejected piece -> reason


@dataclass(frozen=True)
class Acknowledgement:
    file_name: str
    elements: tuple[AckElement, ...]


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el, name: str) -> list:
    return [c for c in el if _local(c.tag) == name]


def _child(el, *path: str):
    for name in path:
        found = _children(el, name) if el is not None else []
        el = found[0] if found else None
    return el


def _v(el, *path: str) -> str:
    target = _child(el, *path)
    return (target.get("V") or "").strip() if target is not None else ""


def _int(text: str, what: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise AckError(f"L'accusé de réception est illisible : {what} « {text[:20]} » invalide.")
    return int(text)


def _reason(el) -> str:
    """The French reason of an <Erreur> (its libellé, else the code's meaning)."""
    if el is None:
        return ""
    label = " ".join(_v(el, "LibelleAnoAck").split())
    if label:
        return label[:200]
    code = _v(el, "NumAnoAck")
    return ANOMALIES.get(code, DEFAULT_REASON if code else "")


def parse_ack(data: bytes) -> Acknowledgement:
    # Heavy library (lxml/libxml2: loaded only when a PES file is checked).
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise AckError(
            "Ce fichier n'est pas un accusé de réception lisible (XML incomplet ou endommagé)."
        ) from exc
    kind = _local(root.tag)
    if kind == "PES_Acquit":  # Rev0: « received », no detail
        name = _v(root, "Acquit", "NomFic") or _v(root, "Enveloppe", "Parametres", "NomFic")
        if not name:
            raise AckError("L'accusé de réception ne nomme pas le fichier qu'il concerne.")
        return Acknowledgement(name, (AckElement("", None, None, True),))
    if kind != "PES_ACQUIT":
        raise AckError(
            "Ce fichier n'est pas un accusé de réception de la trésorerie (PES_ACQUIT) : "
            "déposez le fichier d'acquittement reçu après l'envoi du bordereau."
        )
    name = _v(root, "Enveloppe", "Parametres", "NomFic")
    if not name:
        raise AckError("L'accusé de réception ne nomme pas le fichier qu'il concerne.")
    acquit = _child(root, "ACQUIT")
    items = _children(acquit, "ElementACQUIT") if acquit is not None else []
    if not items:
        raise AckError("L'accusé de réception ne contient aucun résultat (ElementACQUIT).")
    elements = []
    for item in items:
        state = _v(item, "EtatAck")
        if not state:
            raise AckError("L'accusé de réception est illisible : un résultat n'a pas d'état.")
        pieces: dict[int, str] = {}
        for detail in _children(item, "DetailPiece"):
            number = _int(_v(detail, "NumPiece"), "numéro de pièce")
            if number is None:
                continue
            reasons = [_reason(_child(detail, "Erreur"))]
            for line in _children(detail, "DetailLigne"):
                why = _reason(_child(line, "Erreur"))
                if why:
                    reasons.append(f"ligne {_v(line, 'NumLigne') or '?'} : {why}")
            text = " ; ".join(r for r in reasons if r) or DEFAULT_REASON
            pieces[number] = f"{pieces[number]} ; {text}" if number in pieces else text
        # A rejection written on the element itself, with a piece number.
        own = _reason(_child(item, "Erreur"))
        number = _int(_v(item, "NumPiece"), "numéro de pièce")
        if number is not None and state != "1":
            pieces.setdefault(number, own or DEFAULT_REASON)
        elements.append(
            AckElement(
                domain=_v(item, "DomaineAck"),
                exercice=_int(_v(item, "ExerciceBord"), "exercice"),
                bordereau=_int(_v(item, "NumBord"), "numéro de bordereau"),
                accepted=state == "1",
                reason=own,
                pieces=pieces,
            )
        )
    return Acknowledgement(name, tuple(elements))


def rejections(
    ack: Acknowledgement, *, file_name: str, exercice: int, bordereau: int, pieces: set[int]
) -> dict[int, str]:
    """The rejected pieces of our batch (number -> French reason); {} when all
    are accepted. AckError when the file is about another file or bordereau."""
    if ack.file_name != file_name:
        raise AckError(
            f"Cet accusé de réception concerne le fichier « {ack.file_name[:120]} », pas celui "
            f"de ce bordereau (« {file_name} ») : déposez-le sur la page de son bordereau."
        )
    rejected: dict[int, str] = {}
    for element in ack.elements:
        if element.bordereau is not None and element.bordereau != bordereau:
            raise AckError(
                f"Cet accusé de réception concerne le bordereau n° {element.bordereau}, pas le "
                f"n° {bordereau}."
            )
        if element.exercice is not None and element.exercice != exercice:
            raise AckError(
                f"Cet accusé de réception concerne l'exercice {element.exercice}, pas {exercice}."
            )
        if element.accepted:
            continue
        if element.pieces:
            rejected.update(element.pieces)
        else:  # the whole file or bordereau is rejected: every piece with it
            domain = DOMAINS.get(element.domain, "")
            why = element.reason or DEFAULT_REASON
            why = f"bordereau rejeté ({domain}) : {why}" if domain else f"bordereau rejeté : {why}"
            rejected.update(dict.fromkeys(pieces, why))
    return rejected
