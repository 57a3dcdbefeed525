"""Loaders on real files of every format, and on the broken files users really have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from pypdf import PdfWriter

from knowledge.errors import LoadError, UnsupportedFile
from knowledge.loaders import SUPPORTED_SUFFIXES, load_bytes, load_document
from tests.conftest import HANDBOOK

DATA = Path(__file__).parent / "data"


def texts(path: Path) -> str:
    return "\n".join(s.text for s in load_document(path).sections)


def test_the_handbook_covers_every_supported_format() -> None:
    suffixes = {p.suffix for p in HANDBOOK.iterdir()}
    assert {".md", ".txt", ".html", ".pdf", ".docx", ".csv", ".xlsx"} <= suffixes
    assert suffixes <= SUPPORTED_SUFFIXES


def test_markdown_sections_carry_their_heading_path() -> None:
    doc = load_document(HANDBOOK / "deploys-and-rollbacks.md")
    assert doc.title == "Deploys and rollbacks"
    rollback = next(s for s in doc.sections if "shipit rollback" in s.text)
    assert rollback.heading_path == ("Deploys and rollbacks", "Rolling back a deploy")
    assert doc.source == (HANDBOOK / "deploys-and-rollbacks.md").resolve().as_posix()


def test_markdown_code_fences_are_not_headings(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("# Top\n\n```\n# not a heading\n```\n\n## Sub\n\nBody text.\n")
    doc = load_document(path)
    assert [s.heading_path for s in doc.sections] == [("Top",), ("Top", "Sub")]
    assert "# not a heading" in doc.sections[0].text


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("note.md", "# Visitors park on level minus two\n"),
        ("note.rst", "Visitors park on level minus two\n=================================\n"),
        ("note.html", "<h1>Visitors park on level minus two</h1>"),
    ],
)
def test_a_file_of_one_heading_is_that_heading(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    doc = load_document(path)
    assert doc.title == "Visitors park on level minus two"
    assert [(s.text, s.heading_path) for s in doc.sections] == [
        ("Visitors park on level minus two", ())
    ]


def test_a_file_of_headings_alone_keeps_them_all_as_its_text(tmp_path: Path) -> None:
    path = tmp_path / "outline.md"
    path.write_text("# Parking\n\n## Level   minus two\n\n## Bikes by the gate\n")
    assert [s.text for s in load_document(path).sections] == [
        "Parking\n\nLevel minus two\n\nBikes by the gate"
    ]


def test_rst_underlined_headings(tmp_path: Path) -> None:
    path = tmp_path / "guide.rst"
    path.write_text(
        "=====\nGuide\n=====\n\nIntro.\n\n:mod:`json` usage\n-----------------\n\n"
        "Call :func:`~json.dumps` or see :ref:`the guide <guide>`.\n\nNotes\n~~~~~\n\nEnd.\n"
    )
    doc = load_document(path)
    assert doc.title == "Guide"
    assert [s.heading_path for s in doc.sections] == [
        ("Guide",),
        ("Guide", "json usage"),
        ("Guide", "json usage", "Notes"),
    ]
    assert doc.sections[1].text == "Call json.dumps or see the guide."


def test_html_drops_scripts_and_navigation_and_keeps_headings() -> None:
    doc = load_document(HANDBOOK / "incident-process.html")
    assert doc.title == "Incident process"
    body = "\n".join(s.text for s in doc.sections)
    assert "analytics" not in body and "Handbook home" not in body
    severity = next(s for s in doc.sections if "SEV1" in s.text)
    assert severity.heading_path == ("Incident process", "Severity levels")


def test_pdf_keeps_page_numbers() -> None:
    doc = load_document(HANDBOOK / "expenses-policy.pdf")
    assert [s.location for s in doc.sections] == ["page 1"] * 3 + ["page 2"] * 2
    assert "60 EUR per day" in doc.sections[1].text
    assert "500 EUR" in doc.sections[3].text


def test_pdf_headings_found_by_type_size_head_their_text() -> None:
    doc = load_document(HANDBOOK / "expenses-policy.pdf")
    assert doc.title == "Expenses policy"
    assert [s.heading_path for s in doc.sections] == [
        ("Expenses policy",),
        ("Expenses policy", "Meals"),
        ("Expenses policy", "Travel"),
        ("Expenses policy", "Equipment"),  # page 2 goes on under the heading of page 1
        ("Expenses policy", "Approval"),
    ]
    openings = [s.text.split()[0] for s in doc.sections]
    assert openings == ["This", "When", "Book", "Each", "Expenses"]


def test_docx_headings_and_title() -> None:
    doc = load_document(HANDBOOK / "security-basics.docx")
    assert doc.title == "Security basics"
    secrets = next(s for s in doc.sections if "Vault" in s.text)
    assert secrets.heading_path[-1] == "Secrets"


@pytest.mark.parametrize("name", ["service-catalogue.xlsx", "on-call-rota.csv"])
def test_spreadsheet_rows_keep_headers_and_skip_empty_cells(name: str) -> None:
    doc = load_document(HANDBOOK / name)
    body = texts(HANDBOOK / name)
    for junk in ("nan", "None", "Unnamed", ": ;", "NaT"):
        assert junk not in body
    assert all(re.search(r"row \d+$", s.location) for s in doc.sections)
    captions = [s for s in doc.sections if not s.heading_path and ": " not in s.text]
    assert all(": " in s.text for s in doc.sections if s not in captions)


def test_csv_rota_rows() -> None:
    doc = load_document(HANDBOOK / "on-call-rota.csv")
    assert doc.title == "on-call-rota"
    assert doc.sections[0].location == "row 2"
    assert doc.sections[0].text == (
        "Week starting: 2026-11-02; Primary: Amara Okafor; Secondary: Jonas Weber"
    )


def test_xlsx_row_text_and_location() -> None:
    doc = load_document(HANDBOOK / "service-catalogue.xlsx")
    assert doc.title == "Service catalogue"
    checkout = doc.sections[0]
    assert checkout.location == "sheet Services, row 2"
    # Notes is empty for checkout-api, so it must not appear at all
    assert checkout.text == (
        "Service: checkout-api; Owner: Payments squad; Tier: 1; "
        "Runbook: runbooks/checkout; Slack channel: #team-payments"
    )


def test_xlsx_title_row_above_the_header_is_the_rows_heading_and_text_of_its_own() -> None:
    doc = load_document(HANDBOOK / "service-catalogue.xlsx")
    title = "Escalation path by service tier (reviewed October 2026)"
    tier3 = next(s for s in doc.sections if s.location == "sheet Escalation, row 6")
    assert tier3.heading_path == (title,)
    assert tier3.text == "Tier: 3; First: Owning squad channel"
    # the only place the review date is written: searchable and quotable as text
    caption = next(s for s in doc.sections if s.location == "sheet Escalation, row 1")
    assert (caption.text, caption.heading_path) == (title, ())


def test_xlsx_sheet_without_a_header_row(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Numbers"
    sheet.append([2024, "Q1", 1.5])
    sheet.append([2025, None, 2.0])
    book.save(tmp_path / "plain.xlsx")
    doc = load_document(tmp_path / "plain.xlsx")
    assert [(s.text, s.location) for s in doc.sections] == [
        ("2024; Q1; 1.5", "sheet Numbers, row 1"),
        ("2025; 2", "sheet Numbers, row 2"),
    ]


def test_docx_tables_become_rows_with_headers() -> None:
    doc = load_document(HANDBOOK / "security-basics.docx")
    access = next(s for s in doc.sections if s.heading_path[-1] == "Access levels")
    assert "Environment: production admin; Who: Platform SREs;" in access.text
    assert "Environment: staging; Who: Every engineer; Session length: 12 hours" in access.text


def test_csv_empty_cells_dropped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Name,Team,,Phone\nAda,,x,\n,,,\nBob,Infra,,555\n")
    doc = load_document(path)
    assert [s.text for s in doc.sections] == [
        "Name: Ada; x",  # a value under a blank header stands alone, no invented label
        "Name: Bob; Team: Infra; Phone: 555",
    ]
    assert [s.location for s in doc.sections] == ["row 2", "row 4"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\n garbage that is not a pdf", "not a valid PDF"),
        ("empty.md", b"", "empty"),
        ("blank.txt", b"   \n\n", "empty"),
        ("binary.txt", b"\x00\x01\x02 binary \x00" * 50, "binary"),
        ("latin.txt", bytes(range(128, 256)) * 20, "UTF-8"),
        ("broken.docx", b"PK\x03\x04 not a zip really", "not a valid DOCX"),
        ("broken.xlsx", b"nonsense", "not a valid XLSX"),
    ],
)
def test_broken_files_raise_load_error_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_document(path)


def test_a_few_bad_bytes_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "mostly.txt"
    path.write_bytes("Café opening hours are nine to five. ".encode() * 20 + b"\xff")
    assert "opening hours" in texts(path)


@pytest.mark.parametrize("name", ["notes.txt", "rota.csv"])
def test_text_saved_in_windows_western_code_page_is_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = "Datum,Dienst\n1. März 2027,Jörg Weiß\n2. März 2027,Renée Dœuf – 5 €\n"
    path.write_bytes(text.encode("cp1252"))
    read = texts(path)
    assert "Jörg Weiß" in read and "Renée Dœuf – 5 €" in read and "\ufffd" not in read


def test_utf8_with_a_bad_byte_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "mostly.txt"
    path.write_bytes("Jörg opened the café. ".encode() * 20 + b"\xe9")
    assert "Jörg opened the café." in texts(path)  # not read as cp1252 ("JÃ¶rg")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG")
    with pytest.raises(UnsupportedFile, match=r"unsupported file type '\.png'"):
        load_document(path)


def test_encrypted_pdf_needs_a_password(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=HANDBOOK / "expenses-policy.pdf")
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(LoadError, match="encrypted"):
        load_document(tmp_path / "locked.pdf")


def test_pdf_without_text(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(tmp_path / "scan.pdf")
    with pytest.raises(LoadError, match="no extractable text"):
        load_document(tmp_path / "scan.pdf")


def test_binary_bytes_behind_a_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes((HANDBOOK / "security-basics.docx").read_bytes()[:4000] + b"\x00")
    with pytest.raises(LoadError, match="binary"):
        load_document(path)


def test_a_text_files_title_line_heads_its_text(tmp_path: Path) -> None:
    """The first line names the file; when it reads as a heading it is not also the first
    words of the text below it (a short line below would not part them in chunking)."""
    path = tmp_path / "campaign.txt"
    path.write_text("North African Campaign\nInformation gleaned via Ultra helped.\n")
    doc = load_document(path)
    assert doc.title == "North African Campaign"
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (("North African Campaign",), "Information gleaned via Ultra helped.")
    ]
    sentence = tmp_path / "note.txt"
    sentence.write_text("Deploys happen on Tuesdays.\nNever on Fridays.\n")
    doc = load_document(sentence)
    assert doc.title == "Deploys happen on Tuesdays."
    assert doc.sections[0].text == "Deploys happen on Tuesdays.\nNever on Fridays."


def test_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Übergabe on Mondays.", encoding="utf-16")
    assert texts(path) == "Übergabe on Mondays."


def test_html_tables_and_headings_without_a_title(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<h2>Owners</h2><table><tr><th>Service</th><th>Team</th><th>Pager</th></tr>"
        "<tr><td>auth</td><td>Identity</td><td></td></tr></table>"
        "<footer>Copyright</footer>"
    )
    doc = load_document(path)
    assert doc.title == "page"
    assert [(s.heading_path, s.text) for s in doc.sections] == [
        (("Owners",), "Service: auth; Team: Identity")
    ]


def test_a_title_row_inside_an_html_table_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "rota.html"
    path.write_text(
        "<table><tr><td colspan=2>Rota (agreed 3 March)</td></tr>"
        "<tr><th>Week</th><th>Primary</th></tr><tr><td>10</td><td>Ada</td></tr></table>"
    )
    assert texts(path) == "Rota (agreed 3 March)\n\nWeek: 10; Primary: Ada"


def test_every_library_failure_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "half.docx"
    path.write_bytes((HANDBOOK / "security-basics.docx").read_bytes()[:2000])
    with pytest.raises(LoadError) as caught:
        load_document(path)
    assert caught.value.__cause__ is not None


def test_pdf_heading_levels_follow_type_size_and_plain_pdfs_have_none() -> None:
    # built once with reportlab (scripts/make_handbook.py's library; not needed to test):
    # Heading1 Runbook, Heading2 Deploys, Heading3 Canary, body, Heading2 Rollbacks, body
    nested = DATA / "nested-headings.pdf"
    doc = load_document(nested)
    assert [s.heading_path for s in doc.sections] == [
        ("Runbook", "Deploys", "Canary"),
        ("Runbook", "Rollbacks"),
    ]
    plain = load_document(DATA / "plain.pdf")  # two paragraphs of body text only
    assert [(s.heading_path, s.location) for s in plain.sections] == [((), "page 1")]


def test_bytes_with_a_name_load_as_the_file_would() -> None:
    path = HANDBOOK / "expenses-policy.pdf"
    from_file = load_document(path)
    from_bytes = load_bytes(path.read_bytes(), "Expenses.PDF", "attached:Expenses.PDF")
    assert from_bytes.sections == from_file.sections
    assert from_bytes.source == "attached:Expenses.PDF"
    assert from_bytes.title == from_file.title


def test_bytes_get_the_checks_a_file_gets() -> None:
    with pytest.raises(UnsupportedFile, match=r"'\.png'"):
        load_bytes(b"\x89PNG", "scan.png", "attached:scan.png")
    with pytest.raises(LoadError, match="file is empty"):
        load_bytes(b" \n", "notes.md", "attached:notes.md")
    with pytest.raises(LoadError, match="no text found"):
        load_bytes(b"<html><body> </body></html>", "page.html", "attached:page.html")
    doc = load_bytes(b"a,b\n1,2\n", "Rota.CSV", "attached:Rota.CSV")  # the suffix in any case
    assert doc.title == "Rota" and doc.source == "attached:Rota.CSV"  # the name's stem


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("renamed.docx", "service-catalogue.xlsx"),
        ("renamed.xlsx", "security-basics.docx"),
        ("renamed.pdf", "service-catalogue.xlsx"),
        ("renamed.docx", "expenses-policy.pdf"),
    ],
)
def test_a_file_of_another_format_is_named_by_its_format_alone(name: str, other: str) -> None:
    """An attached file arrives as bytes: its reason must name no object of ours."""
    with pytest.raises(LoadError) as caught:
        load_bytes((HANDBOOK / other).read_bytes(), name, f"attached:{name}")
    assert not re.search(r"object at 0x|BytesIO|<", str(caught.value)), caught.value


def test_a_workbook_renamed_to_docx_is_said_to_be_one() -> None:
    data = (HANDBOOK / "service-catalogue.xlsx").read_bytes()
    with pytest.raises(LoadError, match="not a Word file: it is an Excel workbook"):
        load_bytes(data, "budget.docx", "attached:budget.docx")
