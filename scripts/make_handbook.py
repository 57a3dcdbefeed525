"""Regenerate the binary files of the sample handbook (PDF, DOCX, XLSX) from the text here.

Run from the repository root: ``python scripts/make_handbook.py``. Needs reportlab
(in the ``test`` extra); python-docx and openpyxl are Parley dependencies already.
"""

from __future__ import annotations

from pathlib import Path

HANDBOOK = Path(__file__).resolve().parents[1] / "examples" / "handbook"

EXPENSES = {
    "title": "Expenses policy",
    "pages": [
        [
            ("h1", "Expenses policy"),
            (
                "p",
                "This policy covers travel, meals and equipment bought for work by members "
                "of the Platform team. Submit every expense in Expensify within 30 days, "
                "with a photo of the receipt.",
            ),
            ("h2", "Meals"),
            (
                "p",
                "When travelling for work, meals are reimbursed up to 60 EUR per day. "
                "Alcohol is not reimbursed. Team dinners need approval from your manager "
                "beforehand and are capped at 45 EUR per person.",
            ),
            ("h2", "Travel"),
            (
                "p",
                "Book trains for journeys under four hours and economy flights otherwise. "
                "Hotels are reimbursed up to 150 EUR per night, 200 EUR in London, Paris "
                "and New York.",
            ),
        ],
        [
            ("h2", "Equipment"),
            (
                "p",
                "Each engineer has a home-office budget of 500 EUR every two years for a "
                "chair, desk or monitor. Laptops are provided by IT and are not expensed.",
            ),
            ("h2", "Approval"),
            (
                "p",
                "Expenses under 100 EUR are approved automatically. Larger expenses are "
                "approved by your manager; anything over 1,000 EUR also needs the finance "
                "team. Reimbursements are paid with the next monthly salary.",
            ),
        ],
    ],
}

SECURITY = [
    ("Title", "Security basics"),
    ("Heading 1", "Access"),
    (
        "p",
        "Production access is granted through Teleport for 8 hours at a time and needs a "
        "reason. Every access is logged and reviewed weekly by the security team.",
    ),
    ("Heading 1", "Secrets"),
    (
        "p",
        "Secrets live in Vault under secret/platform/. Never paste a secret into Slack, a "
        "ticket or a commit. If a secret leaks, rotate it at once and tell #security.",
    ),
    ("Heading 1", "Access levels"),
    (
        "p",
        "Who may reach which environment, and who approves it. Requests go through the "
        "#access-requests channel.",
    ),
    ("table", "ACCESS_LEVELS"),
    ("Heading 1", "Laptops"),
    (
        "p",
        "Laptops must have disk encryption on and lock after 5 minutes idle. Report a "
        "lost laptop to security@northwind.example within one hour.",
    ),
]

ACCESS_LEVELS = [
    ["Environment", "Who", "Approved by", "Session length"],
    ["staging", "Every engineer", "", "12 hours"],
    ["production read-only", "On-call engineers", "Team lead", "8 hours"],
    ["production admin", "Platform SREs", "Head of Security (Farah Haddad)", "2 hours"],
]

SERVICES_HEADER = ["Service", "Owner", "Tier", "Runbook", "Slack channel", "Notes"]
SERVICES = [
    ["checkout-api", "Payments squad", 1, "runbooks/checkout", "#team-payments", None],
    [
        "billing-worker",
        "Payments squad",
        2,
        "runbooks/billing",
        "#team-payments",
        "Runs invoices nightly at 02:00 UTC",
    ],
    ["auth-service", "Identity squad", 1, "runbooks/auth", "#team-identity", None],
    ["search-indexer", "Discovery squad", 3, None, "#team-discovery", "Best effort; no pages"],
    ["notifications", "Platform team", 2, "runbooks/notifications", None, "Sends email and push"],
]


ESCALATION_CAPTION = "Escalation path by service tier (reviewed October 2026)"
ESCALATION_HEADER = ["Tier", "First", "After 10 minutes", "After 30 minutes", "Status page"]
ESCALATION = [
    [
        1,
        "Primary on-call",
        "Secondary on-call",
        "Engineering manager Dana Kim",
        "Within 15 minutes",
    ],
    [2, "Primary on-call", "Secondary on-call", None, "If customers notice"],
    [3, "Owning squad channel", None, None, None],
]


def make_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = []
    for n, page in enumerate(EXPENSES["pages"]):
        if n:
            story.append(PageBreak())
        for kind, text in page:
            story.append(
                Paragraph(
                    text,
                    styles[
                        "Heading1" if kind == "h1" else "Heading2" if kind == "h2" else "BodyText"
                    ],
                )
            )
    SimpleDocTemplate(str(path), pagesize=A4, title=EXPENSES["title"]).build(story)


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Security basics"
    for style, text in SECURITY:
        if style == "table":
            table = document.add_table(rows=0, cols=len(ACCESS_LEVELS[0]), style="Table Grid")
            for row in ACCESS_LEVELS:
                for cell, value in zip(table.add_row().cells, row, strict=True):
                    cell.text = value
        elif style == "p":
            document.add_paragraph(text)
        else:
            document.add_paragraph(text, style=style)
    document.save(path)


def make_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.properties.title = "Service catalogue"
    sheet = book.active
    sheet.title = "Services"
    sheet.append(SERVICES_HEADER)
    for row in SERVICES:
        sheet.append(row)
    escalation = book.create_sheet("Escalation")
    escalation.append([ESCALATION_CAPTION])
    escalation.append([])
    escalation.append(ESCALATION_HEADER)
    for row in ESCALATION:
        escalation.append(row)
    book.save(path)


def main() -> None:
    make_pdf(HANDBOOK / "expenses-policy.pdf")
    make_docx(HANDBOOK / "security-basics.docx")
    make_xlsx(HANDBOOK / "service-catalogue.xlsx")


if __name__ == "__main__":
    main()
