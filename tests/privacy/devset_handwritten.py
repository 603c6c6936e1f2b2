"""Hand-written development records, annotated inline as [surface text](TYPE).

Written independently of the templates to vary wording, formats and layouts; negatives here are
near misses (numbers shaped like identifiers, capitalised non-names).
"""
from __future__ import annotations

import re

ANNOTATED = [
    "My name is [Sakura Yamamoto](PERSON) and I live at [1418 Riverside Drive, Apt 2, Austin, TX 78704](ADDRESS).",
    "hi, this is [Tom Becker](PERSON) - my new cell is [+1 (347) 555-0199](PHONE), the old one is disconnected",
    "Please contact [Dr. Rebecca Owens](PERSON) at [rowens@stlukes-health.org](EMAIL) regarding the biopsy.",
    "Pt [Jorge Ramírez](PERSON), [72](NONE) y/o M, admitted [4/2/2023](DATE) via ED with CAP.",
    "CC#: [5425 2334 3010 9903](CREDIT_CARD) exp 04/27",
    "Your IBAN [GB33 BUKB 2020 1555 5555 55](IBAN) has been verified.",
    "SSN [078-05-1121](US_SSN) on the W-2 does not match our records.",
    "The wire to [DE44 5001 0517 5407 3249 31](IBAN) was returned by the receiving bank.",
    "[Fiona MacLeod](PERSON) from [Inverness](LOCATION) called about her mortgage.",
    "Our [Lisbon](LOCATION) office will open in spring; [Ricardo Almeida](PERSON) will lead it.",
    "Log: 2023-11-02T08:14:55Z sshd accepted publickey for deploy from [203.0.113.45](IP_ADDRESS) port 52144",
    "Contact: [Anika Sørensen](PERSON), tel [+45 32 12 34 56](PHONE), [anika.sorensen@example.dk](EMAIL)",
    "Upload failed for [priya.n@example.in](EMAIL) at 10:42; retry scheduled.",
    "[Mohammed Al-Rashid](PERSON) was referred to [Cleveland Clinic Abu Dhabi](ORGANIZATION) for cardiac surgery.",
    "DOB: [12-03-1958](DATE) | MRN: [00847261](MEDICAL_RECORD_NUMBER) | Attending: [Dr. Lee](PERSON)",
    "Transfer approved: [Northern Trust](ORGANIZATION) account [000123456789](US_BANK_NUMBER), routing [071000152](ABA_ROUTING).",
    "The customer, [Mrs. Beatrice Fontaine](PERSON), disputes the charge from [2 March 2024](DATE).",
    "We shipped it to [77 Mass Ave, Cambridge, MA 02139](ADDRESS) last week.",
    "Call [020 7183 8750](PHONE) between 9 and 5, Monday to Friday.",
    "Server [2001:db8:3333:4444:5555:6666:7777:8888](IP_ADDRESS) is unreachable.",
    "[Kenji Watanabe](PERSON) ([kenji.w@example.jp](EMAIL)) joined the [Osaka](LOCATION) team in [April 2021](DATE).",
    "Amex [3714 496353 98431](CREDIT_CARD) was charged twice.",
    "Visa ending 1111; full number [4111-1111-1111-1111](CREDIT_CARD) appears in the old ticket.",
    "Payment from [Santander UK](ORGANIZATION), IBAN [GB29NWBK60161331926819](IBAN), reference ACME-4471.",
    "[Olga Ivanova](PERSON) will travel from [Riga](LOCATION) to [Vienna](LOCATION) on [October 14](DATE).",
    "Home phone: [(617) 726-2000](PHONE); work: [617.253.1000](PHONE).",
    "Admitted to [Brigham and Women's Hospital](ORGANIZATION) on [Jan. 9, 2022](DATE).",
    "Ticket from [jsmith@corp.example.com](EMAIL): VPN drops every hour since the update.",
    "Please remit to [PO Box 9921, Hartford, CT 06101](ADDRESS).",
    "[Amara Okonkwo](PERSON) and [Chidi Eze](PERSON) co-signed the lease in [Abuja](LOCATION).",
    "Emergency contact [Luca Bianchi](PERSON) [+39 06 6982 1234](PHONE).",
    "Your verification code was sent to [+44 7700 900077](PHONE).",
    "Patient states she moved from [Guadalajara](LOCATION) to [Phoenix](LOCATION) in 2015.",
    "[Goldman Sachs](ORGANIZATION) analyst [Ethan Brooks](PERSON) downgraded the stock.",
    "Device [00:1A:2B:3C:4D:5E](MAC_ADDRESS) joined the guest network.",
    "The clinic at [4500 San Pablo Ave, Emeryville, CA 94608](ADDRESS) closes early on Fridays.",
    "Reply to [support-team@helpdesk.example.org](EMAIL) with the error code E4021.",
    "[Hans Zimmermann](PERSON), [Siemens Healthineers](ORGANIZATION), [Erlangen](LOCATION).",
    "Social security no. [219-09-9998](US_SSN) was entered twice.",
    "[Rosa Delgado](PERSON) has an appointment on [Thursday, June 6, 2024](DATE) at 3 pm.",
    "Card number [6011 0009 9013 9424](CREDIT_CARD), CVV 123, holder [Daniel Ortiz](PERSON).",
    "Please use [FR76 3000 6000 0112 3456 7890 189](IBAN) for the deposit.",
    "Alerts for [198.51.100.23](IP_ADDRESS) and [192.0.2.200](IP_ADDRESS) were suppressed.",
    "[Chen Jing](PERSON) emailed from [chen.jing@example.cn](EMAIL) at 14:02.",
    "[Dr. Aaron Feld](PERSON), [Mount Sinai](ORGANIZATION), [New York](LOCATION), pager [212-241-6500](PHONE)",
    "Deceased [11/30/2020](DATE); autopsy requested by the family.",
    "Beneficiary: [Ingrid Svensson](PERSON), [Storgatan 12, 114 55 Stockholm](ADDRESS).",
    "Ring me on [07700 900461](PHONE) if the courier is late.",
    "I banked with [Wells Fargo](ORGANIZATION) until I moved to [Vancouver](LOCATION).",
    "Mastercard [2223 0031 2200 3222](CREDIT_CARD) was added to the wallet.",
]

NEAR_MISSES = [
    "The part number 4111-2233-4455 is printed on the box.",
    "Invoice INV-2024-00981 totals $4,310.00.",
    "Set the timeout to 86400 seconds.",
    "Version 2.14.0 introduced the new parser.",
    "Room 1202, extension 4471.",
    "ISBN 978-0-306-40615-7 is the second edition.",
    "The rack holds 42 units; we use 38 of them.",
    "Stock code 300750 rose 4% today.",
    "Call volume peaked at 1,532 calls on the first day.",
    "Run it with -j 4 and --max-old-space-size=4096.",
    "The lot was 250 ft by 120 ft.",
    "He scored 98 points in 12 games.",
    "Flight 1234 departs from gate 17.",
    "The docs are in the wiki under Onboarding.",
    "Temperature set to 21.5 degrees during office hours.",
    "Answer: 3.14159 rounded to five places.",
    "Use the Pomodoro technique: 25 minutes on, 5 off.",
    "Route 66 is closed between exits 12 and 14.",
    "The ratio 16:9 is standard for screens.",
    "Account settings can be changed in the profile menu.",
]


def parse(annotated: str) -> dict:
    """'[text](TYPE)' marks a gold span; TYPE NONE marks text that is explicitly not PII."""
    text, entities, pos = "", [], 0
    for m in re.finditer(r"\[([^\]]+)\]\(([A-Z_]+)\)", annotated):
        text += annotated[pos:m.start()]
        surface, etype = m.group(1), m.group(2)
        start = len(text)
        if etype == "PERSON":  # titles are not part of a PERSON span
            title = re.match(r"(?:Dr|Mr|Mrs|Ms)\.\s+", surface)
            start += title.end() if title else 0
        text += surface
        if etype != "NONE":
            entities.append({"type": etype, "start": start, "end": len(text)})
        pos = m.end()
    return {"text": text + annotated[pos:], "entities": entities}


def records() -> list[dict]:
    return [parse(a) for a in ANNOTATED] + [{"text": t, "entities": []} for t in NEAR_MISSES]
