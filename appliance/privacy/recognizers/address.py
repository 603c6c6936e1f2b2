"""ADDRESS: street addresses (US/UK/Canadian style, German and French forms) and PO boxes."""
from __future__ import annotations

import re

from .base import PatternRecognizer

_NUM = r"\d{1,6}[A-Za-z]?(?:-\d{1,4})?"
_DIR = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?"
_WORD = r"(?:[A-Z][a-z'’]+|[A-Z]\.|\d{1,3}(?:st|nd|rd|th))"
_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place"
           r"|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent"
           r"|Close|Row|Alley|Plaza|Loop|Pike|Mews|Gardens|Grove|Walk|Broadway|Expressway)")
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Bldg|Building|#)\.?\s*#?[A-Za-z0-9-]{1,6})?"
_PLACE = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}"
_STATE_ZIP = r"(?:,?\s+(?:[A-Z]{2}|[A-Z][a-z]+(?: [A-Z][a-z]+)?)\.?\s+\d{5}(?:-\d{4})?|,?\s+[A-Z]{2}\b)"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_CA_POSTCODE = r"[A-Z]\d[A-Z]\s?\d[A-Z]\d"
_TAIL = (rf"(?:,\s*{_PLACE})?(?:{_STATE_ZIP}|,?\s+{_UK_POSTCODE}|,?\s+{_CA_POSTCODE})?"
         rf"(?:,\s*(?:USA|U\.S\.A\.|US|UK|United States|United Kingdom|Canada))?")

_STREET = (rf"{_NUM}\s+(?:{_DIR}\s+)?(?:{_WORD}\s+){{0,3}}{_WORD}\s+{_SUFFIX}\b\.?"
           rf"(?:\s+{_DIR}(?![a-z]))?{_UNIT}{_TAIL}")
_PO_BOX = rf"P\.?\s?O\.?\s+Box\s+\d{{1,6}}{_TAIL}"
_CITY_ZIP = rf"{_PLACE},\s+[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?"
# Street name with a German, Dutch or Nordic suffix, number, then an optional postcode and town.
_CONTINENTAL = (r"[A-ZÄÖÜÅØÆ][\wäöüßåøæé-]*(?:straße|strasse|str\.|weg|platz|gasse|allee|ring"
                r"|damm|gatan|gata|vägen|väg|gade|vej|veien|vegen|straat|laan|gracht|plein|kade)"
                r"\s+\d{1,4}[a-zA-Z]?(?:,\s*(?:\d{5}|\d{3}\s\d{2}|\d{4}(?:\s?[A-Z]{2})?)"
                r"\s+[A-ZÄÖÜÅØÆ][\wäöüßåøæ-]+)?")
_FRENCH = (r"\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|chemin|allée|quai"
           r"|impasse)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*[A-ZÉ][\w'-]+(?:\s[A-ZÉ][\w'-]+)*"
           r"(?:,\s*\d{5}\s+[A-Z][\w-]+)?")


class AddressRecognizer(PatternRecognizer):
    """Postal addresses: a numbered street with its suffix, optional unit, city, state, ZIP."""

    name = entity = "ADDRESS"
    score = 0.85
    required_chars = "0123456789"
    context = ("address", "lives", "living", "resides", "residing", "located", "mail", "ship")
    pattern = re.compile(
        rf"(?<![\w-])(?:(?P<street>{_STREET})|(?P<box>{_PO_BOX})|(?P<city>{_CITY_ZIP})"
        rf"|(?P<de>{_CONTINENTAL})|(?P<fr>{_FRENCH}))(?![\w])")

    def validate(self, match: re.Match) -> float | None:
        return 0.7 if match.lastgroup == "city" else self.score
