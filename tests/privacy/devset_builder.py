"""Builds tests/data/pii_dev.jsonl, the labelled development set (run: python -m tests.privacy.devset_builder).

Templates mark slots as {TYPE} or {TYPE#n} (the n-th value reused); {LAST#n} is the surname of
person n. Offsets are computed while filling, so every gold span is exact. Labelling rules
(docs/pii.md): PERSON excludes titles; ADDRESS is the whole postal address incl. city, state and
postcode when they follow; LOCATION is a named place outside an address; DATE is any date more
specific than a year; a bare year, an age under 90, order numbers and measurements are not PII.
"""
from __future__ import annotations

import json
import re
import sys

from .devset_handwritten import records as handwritten
from .devset_negatives import negatives
from .devset_templates import TEMPLATES
from .devset_values import Values

CRYPTO = ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
          "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"]
_SLOT = re.compile(r"\{([A-Z_]+)(?:#(\d))?\}")
TYPE_OF = {"LAST": "PERSON", "SSN_PLAIN": "US_SSN"}


def fill(template: str, v: Values) -> dict:
    text, entities, people, memo, pos = "", [], {}, {}, 0
    for m in _SLOT.finditer(template):
        text += template[pos:m.start()]
        slot, idx = m.group(1), m.group(2)
        key = (slot, idx)
        if slot == "LAST":
            if idx not in people:  # surname used before the full name: pick the person now
                memo[("PERSON", idx)] = _value("PERSON", v, people, idx)
            value = people[idx][1]
        elif idx is not None and key in memo:
            value = memo[key]
        else:
            value = _value(slot, v, people, idx)
            if idx is not None:
                memo[key] = value
        entities.append({"type": TYPE_OF.get(slot, slot), "start": len(text), "end": len(text) + len(value)})
        text += value
        pos = m.end()
    text += template[pos:]
    return {"text": text, "entities": entities}


def _value(slot: str, v: Values, people: dict, idx: str | None) -> str:
    if slot == "PERSON":
        full, last = v.person()
        people[idx] = (full, last)
        return full
    simple = {"LOCATION": v.location, "ORGANIZATION": v.organization, "EMAIL": v.email,
              "PHONE": v.phone, "CREDIT_CARD": v.credit_card, "IBAN": v.iban, "US_SSN": v.ssn,
              "IP_ADDRESS": v.ip, "DATE": v.date, "ADDRESS": v.address, "URL": v.url,
              "MEDICAL_RECORD_NUMBER": v.mrn, "US_NPI": v.npi, "UK_NHS": v.nhs,
              "ABA_ROUTING": v.aba, "MAC_ADDRESS": v.mac}
    if slot in simple:
        return simple[slot]()
    if slot == "SSN_PLAIN":
        return v.ssn(formatted=False)
    if slot == "US_BANK_NUMBER":
        return v.digits(v.r.randint(9, 12))
    if slot == "CRYPTO":
        return v.pick(CRYPTO)
    if slot == "US_PASSPORT":
        return v.pick([v.digits(9), "C" + v.digits(8)])
    if slot == "US_DRIVER_LICENSE":
        return v.pick(["D" + v.digits(7), "S" + v.digits(12), v.digits(9), "F" + v.digits(12)])
    if slot == "US_ITIN":
        return f"9{v.digits(2)}-{v.pick(['70', '78', '88', '92', '95'])}-{v.digits(4)}"
    raise KeyError(slot)


def build(copies: int = 5, seed: int = 4) -> list[dict]:
    v = Values(seed)
    records = [fill(t, v) for t in TEMPLATES for _ in range(copies)]
    records += [{"text": t, "entities": []} for t in negatives(v)]
    records += handwritten()
    v.r.shuffle(records)
    return records


def main(out: str = "tests/data/pii_dev.jsonl") -> None:
    records = build()
    with open(out, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    neg = sum(1 for r in records if not r["entities"])
    print(f"wrote {len(records)} records ({neg} negatives) to {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
