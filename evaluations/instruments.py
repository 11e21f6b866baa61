"""The instrument engine: validate answers, score dimensions, and read/write instruments as JSON in
the shape of a FHIR R4 Questionnaire (items grouped per dimension; scoring in extensions)."""

from statistics import mean, pstdev

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .measurement_models import SCALE_RANGE, Dimension, Instrument, InstrumentVersion, Item, Scale

SMALL_GROUP = 5
EXT = "https://samenwerkingshub.invalid/fhir/StructureDefinition/"


def clean_answers(version: InstrumentVersion, raw: dict) -> dict:
    """Answers as numbers (or text), each within its item's scale; raises with a clear message."""
    answers, errors = {}, []
    for item in version.items.all():
        value = raw.get(item.code)
        if value in (None, ""):
            if item.required:
                errors.append(_("Answer “%(item)s”.") % {"item": item.text})
            continue
        if item.scale == Scale.TEXT:
            answers[item.code] = str(value)[:2000]
            continue
        low, high = SCALE_RANGE[item.scale]
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            errors.append(
                _("“%(item)s”: choose a value from %(low)s to %(high)s.")
                % {"item": item.text, "low": low, "high": high}
            )
            continue
        answers[item.code] = number
    unknown = set(raw) - {item.code for item in version.items.all()}
    if unknown:
        errors.append(_("Unknown question: %(code)s") % {"code": sorted(unknown)[0]})
    if errors:
        raise ValidationError(errors)
    return answers


def score(version: InstrumentVersion, answers: dict) -> dict[str, float | None]:
    """Score per dimension: reverse items mirrored on their scale, then mean or sum of the answered
    items; None when fewer than the dimension's minimum were answered."""
    items_by_dimension: dict[int, list[Item]] = {}
    for item in version.items.all():
        if item.dimension_id and item.scale != Scale.TEXT:
            items_by_dimension.setdefault(item.dimension_id, []).append(item)
    result = {}
    for dimension in version.dimensions.all():
        values = []
        for item in items_by_dimension.get(dimension.pk, []):
            value = answers.get(item.code)
            if value is None:
                continue
            low, high = SCALE_RANGE[item.scale]
            values.append(low + high - value if item.reverse else value)
        if len(values) < max(1, dimension.min_answered):
            result[dimension.code] = None
        elif dimension.scoring == Dimension.Scoring.SUM:
            result[dimension.code] = float(sum(values))
        else:
            result[dimension.code] = round(mean(values), 4)
    return result


def summarise(scores: list[dict], dimensions: list[Dimension]) -> list[dict]:
    """Mean, spread (population SD) and number of responses per dimension; nothing under five."""
    rows = []
    for dimension in dimensions:
        values = [s[dimension.code] for s in scores if s.get(dimension.code) is not None]
        enough = len(values) >= SMALL_GROUP
        rows.append(
            {
                "code": dimension.code,
                "name": dimension.name,
                "n": len(values) if enough else None,
                "small": not enough,
                "mean": round(mean(values), 2) if enough else None,
                "sd": round(pstdev(values), 2) if enough else None,
            }
        )
    return rows


# --- JSON in the shape of a FHIR Questionnaire ------------------------------------------------------

FHIR_TYPE = {
    Scale.LIKERT_5: "integer",
    Scale.ZERO_TEN: "integer",
    Scale.LEVEL_1_5: "integer",
    Scale.YES_NO: "boolean",
    Scale.TEXT: "text",
}


def to_fhir(version: InstrumentVersion) -> dict:
    instrument = version.instrument

    def item_json(item: Item) -> dict:
        data = {
            "linkId": item.code,
            "text": item.text,
            "type": FHIR_TYPE[item.scale],
            "required": item.required,
            "extension": [
                {"url": EXT + "scale", "valueCode": item.scale},
                {"url": EXT + "reverse", "valueBoolean": item.reverse},
            ],
        }
        if item.labels:
            data["answerOption"] = [
                {"valueCoding": {"code": str(SCALE_RANGE[item.scale][0] + i), "display": label}}
                for i, label in enumerate(item.labels)
            ]
        if item.help_text:
            data["extension"].append({"url": EXT + "help", "valueString": item.help_text})
        return data

    groups = []
    items = list(version.items.all())
    for dimension in version.dimensions.all():
        groups.append(
            {
                "linkId": dimension.code,
                "text": dimension.name,
                "type": "group",
                "extension": [
                    {"url": EXT + "scoring", "valueCode": dimension.scoring},
                    {"url": EXT + "minAnswered", "valueInteger": dimension.min_answered},
                ],
                "item": [item_json(i) for i in items if i.dimension_id == dimension.pk],
            }
        )
    loose = [item_json(i) for i in items if i.dimension_id is None]
    return {
        "resourceType": "Questionnaire",
        "name": instrument.code,
        "title": instrument.name,
        "version": str(version.number),
        "status": "active" if version.published else "draft",
        "description": instrument.description,
        "extension": [{"url": EXT + "purpose", "valueCode": instrument.purpose}],
        "item": groups + loose,
    }


def _ext(node: dict, name: str, default=None):
    for ext in node.get("extension", []):
        if ext.get("url") == EXT + name:
            return next((v for k, v in ext.items() if k.startswith("value")), default)
    return default


@transaction.atomic
def from_fhir(data: dict) -> InstrumentVersion:
    """Create the next version of an instrument (or the instrument) from Questionnaire JSON."""
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire" or not data.get("name"):
        raise ValidationError(_("This is not a Questionnaire with a name."))
    instrument, _created = Instrument.objects.get_or_create(
        code=data["name"],
        defaults={
            "name": data.get("title") or data["name"],
            "purpose": _ext(data, "purpose", Instrument.Purpose.PROFESSIONALS),
            "description": data.get("description", ""),
        },
    )
    number = (instrument.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = InstrumentVersion.objects.create(
        instrument=instrument, number=number, published=data.get("status", "active") == "active"
    )
    order = 0
    for node in data.get("item", []):
        dimension = None
        children = [node]
        if node.get("type") == "group":
            dimension = Dimension.objects.create(
                version=version,
                code=node["linkId"],
                name=node.get("text", node["linkId"]),
                order=order,
                scoring=_ext(node, "scoring", Dimension.Scoring.MEAN),
                min_answered=_ext(node, "minAnswered", 1),
            )
            children = node.get("item", [])
        for child in children:
            order += 1
            scale = _ext(child, "scale")
            if scale not in Scale.values:
                raise ValidationError(_("Item %(code)s has no known scale.") % {"code": child.get("linkId")})
            Item.objects.create(
                version=version,
                dimension=dimension,
                code=child["linkId"],
                text=child.get("text", child["linkId"])[:500],
                help_text=_ext(child, "help", "")[:500],
                scale=scale,
                reverse=bool(_ext(child, "reverse", False)),
                required=bool(child.get("required", False)),
                labels=[o["valueCoding"]["display"] for o in child.get("answerOption", [])],
                order=order,
            )
    return version
