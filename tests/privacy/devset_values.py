"""Value generators for the PII development set: realistic, valid identifiers and names."""
from __future__ import annotations

import random

FIRST = ["Maria", "John", "Wei", "Aisha", "Olusegun", "Priya", "Jean-Luc", "Sven", "Fatima",
         "Hiroshi", "Emily", "Robert", "Carlos", "Anna", "Dmitri", "Sarah", "Michael", "Linda",
         "Rahul", "Sophie", "Lars", "Grace", "David", "Isabella", "Kwame", "Yuki", "Thomas",
         "Ahmed", "Laura", "James", "Elena", "Omar", "Chloe", "Benjamin", "Hannah", "Diego",
         "Patrick", "Zainab", "Margaret", "Kevin", "Ana", "Luis", "Ingrid", "Tomasz", "Nadia"]
LAST = ["Garcia", "Smith", "Zhang", "Mohammed", "Adeyemi", "Patel", "Moreau", "Lindqvist",
        "Al-Sayed", "Tanaka", "Chen", "O'Neill", "Mendoza", "Kowalski", "Volkov", "Johnson",
        "Brown", "Okafor", "Sharma", "Dubois", "Eriksen", "Kim", "Cohen", "Rossi", "Mensah",
        "Sato", "Müller", "Hassan", "Martínez", "Wilson", "Petrova", "Farouk", "Martin", "Lee",
        "Schmidt", "Alvarez", "Murphy", "Bello", "Thompson", "Nguyen", "Fernandes", "Novak",
        "Jensen", "Kaminski", "Haddad"]
CITIES = ["Boston", "Chicago", "London", "Manchester", "Berlin", "Lagos", "Toronto", "Mumbai",
          "Seattle", "Denver", "Dublin", "Madrid", "Sydney", "Nairobi", "Phoenix", "Atlanta",
          "Cape Town", "Singapore", "Zurich", "Houston", "Philadelphia", "Glasgow", "Munich",
          "Paris", "Amsterdam", "Miami", "San Diego", "Portland", "Leeds", "Frankfurt"]
REGIONS = ["Texas", "California", "Ohio", "Germany", "France", "Kenya", "Japan", "Scotland",
           "Bavaria", "Ontario", "Florida", "Spain", "Ireland", "Nigeria", "India", "Brazil",
           "Oregon", "Michigan", "Italy", "Canada"]
ORGS = ["Massachusetts General Hospital", "Mayo Clinic", "Kaiser Permanente", "Bank of America",
        "JPMorgan Chase", "Wells Fargo", "Deutsche Bank", "Barclays", "HSBC", "Goldman Sachs",
        "Pfizer", "Cleveland Clinic", "Blue Cross Blue Shield", "Aetna", "UnitedHealthcare",
        "Microsoft", "Northwind Traders", "Royal Free Hospital", "Stanford University",
        "Citibank", "Santander", "Fidelity Investments", "Quest Diagnostics", "LabCorp",
        "Walgreens", "Johns Hopkins Hospital", "Mount Sinai Hospital", "Lloyds Bank",
        "Siemens", "Amazon", "Charité", "Credit Suisse", "Humana", "Medtronic", "Accenture"]
STREETS = ["Maple", "Oak", "Elm", "Washington", "Lincoln", "Park", "Cedar", "Highland", "Sunset",
           "Church", "Mill", "Lake", "Hillcrest", "Jefferson", "Riverside", "Franklin", "Main"]
SUFFIXES = ["Street", "St.", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Lane", "Drive", "Court",
            "Way", "Place", "Terrace"]
US_PLACES = [("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Columbus", "OH", "432"),
             ("Denver", "CO", "802"), ("Portland", "OR", "972"), ("Albany", "NY", "122"),
             ("Madison", "WI", "537"), ("Raleigh", "NC", "276"), ("Tucson", "AZ", "857"),
             ("Boston", "MA", "021"), ("Richmond", "VA", "232"), ("Omaha", "NE", "681")]
UK_PLACES = [("London", "NW1 6XE"), ("Manchester", "M1 4BT"), ("Leeds", "LS1 3EX"),
             ("Bristol", "BS1 5TR"), ("Glasgow", "G2 1DY"), ("Cardiff", "CF10 1EP")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
AREA = ["212", "415", "617", "312", "713", "206", "303", "404", "305", "202", "646", "510", "773"]
DOMAINS = ["example.com", "mail.example.org", "gmail.com", "outlook.com", "hospital.org",
           "corp.example.net", "yahoo.co.uk", "bank.example.de", "protonmail.com"]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


class Values:
    """One seeded source of slot values; each method returns the surface text."""

    def __init__(self, seed: int = 4) -> None:
        self.r = random.Random(seed)

    def pick(self, seq):
        return self.r.choice(seq)

    def digits(self, n: int) -> str:
        return "".join(self.r.choice("0123456789") for _ in range(n))

    def person(self) -> tuple[str, str]:
        first, last = self.pick(FIRST), self.pick(LAST)
        return f"{first} {last}", last

    def location(self) -> str:
        return self.pick(CITIES if self.r.random() < 0.65 else REGIONS)

    def organization(self) -> str:
        return self.pick(ORGS)

    def email(self) -> str:
        first, last = self.pick(FIRST).lower().replace("-", ""), self.pick(LAST).lower()
        last = last.replace("'", "").replace("ü", "u").replace("í", "i")
        local = self.pick([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{self.r.randint(1, 99)}",
                           f"{last}.{first}+billing", f"{first}{self.r.randint(1960, 2005)}"])
        return f"{local}@{self.pick(DOMAINS)}"

    def phone(self) -> str:
        a, e, line = self.pick(AREA), str(self.r.randint(201, 989)), self.digits(4)
        kind = self.r.random()
        if kind < 0.55:
            return self.pick([f"({a}) {e}-{line}", f"{a}-{e}-{line}", f"{a}.{e}.{line}",
                              f"+1 {a} {e} {line}", f"+1-{a}-{e}-{line}", f"1-{a}-{e}-{line}"])
        if kind < 0.62:
            return f"({a}) 555-01{self.digits(2)}"  # the fictional range used in examples
        return self.pick([f"+44 20 7946 {self.digits(4)}", f"020 7946 {self.digits(4)}",
                          f"07911 {self.digits(6)}", f"+44 7911 {self.digits(6)}",
                          f"+49 30 {self.digits(8)}", f"+49 89 {self.digits(7)}",
                          f"+33 1 42 68 {self.digits(2)} {self.digits(2)}",
                          f"+91 98765 {self.digits(5)}", f"+61 2 9374 {self.digits(4)}",
                          f"+353 1 {self.digits(3)} {self.digits(4)}"])

    def credit_card(self) -> str:
        kind = self.pick(["visa", "visa", "mc", "mc2", "amex", "discover", "jcb", "diners"])
        if kind == "amex":
            n = _luhn_complete(self.pick(["34", "37"]), 15, self.r)
            return self.pick([f"{n[:4]} {n[4:10]} {n[10:]}", f"{n[:4]}-{n[4:10]}-{n[10:]}", n])
        if kind == "diners":
            n = _luhn_complete("36", 14, self.r)
            return f"{n[:4]} {n[4:10]} {n[10:]}"
        prefix = {"visa": "4", "mc": self.pick(["51", "53", "55"]), "mc2": self.pick(["2221", "2720", "2300"]),
                  "discover": "6011", "jcb": "3530"}[kind]
        n = _luhn_complete(prefix, 16, self.r)
        sep = self.pick([" ", "-", ""])
        return sep.join(n[i:i + 4] for i in range(0, 16, 4))

    def iban(self) -> str:
        country, bban = self.pick([
            ("DE", lambda: self.digits(18)), ("GB", lambda: "NWBK" + self.digits(14)),
            ("FR", lambda: self.digits(10) + "0" + self.digits(10) + self.digits(2)),
            ("ES", lambda: self.digits(20)), ("NL", lambda: "ABNA" + self.digits(10)),
            ("IT", lambda: "X" + self.digits(10) + self.digits(12)), ("CH", lambda: self.digits(17)),
            ("BE", lambda: self.digits(12)), ("IE", lambda: "AIBK" + self.digits(14))])
        bban = bban()
        num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
        iban = f"{country}{98 - num % 97:02d}{bban}"
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if self.r.random() < 0.6 else iban

    def ssn(self, formatted: bool = True) -> str:
        area = self.r.choice([n for n in range(1, 900) if n != 666])
        d = f"{area:03d}{self.r.randint(1, 99):02d}{self.r.randint(1, 9999):04d}"
        return f"{d[:3]}-{d[3:5]}-{d[5:]}" if formatted else d

    def ip(self) -> str:
        if self.r.random() < 0.25:
            return self.pick(["2001:db8:85a3::8a2e:370:7334", f"2001:db8:{self.r.randint(1, 9999):x}::1",
                              "fe80::1ff:fe23:4567:890a", f"2607:f8b0:4005:80{self.r.randint(0, 9)}::200e"])
        return ".".join(str(self.r.randint(1, 254)) for _ in range(4))

    def date(self) -> str:
        y, m, d = self.r.randint(1940, 2025), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.pick([f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{y}-{m:02d}-{d:02d}",
                          f"{MONTHS[m - 1]} {d}, {y}", f"{d} {MONTHS[m - 1]} {y}",
                          f"{MONTHS[m - 1][:3]} {d}, {y}", f"{d:02d}.{m:02d}.{y}",
                          f"{MONTHS[m - 1]} {d}", f"{d}th of {MONTHS[m - 1]}"])

    def address(self) -> str:
        num = self.r.randint(1, 9800)
        street = f"{num} {self.pick(STREETS)} {self.pick(SUFFIXES)}"
        kind = self.r.random()
        if kind < 0.55:
            city, st, zp = self.pick(US_PLACES)
            apt = self.pick(["", "", f", Apt {self.r.randint(1, 40)}{self.pick('ABCD')}", f", Suite {self.r.randint(100, 900)}"])
            return f"{street}{apt}, {city}, {st} {zp}{self.digits(2)}"
        if kind < 0.75:
            city, pc = self.pick(UK_PLACES)
            return f"{street}, {city} {pc}"
        if kind < 0.85:
            return f"P.O. Box {self.r.randint(10, 9999)}, {self.pick(US_PLACES)[0]}, TX 787{self.digits(2)}"
        return street

    def url(self) -> str:
        return self.pick([f"https://portal.example-health.org/patients/{self.digits(6)}",
                          f"https://www.example.com/account?id={self.digits(8)}",
                          f"http://intranet.corp.example.net/hr/staff/{self.digits(5)}",
                          f"www.example.org/profile/{self.pick(LAST).lower()}"])

    def mrn(self) -> str:
        return self.pick([self.digits(8), "MRN" + self.digits(7), f"{self.digits(3)}-{self.digits(5)}",
                          "H" + self.digits(9)])

    def npi(self) -> str:
        while True:
            n = _luhn_complete("80840" + self.pick("12"), 15, self.r)
            return n[5:]

    def nhs(self) -> str:
        while True:
            d = self.digits(9)
            check = 11 - sum(int(c) * w for c, w in zip(d, range(10, 1, -1))) % 11
            check = 0 if check == 11 else check
            if check != 10:
                n = d + str(check)
                return f"{n[:3]} {n[3:6]} {n[6:]}" if self.r.random() < 0.7 else n

    def aba(self) -> str:
        while True:
            d = self.pick(["01", "02", "03", "04", "05", "06", "07", "08", "09", "11", "12", "21",
                           "22", "26", "31", "32"]) + self.digits(6)
            for last in "0123456789":
                n = d + last
                w = [int(c) for c in n]
                if (3 * (w[0] + w[3] + w[6]) + 7 * (w[1] + w[4] + w[7]) + w[2] + w[5] + w[8]) % 10 == 0:
                    return n

    def mac(self) -> str:
        parts = [f"{self.r.randint(0, 255):02x}" for _ in range(6)]
        return self.pick([":".join(parts), "-".join(parts).upper()])
