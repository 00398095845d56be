"""ingest.text.labels: how documents, dates, cut passages and pages are named, case by case."""

from __future__ import annotations

import pytest

from ingest.models import DocumentMetadata
from ingest.text.labels import (
    document_line,
    document_name,
    document_short,
    document_title,
    format_date,
    number_label,
    page_at,
    shorten,
    type_label,
)

ISSUER = "Ủy ban nhân dân tỉnh Sóc Trăng"


@pytest.mark.parametrize(("iso", "shown"), [
    ("2024-10-23", "23/10/2024"),
    ("2024-10", "10/2024"),
    ("2024", "2024"),
    (None, ""),
    ("", ""),
    ("23/10/2024", "23/10/2024"),  # not ISO: shown as found, never scrambled
    ("2024-1x-05", "2024-1x-05"),
])
def test_format_date(iso, shown):
    assert format_date(iso) == shown


@pytest.mark.parametrize(("doc_type", "shown"), [
    ("công văn", "Công văn"),
    ("kế hoạch", "Kế hoạch"),
    ("quyết định", "Quyết định"),
    (None, "Văn bản"),
    ("", "Văn bản"),
])
def test_type_label(doc_type, shown):
    assert type_label(doc_type) == shown


@pytest.mark.parametrize(("number", "shown"), [
    ("3452/UBND-VX", "3452/UBND-VX"),
    ("/KH-UBND", "…/KH-UBND"),  # blank number: the digits were left empty on the form
    ("61-CTr/TU", "61-CTr/TU"),
    (None, "(không số)"),
    ("", "(không số)"),
])
def test_number_label(number, shown):
    assert number_label(number) == shown


@pytest.mark.parametrize(("doc_type", "number", "shown"), [
    ("công văn", "3452/UBND-VX", "Công văn 3452/UBND-VX"),
    ("kế hoạch", "/KH-UBND", "Kế hoạch …/KH-UBND"),
    ("kế hoạch", None, "Kế hoạch (không số)"),
    (None, None, "Văn bản (không số)"),
])
def test_document_name(doc_type, number, shown):
    assert document_name(doc_type, number) == shown


@pytest.mark.parametrize(("doc_type", "number", "issuer", "date", "shown"), [
    ("công văn", "3452/UBND-VX", ISSUER, "2024-10-23", f"Công văn 3452/UBND-VX · {ISSUER} · 23/10/2024"),
    ("công văn", "3452/UBND-VX", None, "2024-10", "Công văn 3452/UBND-VX · 10/2024"),
    ("kế hoạch", "/KH-UBND", ISSUER, None, f"Kế hoạch …/KH-UBND · {ISSUER}"),
    (None, None, None, None, "Văn bản (không số)"),
])
def test_document_line(doc_type, number, issuer, date, shown):
    assert document_line(doc_type, number, issuer, date) == shown


@pytest.mark.parametrize(("meta", "with_issuer", "shown"), [
    (dict(doc_type="công văn", number="3452/UBND-VX", issuer=ISSUER, date="2024-10-23"), True,
     f"Công văn số 3452/UBND-VX ({ISSUER}, 23/10/2024)"),
    (dict(doc_type="công văn", number="3452/UBND-VX", date="2024-10-23"), True, "Công văn số 3452/UBND-VX (23/10/2024)"),
    (dict(doc_type="công văn", number="3452/UBND-VX"), True, "Công văn số 3452/UBND-VX"),
    (dict(doc_type="kế hoạch", number="/KH-UBND", issuer=ISSUER), True, f"Kế hoạch ({ISSUER})"),
    (dict(number="12/UBND"), True, "Văn bản số 12/UBND"),
    # an attachment without a number of its own is known by the decision it is issued with
    (dict(doc_type="kế hoạch", attached_to="Quyết định số 1627/QĐ-UBND ngày 21/11/2025", issuer=ISSUER,
          date="2025-11-21"), True, f"Kế hoạch kèm theo Quyết định số 1627/QĐ-UBND ngày 21/11/2025 ({ISSUER}, 21/11/2025)"),
    (dict(doc_type="kế hoạch", number="5/KH-UBND", attached_to="Quyết định số 1/QĐ-UBND"), True, "Kế hoạch số 5/KH-UBND"),
    (dict(doc_type="kế hoạch", attached_to="Quyết định số 1/QĐ-UBND", subject="kiểm kê"), False, "Kế hoạch kiểm kê"),
    # Without the issuer: the subject, the words a question naming the document would use.
    (dict(doc_type="công văn", number="3452/UBND-VX", subject="triển khai Chương trình", issuer=ISSUER), False,
     "Công văn số 3452/UBND-VX triển khai Chương trình"),
    (dict(doc_type="công văn", number="3452/UBND-VX"), False, "Công văn số 3452/UBND-VX"),
])
def test_document_title(meta, with_issuer, shown):
    assert document_title(DocumentMetadata(**meta), with_issuer=with_issuer) == shown


@pytest.mark.parametrize(("doc_type", "number", "issuer", "shown"), [
    ("công văn", "3452/UBND-VX", ISSUER, f"Công văn 3452/UBND-VX ({ISSUER})"),
    ("công văn", "3452/UBND-VX", None, "Công văn 3452/UBND-VX"),
    ("kế hoạch", "/KH-UBND", ISSUER, f"Kế hoạch ({ISSUER})"),  # a blank number says nothing
    ("chương trình", "CTr-61/TU", None, "Chương trình"),  # nor one that does not start with its digits
    (None, None, None, "Văn bản"),
])
def test_document_short(doc_type, number, issuer, shown):
    assert document_short(doc_type, number, issuer) == shown


@pytest.mark.parametrize(("text", "limit", "trim_end", "shown"), [
    ("ngắn gọn", 20, "", "ngắn gọn"),
    ("  nhiều\n dòng\t và   khoảng trắng ", 40, "", "nhiều dòng và khoảng trắng"),
    ("một hai ba bốn năm", 10, "", "một hai …"),  # cut at the last space before the limit
    ("mộthaibabốnnăm", 5, "", "mộtha …"),  # no space: cut at the limit
    ("vừa đúng mười", 13, "", "vừa đúng mười"),  # exactly the limit is not cut
    ("Báo cáo trước ngày 10/11.", 40, ".;,", "Báo cáo trước ngày 10/11"),
    ("Báo cáo trước ngày 10/11.", 40, "", "Báo cáo trước ngày 10/11."),
    ("", 10, "", ""),
])
def test_shorten(text, limit, trim_end, shown):
    assert shorten(text, limit, trim_end=trim_end) == shown


@pytest.mark.parametrize(("page_starts", "offset", "page"), [
    (None, 10, None),  # not a PDF
    ([], 10, None),
    ([0, 100, 250], 0, 1),
    ([0, 100, 250], 99, 1),
    ([0, 100, 250], 100, 2),  # a page's first character is on that page
    ([0, 100, 250], 5000, 3),
    ([20, 100], 5, 1),  # before the first page start: page 1
])
def test_page_at(page_starts, offset, page):
    assert page_at(page_starts, offset) == page


# --------------------------------------------------------------------------- shared word lists


@pytest.mark.parametrize(("abbreviation", "name"), [
    ("UBND", "ủy ban nhân dân"),
    ("HĐND", "hội đồng nhân dân"),
    ("HDND", "hội đồng nhân dân"),  # the stroke of Đ lost in a scan
    ("LĐ-TB&XH", "lao động thương binh và xã hội"),
    ("GD&ĐT", "giáo dục và đào tạo"),
    ("XYZ", None),
])
def test_spelled_out(abbreviation, name):
    from ingest.text.abbreviations import spelled_out

    assert spelled_out(abbreviation) == name


def test_questions_and_the_sparse_index_cut_terms_alike():
    # One definition of the token patterns: a question's terms must be the indexed terms.
    import ingest.sparse
    import rag.query
    from ingest.text import tokens

    assert rag.query._SYLLABLE is ingest.sparse._SYLLABLE is tokens.SYLLABLE
    assert rag.query._CODE is ingest.sparse._CODE is tokens.CODE
