#!/usr/bin/env python3
"""Regenerate the binary sample documents in this folder.

Writes:
  hr-leave-policy.pdf                 (reportlab; one section per page)
  incident-response-procedure.docx    (python-docx; real Heading 1/2 styles)

All content is fictional and defined in this file. The Markdown and HTML
samples are plain text files and are edited directly.

Usage (needs reportlab and python-docx, e.g. in a throwaway venv):
    python3 -m venv /tmp/samplesvenv
    /tmp/samplesvenv/bin/pip install reportlab python-docx
    /tmp/samplesvenv/bin/python samples/make_samples.py
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

HERE = Path(__file__).resolve().parent / "handbook"
PDF_PATH = HERE / "hr-leave-policy.pdf"
DOCX_PATH = HERE / "incident-response-procedure.docx"

# Fixed timestamp so regenerated files are as reproducible as the libraries allow.
FIXED_DATE = _dt.datetime(2024, 1, 15, 9, 0, 0)

# ---------------------------------------------------------------------------
# HR leave policy (PDF). Each entry is one page: (section heading, paragraphs).
# Page 1 = annual leave, page 2 = sick leave, page 3 = parental leave,
# page 4 = on-call compensation, page 5 = training budget.
# ---------------------------------------------------------------------------

PDF_TITLE = "Northbridge General Hospital - Human Resources Leave Policy"

HR_PAGES: list[tuple[str, list[str]]] = [
    (
        "1. Annual Leave",
        [
            "This Human Resources Leave Policy sets out the leave and related "
            "entitlements of employees of Northbridge General Hospital. It applies "
            "to all directly employed staff; bank staff, agency workers and "
            "contractors are covered by their own terms. This policy is fictional "
            "sample material.",
            "Full-time staff receive 27 days of annual leave each year, in addition "
            "to public holidays. Part-time staff receive the same entitlement "
            "calculated pro rata to their contracted hours. After seven years of "
            "continuous service with the hospital, the annual leave entitlement "
            "rises to 32 days. The leave year runs from the beginning of April to "
            "the end of March the following year.",
            "Annual leave must be requested through the RosterPoint system and "
            "approved by your line manager before any travel or other arrangements "
            "are made. Managers balance leave requests against safe staffing levels "
            "on each ward, so requests for popular periods such as school holidays "
            "are considered in the order they are received.",
            "Staff are expected to take their full entitlement within the leave "
            "year, because rest is essential to safe patient care. Where this is "
            "not possible, up to 37.5 hours of unused annual leave may be carried "
            "over into the next leave year with the written agreement of the line "
            "manager. Leave that is not taken and not carried over is lost, except "
            "where it could not be taken because of sickness or parental leave.",
        ],
    ),
    (
        "2. Sick Leave",
        [
            "If you are too unwell to work, you must telephone your line manager or "
            "the duty manager at least 60 minutes before the start of your shift. "
            "A text message or email is not sufficient, because the ward needs to "
            "arrange cover quickly. Tell your manager the nature of your illness "
            "and when you expect to return.",
            "For short absences you may self-certify for up to 3 calendar days by "
            "completing a self-certification form on your return. If your absence "
            "lasts longer than that, you must obtain a fit note from your doctor "
            "and send it to your manager promptly.",
            "Occupational sick pay depends on length of service. Employees with "
            "more than one year of service receive full pay for up to 13 weeks of "
            "sickness absence, followed by half pay for up to a further 26 weeks. "
            "Employees in their first year of service receive statutory sick pay "
            "only.",
            "Every absence is followed by a short return-to-work conversation with "
            "your manager on your first shift back. Where absence is frequent or "
            "long-term, the manager will refer you to the Occupational Health "
            "Service, whose role is to support you back to work safely, not to "
            "judge whether you were really ill.",
        ],
    ),
    (
        "3. Parental Leave",
        [
            "Northbridge General Hospital supports employees who are becoming "
            "parents, whether through birth, adoption or surrogacy.",
            "Employees who give birth or adopt are entitled to up to 52 weeks of "
            "maternity or adoption leave. Employees with at least one year of "
            "service receive the first 16 weeks of that leave on full pay, followed "
            "by statutory pay for the remainder of the paid period. Antenatal "
            "appointments are paid time off and do not need to be made up.",
            "Partners, including the partner of an adopting parent and the "
            "intended parents in a surrogacy arrangement, are entitled to 4 weeks "
            "of partner leave on full pay, which may be taken in one block or in "
            "two separate blocks within the first year after the birth or "
            "placement.",
            "Eligible parents may also choose to convert part of the maternity or "
            "adoption leave into shared parental leave, so that both parents can "
            "spend time at home. While on leave, employees may agree keeping-in-"
            "touch days with their manager to attend training or team meetings; "
            "these days are paid at the normal rate and do not end the leave.",
            "On returning from parental leave, employees may request flexible "
            "working, such as reduced hours or compressed shifts. Every request is "
            "considered seriously and a decision is given in writing.",
        ],
    ),
    (
        "4. On-Call Compensation",
        [
            "Some roles require staff to be available outside their normal hours "
            "to respond to emergencies, for example in theatres, radiology, "
            "pharmacy and IT. Being on call means being contactable by phone and "
            "able to return to the hospital within the agreed response time.",
            "Staff receive an on-call availability payment of GBP 38 for each "
            "weekday night they are on call, and GBP 62 for each weekend day or "
            "public holiday. These payments are made whether or not the member of "
            "staff is actually called.",
            "Time spent working after being called out, including work done "
            "remotely, is paid at time and a half, calculated from the time the "
            "call is received until the work is completed. Travel time to and from "
            "the hospital counts as working time.",
            "To protect patients and staff from the effects of fatigue, anyone who "
            "is called out during the night must have a rest period of at least "
            "11 hours before starting their next rostered shift. If this means "
            "starting later, the missed time is paid and does not have to be made "
            "up.",
        ],
    ),
    (
        "5. Training Budget",
        [
            "The hospital invests in the development of its people. Every employee "
            "has an individual training budget of GBP 1,250 per year, which can be "
            "used for courses, conferences, e-learning and professional exam fees "
            "that relate to their current role or agreed career development.",
            "In addition to the budget, staff may take up to nine days of paid "
            "study leave per year to attend approved training or to sit "
            "examinations. Study leave and training spend are requested through "
            "the Learning Hub and approved by the line manager.",
            "Where the hospital funds a single course costing more than GBP 2,000, "
            "the employee is asked to sign a learning agreement. If they leave the "
            "hospital voluntarily within 24 months of completing the course, a "
            "proportion of the cost must be repaid, reducing in equal monthly "
            "steps over that period.",
            "Mandatory training, such as fire safety, information governance and "
            "basic life support, is provided free of charge, is completed in paid "
            "time and does not reduce the individual training budget.",
        ],
    ),
]

# ---------------------------------------------------------------------------
# Incident response procedure (DOCX). Blocks: ("title"|"h1"|"h2"|"p", text)
# or ("table", rows).
# ---------------------------------------------------------------------------

DOCX_TITLE = "Northbridge General Hospital - Information Security Incident Response Procedure"

DOCX_BLOCKS: list[tuple[str, object]] = [
    ("title", DOCX_TITLE),
    (
        "p",
        "Document owner: Chief Information Security Officer. This procedure applies "
        "to all staff and to the IT and clinical engineering teams who respond to "
        "security incidents. This procedure is fictional sample material.",
    ),
    ("h1", "1. Purpose and Scope"),
    (
        "p",
        "This procedure describes how Northbridge General Hospital detects, reports, "
        "contains and learns from information security incidents. A security "
        "incident is any event that threatens the confidentiality, integrity or "
        "availability of hospital information or systems, from a single phishing "
        "email to a ransomware attack that takes clinical systems offline. The aim "
        "is to protect patients first, restore services quickly and preserve the "
        "evidence needed to understand what happened.",
    ),
    ("h1", "2. Reporting an Incident"),
    (
        "p",
        "Any member of staff who suspects a security incident must report it "
        "immediately. The security hotline is extension 4455 and is answered "
        "around the clock, every day of the year, by the on-call security analyst. "
        "Callers should give their name, location, the system affected and what "
        "they have observed. Do not wait until you are certain that something is "
        "wrong: a false alarm costs a few minutes, while a late report can cost "
        "days of disruption.",
    ),
    (
        "p",
        "The on-call analyst records every report in the incident register, assigns "
        "an initial severity level and, for serious incidents, appoints an Incident "
        "Commander who leads the response until the incident is closed.",
    ),
    ("h1", "3. Severity Levels"),
    (
        "p",
        "Incidents are classified into four severity levels. The classification "
        "can be raised or lowered as more is learned, and when in doubt the higher "
        "level is chosen.",
    ),
    ("h2", "Severity 1 - Critical"),
    (
        "p",
        "An incident that directly affects patient safety or stops critical "
        "clinical services, such as ransomware on the electronic patient record, an "
        "outage of the laboratory system, or a confirmed large-scale theft of "
        "patient data.",
    ),
    ("h2", "Severity 2 - High"),
    (
        "p",
        "An incident that affects an important system or a significant amount of "
        "personal data but has not yet disrupted patient care, such as a "
        "compromised administrator account or malware spreading on office "
        "computers.",
    ),
    ("h2", "Severity 3 - Medium"),
    (
        "p",
        "A contained incident affecting a single user or device, such as a "
        "successful phishing attempt on one mailbox that was quickly reset.",
    ),
    ("h2", "Severity 4 - Low"),
    (
        "p",
        "A minor event with no evidence of compromise, such as a blocked malware "
        "download or a policy breach with no data exposure.",
    ),
    ("h1", "4. Escalation Timescales"),
    (
        "p",
        "Escalation ensures that the right decision-makers know about an incident "
        "while there is still time to act. The on-call analyst is responsible for "
        "escalating within the following timescales, measured from the moment the "
        "incident is classified.",
    ),
    (
        "table",
        [
            ["Severity", "Escalate to", "Timescale"],
            ["Severity 1", "Chief Information Security Officer (CISO)", "Within 15 minutes"],
            ["Severity 1", "Chief Executive", "Within 2 hours"],
            ["Severity 2", "Information Security Manager", "Within 1 hour"],
            ["Severity 3", "Information Security Manager", "Next working day"],
            ["Severity 4", "Weekly security review meeting", "Next weekly review"],
        ],
    ),
    (
        "p",
        "Severity 1 incidents must be escalated to the CISO, currently Priya Raman, "
        "within 15 minutes, by telephone rather than email. The CISO decides "
        "whether to open the Major Incident Bridge, a standing conference line "
        "that brings together IT, clinical leads, communications and the Data "
        "Protection Officer. The Chief Executive must be informed of every "
        "Severity 1 incident within 2 hours. Severity 2 incidents are escalated to "
        "the Information Security Manager, Gareth Holloway, within 1 hour.",
    ),
    (
        "p",
        "If a named person cannot be reached, the analyst escalates to their "
        "deputy and then to the next level of management without waiting. Where "
        "personal data may be involved, the Data Protection Officer is informed so "
        "that regulatory notification deadlines can be met.",
    ),
    ("h1", "5. Containment and Recovery"),
    (
        "p",
        "Containment limits the damage while evidence is preserved. Typical actions "
        "include disconnecting affected devices from the network, disabling "
        "compromised accounts and blocking malicious addresses. Clinical areas "
        "affected by a system outage switch to their paper downtime procedures, "
        "and services are restored from clean backups only after the Incident "
        "Commander confirms that the threat has been removed. The hospital does "
        "not pay ransoms without a decision of the full Board.",
    ),
    ("h1", "6. Forensic Preservation"),
    (
        "p",
        "Evidence may be needed to understand the attack, to support a police "
        "investigation or to demonstrate to regulators that the hospital acted "
        "properly. Evidence is fragile and can be destroyed by well-meaning "
        "actions.",
    ),
    ("h2", "Do Not Power Off"),
    (
        "p",
        "Affected computers must not be switched off or restarted, because this "
        "erases the contents of memory. Instead, unplug the network cable or "
        "disable Wi-Fi to isolate the device, leave it running, and wait for the "
        "security team. Memory capture is performed before any disk image is "
        "taken.",
    ),
    ("h2", "Chain of Custody"),
    (
        "p",
        "Every item of evidence, including disk images, memory captures and "
        "physical devices, is labelled and recorded on an Evidence Custody Record "
        "that notes who collected it, when, and every person who handled it "
        "afterwards. Physical evidence and encrypted copies of forensic images are "
        "stored in the evidence safe in Room B114 of the Data Centre. Forensic "
        "evidence is retained for 3 years after the incident is closed, or longer "
        "if legal proceedings require it.",
    ),
    ("h1", "7. Post-Incident Review"),
    (
        "p",
        "Every Severity 1 and Severity 2 incident is followed by a post-incident "
        "review, held within 10 working days of the incident being closed. The "
        "review is chaired by the CISO and follows a blameless format: its purpose "
        "is to understand how systems and processes allowed the incident to "
        "happen, not to find someone to blame.",
    ),
    (
        "p",
        "The review produces a written report with a timeline, root causes and "
        "improvement actions, each with an owner and a due date. Actions are "
        "tracked in the RiskTrack register until completed, and the report is "
        "presented to the Information Governance Committee. Severity 3 and 4 "
        "incidents are reviewed together at the weekly security review meeting to "
        "identify recurring patterns.",
    ),
    ("h1", "8. Exercises and Review"),
    (
        "p",
        "The incident response team rehearses this procedure through tabletop "
        "exercises held twice a year, including at least one scenario that "
        "simulates the loss of the electronic patient record. This procedure is "
        "reviewed after every Severity 1 incident and otherwise once a year.",
    ),
]


def build_pdf(path: Path = PDF_PATH) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
    )

    styles = getSampleStyleSheet()
    n_pages = len(HR_PAGES)

    def footer(canvas, doc):  # drawn at page end so the heading is extracted first
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(
            2 * cm,
            1.2 * cm,
            f"{PDF_TITLE} (fictional sample) - page {doc.page} of {n_pages}",
        )
        canvas.restoreState()

    doc = BaseDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=PDF_TITLE,
        author="Northbridge General Hospital Human Resources (fictional)",
        subject="Annual leave, sick leave, parental leave, on-call compensation, training budget",
        invariant=1,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=footer)])

    story = []
    for i, (heading, paragraphs) in enumerate(HR_PAGES):
        if i:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading1"]))
        for text in paragraphs:
            story.append(Paragraph(text, styles["BodyText"]))
            story.append(Spacer(1, 6))
    doc.build(story)


def build_docx(path: Path = DOCX_PATH) -> None:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = DOCX_TITLE
    props.author = "Northbridge General Hospital Information Security (fictional)"
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.last_modified_by = "make_samples.py"
    props.revision = 1

    for kind, content in DOCX_BLOCKS:
        if kind == "title":
            document.add_heading(str(content), level=0)
        elif kind == "h1":
            document.add_heading(str(content), level=1)
        elif kind == "h2":
            document.add_heading(str(content), level=2)
        elif kind == "p":
            document.add_paragraph(str(content))
        elif kind == "table":
            rows = content  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell_text in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = cell_text
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        else:  # pragma: no cover - guard against typos in DOCX_BLOCKS
            raise ValueError(f"unknown block kind: {kind}")
    document.save(str(path))


def main() -> None:
    build_pdf()
    build_docx()
    for p in (PDF_PATH, DOCX_PATH):
        print(f"wrote {p.relative_to(HERE.parent)} ({p.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
