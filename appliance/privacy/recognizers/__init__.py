"""Recognizers: each finds one kind of personal data; RecognizerRegistry lists them by name.

Adding a recognizer is one small class (usually a PatternRecognizer with a regex, a validate()
and context words) plus a line in ``builtin_recognizers`` and a table of tests.
"""
from __future__ import annotations

from .address import AddressRecognizer
from .base import PatternRecognizer, Recognizer
from .contact import (EmailRecognizer, IpAddressRecognizer, MacAddressRecognizer,
                      PhoneRecognizer, UrlRecognizer)
from .dates import DateRecognizer
from .financial import (AbaRoutingRecognizer, CreditCardRecognizer, CryptoRecognizer,
                        IbanRecognizer, UsBankNumberRecognizer)
from .medical import (AgeOver89Recognizer, HealthPlanIdRecognizer, MedicalRecordNumberRecognizer,
                      UkNhsRecognizer, UsDeaRecognizer, UsNpiRecognizer)
from .national import (CaSinRecognizer, EsNifRecognizer, InAadhaarRecognizer, InPanRecognizer,
                       UkNinoRecognizer, UsDriverLicenseRecognizer, UsItinRecognizer,
                       UsPassportRecognizer, UsSsnRecognizer)
from .ner import NER_TYPES, EntityTagger, NerRecognizer
from .registry import DuplicateRecognizerError, RecognizerRegistry
from .vehicle import VinRecognizer

_BUILTIN_CLASSES = (
    EmailRecognizer, UrlRecognizer, IpAddressRecognizer, MacAddressRecognizer,
    CreditCardRecognizer, IbanRecognizer, AbaRoutingRecognizer, UsBankNumberRecognizer,
    CryptoRecognizer, UsSsnRecognizer, UsItinRecognizer, UsPassportRecognizer,
    UsDriverLicenseRecognizer, UkNinoRecognizer, EsNifRecognizer, InPanRecognizer,
    InAadhaarRecognizer, CaSinRecognizer, UsNpiRecognizer, UkNhsRecognizer,
    MedicalRecordNumberRecognizer, UsDeaRecognizer, HealthPlanIdRecognizer, AgeOver89Recognizer,
    DateRecognizer, AddressRecognizer, VinRecognizer,
)


def builtin_recognizers(phone_regions: tuple[str, ...] = ("US", "GB")) -> RecognizerRegistry:
    """A fresh registry of every rule-based recognizer (NER is added by the Redactor)."""
    registry = RecognizerRegistry(cls() for cls in _BUILTIN_CLASSES)
    registry.add(PhoneRecognizer(phone_regions))
    return registry


def reset_caches() -> None:
    """Empty memoised validation results (benchmarks call this so repeats are not flattered)."""
    from .contact import _check_number
    _check_number.cache_clear()


BUILTIN_TYPES = frozenset(c.entity for c in _BUILTIN_CLASSES) | {"PHONE"} | set(NER_TYPES)

__all__ = ["BUILTIN_TYPES", "NER_TYPES", "DuplicateRecognizerError", "EntityTagger",
           "NerRecognizer", "PatternRecognizer", "Recognizer", "RecognizerRegistry",
           "builtin_recognizers", "reset_caches"]
