"""Table-driven tests: each recognizer on positives (with the exact span) and near misses."""
from __future__ import annotations

import pytest

from appliance.privacy.recognizers import builtin_recognizers

REGISTRY = builtin_recognizers(("US", "GB"))
THRESHOLD = 0.5

# (recognizer name, text, the value it must find at >= 0.5, or None when nothing may be found)
CASES = [
    ("EMAIL", "write to maria.garcia+tag@mail.example.org today", "maria.garcia+tag@mail.example.org"),
    ("EMAIL", "ping j_o'neil@example.co.uk.", "j_o'neil@example.co.uk"),
    ("EMAIL", "see user@localhost or a..b@example.com", None),
    ("EMAIL", "pip install pkg@1.2", None),
    ("PHONE", "call (415) 555-2671 now", "(415) 555-2671"),
    ("PHONE", "tel +44 20 7946 0958.", "+44 20 7946 0958"),
    ("PHONE", "mobile 07911 123456", "07911 123456"),
    ("PHONE", "call 1-212-568-8484 soon", "1-212-568-8484"),
    ("PHONE", "Tel: +49 30 12345678", "+49 30 12345678"),
    ("PHONE", "fax 0044 20 7946 0958", "0044 20 7946 0958"),
    ("PHONE", "call 4155552671", "4155552671"),
    ("PHONE", "(212) 555-0143 was listed", "(212) 555-0143"),
    ("PHONE", "Order 4155552671 shipped", None),
    ("PHONE", "Part no. 415-555-2671 is out of stock", None),
    ("PHONE", "on 2024-03-15 at noon", None),
    ("PHONE", "version 10.4.2.1 needed", None),
    ("PHONE", "the number 4155552671", None),
    ("CREDIT_CARD", "card 4111 1111 1111 1111 on file", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "MC 2223-0031-2200-3222.", "2223-0031-2200-3222"),
    ("CREDIT_CARD", "amex 3714 496353 98431", "3714 496353 98431"),
    ("CREDIT_CARD", "diners 3056 930902 5904", "3056 930902 5904"),
    ("CREDIT_CARD", "jcb 3530111333300000", "3530111333300000"),
    ("CREDIT_CARD", "card 4111 1111 1111 1112", None),          # Luhn fails
    ("CREDIT_CARD", "card 4111 1111-1111 1111", None),          # mixed separators
    ("CREDIT_CARD", "ref 7111 1111 1111 1114", None),           # no issuer uses 7
    ("CREDIT_CARD", "Order 4111111111111111 shipped", None),    # negative context
    ("IBAN", "IBAN DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00"),
    ("IBAN", "pay GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("IBAN", "from DE89370400440532013000 to GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("IBAN", "pay GB82WEST12345698765433", None),               # mod-97 fails
    ("IBAN", "pay DE89 3704 0044 0532 0130", None),             # too short for DE
    ("IBAN", "pay XX89370400440532013000", None),               # unknown country
    ("US_SSN", "SSN 536-22-8126 on file", "536-22-8126"),
    ("US_SSN", "ssn: 536228126", "536228126"),
    ("US_SSN", "id 666-22-8126", None),
    ("US_SSN", "id 000-22-8126", None),
    ("US_SSN", "id 536-00-8126", None),
    ("US_SSN", "id 536-22-0000", None),
    ("US_SSN", "id 936-22-8126", None),
    ("US_SSN", "the number 536228126", None),                   # bare 9 digits need context
    ("US_ITIN", "ITIN 912-78-1234", "912-78-1234"),
    ("US_ITIN", "id 912-45-1234", None),
    ("US_PASSPORT", "passport number C03005988", "C03005988"),
    ("US_PASSPORT", "booking C03005988", None),
    ("US_DRIVER_LICENSE", "driver's license D1234567", "D1234567"),
    ("US_DRIVER_LICENSE", "product D1234567", None),
    ("US_BANK_NUMBER", "account number 000123456789", "000123456789"),
    ("US_BANK_NUMBER", "batch 000123456789", None),
    ("ABA_ROUTING", "routing number 071000152", "071000152"),
    ("ABA_ROUTING", "routing number 071000153", None),          # checksum fails
    ("ABA_ROUTING", "value 071000152", None),                   # needs context
    ("IP_ADDRESS", "from 203.0.113.45 port 22", "203.0.113.45"),
    ("IP_ADDRESS", "host 2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
    ("IP_ADDRESS", "at 256.1.1.1 or 1.2.3", None),
    ("IP_ADDRESS", "version 1.2.3.4 released", None),
    ("IP_ADDRESS", "time 12:30:45 and std::vector", None),
    ("MAC_ADDRESS", "mac 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"),
    ("MAC_ADDRESS", "nic 001a.2b3c.4d5e", "001a.2b3c.4d5e"),
    ("MAC_ADDRESS", "bad 00:1A-2B:3C:4D:5E", None),
    ("URL", "see https://example.org/a?b=1.", "https://example.org/a?b=1"),
    ("URL", "(www.example.com/x)", "www.example.com/x"),
    ("URL", "plain example.com", None),
    ("DATE", "DOB 03/15/1980.", "03/15/1980"),
    ("DATE", "on March 15, 2024 at", "March 15, 2024"),
    ("DATE", "born 15 March 1975", "15 March 1975"),
    ("DATE", "seen 2024-03-15T10:30", "2024-03-15T10:30"),
    ("DATE", "in May 2020", "May 2020"),
    ("DATE", "ratio 3/4 and bp 120/80", None),
    ("DATE", "in 2019 and 1.2.33", None),
    ("DATE", "you may 5 times", None),
    ("DATE", "on 13/31/2020", None),
    ("CRYPTO", "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
    ("CRYPTO", "btc bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    ("CRYPTO", "eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ("CRYPTO", "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", None),
    ("CRYPTO", "eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", None),
    ("US_NPI", "NPI 1234567893", "1234567893"),
    ("US_NPI", "NPI 1234567890", None),
    ("US_NPI", "value 1234567893", None),
    ("UK_NHS", "NHS number 943 476 5919", "943 476 5919"),
    ("UK_NHS", "NHS number 943 476 5918", None),
    ("MEDICAL_RECORD_NUMBER", "MRN: 00847261", "00847261"),
    ("MEDICAL_RECORD_NUMBER", "MRN 425-69583.", "425-69583"),
    ("MEDICAL_RECORD_NUMBER", "lot 00847261", None),
    ("US_DEA", "DEA AB1234563", "AB1234563"),
    ("US_DEA", "DEA AB1234564", None),
    ("HEALTH_PLAN_ID", "Medicare MBI 1EG4TE5MK73", "1EG4TE5MK73"),
    ("UK_NINO", "NI number AB 12 34 56 C", "AB 12 34 56 C"),
    ("UK_NINO", "NI number QQ 12 34 56 C", None),               # QQ is HMRC's example prefix
    ("UK_NINO", "code GB 12 34 56 C", None),
    ("ES_NIF", "DNI 12345678Z", "12345678Z"),
    ("ES_NIF", "DNI 12345678A", None),
    ("IN_PAN", "PAN ABCPE1234F", "ABCPE1234F"),
    ("IN_AADHAAR", "Aadhaar 2341 2341 2346", "2341 2341 2346"),
    ("IN_AADHAAR", "Aadhaar 2341 2341 2345", None),
    ("CA_SIN", "SIN 130 692 544", "130 692 544"),
    ("CA_SIN", "SIN 130 692 545", None),
    ("AGE_OVER_89", "a 94-year-old woman", "94-year-old"),
    ("AGE_OVER_89", "a 45-year-old woman", None),
    ("VIN", "VIN 1M8GDM9AXKP042788", "1M8GDM9AXKP042788"),
    ("ADDRESS", "lives at 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
     "1600 Pennsylvania Avenue NW, Washington, DC 20500"),
    ("ADDRESS", "to 221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
    ("ADDRESS", "P.O. Box 4521, Austin, TX 78701", "P.O. Box 4521, Austin, TX 78701"),
    ("ADDRESS", "Hauptstraße 12, 10115 Berlin", "Hauptstraße 12, 10115 Berlin"),
    ("ADDRESS", "10 rue de la Paix, 75002 Paris", "10 rue de la Paix, 75002 Paris"),
    ("ADDRESS", "in 2019 the team ran 5 miles", None),
]


@pytest.mark.parametrize("name,text,expected", CASES, ids=[f"{c[0]}:{c[1][:30]}" for c in CASES])
def test_recognizer(name, text, expected):
    found = [f for f in REGISTRY[name].find(text) if f.score >= THRESHOLD]
    values = [text[f.start:f.end] for f in found]
    if expected is None:
        assert values == []
    else:
        assert expected in values


def test_every_builtin_recognizer_has_positive_and_negative_cases():
    names = {r.name for r in REGISTRY}
    positives = {c[0] for c in CASES if c[2] is not None}
    assert names <= positives, f"untested: {sorted(names - positives)}"


def test_registry_rejects_duplicate_names():
    from appliance.privacy.recognizers import DuplicateRecognizerError
    from appliance.privacy.recognizers.contact import EmailRecognizer
    with pytest.raises(DuplicateRecognizerError):
        REGISTRY.add(EmailRecognizer())


def test_context_words_raise_and_negative_words_lower_scores():
    phone = REGISTRY["PHONE"]
    plain = next(phone.find("4155552671 is it")).score
    boosted = next(phone.find("phone 4155552671")).score
    assert boosted > plain
    card = REGISTRY["CREDIT_CARD"]
    neutral = next(card.find("here 4111111111111111")).score
    lowered = list(card.find("tracking 4111111111111111"))
    assert not lowered or lowered[0].score < neutral
