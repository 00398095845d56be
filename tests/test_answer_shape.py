"""The shape of an extractive answer: a first line that answers directly, quotes that keep the
clause holding the answer, and the passages ordered by the sentence the answer uses.

Synthetic documents and small retrievals built by hand (no index, no embedding model); the
shipped selection model decides which sentences answer.
"""

from __future__ import annotations

import pytest

from ingest.models import Document, DocumentMetadata
from ingest.schema import RetrievedChunk
from ingest.settings import Settings
from ingest.text.labels import ELLIPSIS, quote_window
from rag.answer import TermStats, extractive_answer, quoted_first
from rag.query import Question
from rag.retrieve import Retrieval

_FILLER = "tổ chức triển khai thực hiện các nhiệm vụ được giao theo đúng kế hoạch đã đề ra, "


@pytest.mark.parametrize("text, keep, limit, must_hold, cut_front, cut_back", [
    # short: whole, on one line
    ("Sở Y tế báo cáo\n trước ngày 10/6/2026.", ["10/6/2026"], 200, ["Sở Y tế báo cáo trước ngày 10/6/2026."],
     False, False),
    # long, answer at the end: the end is kept, the front is cut
    ("Các sở, ngành " + _FILLER * 12 + "báo cáo về Sở Nội vụ trước ngày 10/6/2026.", ["trước ngày 10/6/2026"],
     200, ["trước ngày 10/6/2026."], True, False),
    # long, answer at the start: the start is kept, the back is cut
    ("Sở Tài chính bố trí 12 tỷ đồng, " + _FILLER * 12, ["12 tỷ đồng"], 200, ["Sở Tài chính bố trí 12 tỷ đồng"],
     False, True),
    # long, answer in the middle: both ends cut, the answer whole
    (_FILLER * 6 + "hoàn thành trong quý II năm 2026, " + _FILLER * 6, ["trong quý II năm 2026"], 200,
     ["hoàn thành trong quý II năm 2026"], True, True),
    # two answering spans that fit together are both kept
    (_FILLER * 3 + "báo cáo 6 tháng trước ngày 15/5 và báo cáo năm trước ngày 10/11, " + _FILLER * 6,
     ["15/5", "10/11"], 200, ["15/5", "10/11"], True, True),
])
def test_a_long_quote_is_cut_around_the_answer_never_through_it(text, keep, limit, must_hold, cut_front,
                                                                 cut_back):
    spans = [(text.index(k), text.index(k) + len(k)) for k in keep]
    quote = quote_window(text, spans, limit)
    for part in must_hold:
        assert part in quote
    assert quote.startswith("… ") is cut_front
    assert quote.endswith(ELLIPSIS) is cut_back
    assert len(quote) <= limit + 2 * len(ELLIPSIS) + max(len(k) for k in keep)


def _doc(doc_id: str, paragraphs: list[str], **meta) -> Document:
    return Document(doc_id=doc_id, file=f"{doc_id}.txt", file_sha256="0", kind="txt",
                    text="\n\n".join(paragraphs) + "\n", metadata=DocumentMetadata(**meta))


def _retrieval(doc: Document, paragraphs: list[int], scores: list[float] | None = None) -> Retrieval:
    parts = doc.text.split("\n\n")
    chunks = []
    for rank, p in enumerate(paragraphs):
        start = sum(len(x) + 2 for x in parts[:p])
        end = start + len(parts[p].rstrip("\n"))
        chunks.append(RetrievedChunk(doc_id=doc.doc_id, chunk_id=f"{doc.doc_id}:{p + 1}", file=doc.file,
                                     number=doc.metadata.number, date=doc.metadata.date, text=doc.text[start:end],
                                     start=start, end=end, score=(scores or [1.0] * len(paragraphs))[rank]))
    return Retrieval(chunks, {doc.doc_id: doc})


_BACKGROUND = [
    "Các cơ quan, đơn vị triển khai thực hiện kế hoạch và báo cáo kết quả về Ủy ban nhân dân tỉnh.",
    "Sở Tài chính bố trí kinh phí thực hiện theo quy định.",
    "Đơn vị nào chưa thực hiện thì báo cáo rõ lý do, đề nghị các đơn vị nghiêm túc thực hiện.",
]

PLAN = _doc("p", [
    "ỦY BAN NHÂN DÂN TỈNH BÌNH MINH",
    "Số: 45/KH-UBND",
    "Sở Văn hóa tổ chức kiểm tra các cơ sở karaoke trên địa bàn tỉnh.",
    ("Sở Văn hóa " + _FILLER * 10 + "tổng hợp kết quả kiểm tra các cơ sở karaoke, báo cáo Ủy ban nhân dân tỉnh "
     "trước ngày 20 tháng 6 năm 2026."),
], number="45/KH-UBND", doc_type="kế hoạch", issuer="UBND tỉnh Bình Minh", date="2026-03-02",
    subject="Kiểm tra các cơ sở karaoke trên địa bàn tỉnh")


def _ask(question: str, retrieval: Retrieval):
    stats = TermStats([c.text for c in retrieval.chunks] + _BACKGROUND)
    return extractive_answer(Question.parse(question), retrieval, stats, settings=Settings())


def test_a_deadline_question_gets_the_deadline_first_and_its_clause_uncut():
    answer = _ask("Sở Văn hóa phải báo cáo kết quả kiểm tra các cơ sở karaoke trước ngày nào?",
                  _retrieval(PLAN, [2, 3]))
    assert not answer.abstained, answer.answer
    first = answer.answer.splitlines()[0]
    assert first.startswith("Thời hạn: trước ngày 20 tháng 6 năm 2026") and "20/06/2026" in first
    cited = next(c for c in answer.citations if first.endswith(f"[{c.n}]"))
    assert "20 tháng 6 năm 2026" in cited.quote
    # the long sentence is quoted around its deadline, not cut before it
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- “")]
    assert any("trước ngày 20 tháng 6 năm 2026" in line for line in quoted)


def test_a_number_question_is_answered_with_the_document_number():
    answer = _ask("Kế hoạch kiểm tra các cơ sở karaoke của tỉnh Bình Minh có số hiệu là gì?",
                  _retrieval(PLAN, [2, 3]))
    assert not answer.abstained, answer.answer
    line = answer.answer.splitlines()[0]  # the answer first, then the document it is from
    assert line.startswith("Số hiệu: 45/KH-UBND [")
    assert answer.answer.splitlines()[2] == "Theo Kế hoạch số 45/KH-UBND (UBND tỉnh Bình Minh, 02/03/2026)."
    cited = next(c for c in answer.citations if line.endswith(f"[{c.n}]"))
    assert cited.quote == "45/KH-UBND"


SIGNED = _doc("s", [
    "ỦY BAN NHÂN DÂN TỈNH BÌNH MINH",
    "Số: 46/KH-UBND\nBình Minh, ngày 05 tháng 3 năm 2026",
    "Sở Văn hóa tổ chức kiểm tra các cơ sở karaoke trên địa bàn tỉnh.",
    "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nNguyễn Văn Bình",
], number="46/KH-UBND", doc_type="kế hoạch", issuer="UBND tỉnh Bình Minh", date="2026-03-05",
    subject="Kiểm tra các cơ sở karaoke", signer_name="Nguyễn Văn Bình", signing_authority="KT. CHỦ TỊCH",
    signer_title="PHÓ CHỦ TỊCH")


@pytest.mark.parametrize("question, first, quoted", [
    ("Ai ký Kế hoạch 46/KH-UBND về kiểm tra các cơ sở karaoke?", "Người ký: Nguyễn Văn Bình (KT. CHỦ TỊCH PHÓ "
     "CHỦ TỊCH) [1]", "Nguyễn Văn Bình"),
    ("Kế hoạch 46/KH-UBND về kiểm tra các cơ sở karaoke ban hành ngày nào?", "Ngày ban hành: 05/03/2026 — ",
     "ngày 05 tháng 3 năm 2026"),
])
def test_a_question_about_the_document_gets_the_answer_first_then_the_document(question, first, quoted):
    answer = _ask(question, _retrieval(SIGNED, [2]))
    lines = answer.answer.splitlines()
    assert not answer.abstained and lines[0].startswith(first), answer.answer
    assert lines[2] == "Theo Kế hoạch số 46/KH-UBND (UBND tỉnh Bình Minh, 05/03/2026)."
    assert quoted in answer.citations[0].quote


TWO_COLUMNS = _doc("c", [
    ("ỦY BAN NHÂN DÂN              CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
     "  TỈNH BÌNH MINH                Độc lập - Tự do - Hạnh phúc"),
    "Số: 12/UBND-VX\nV/v kiểm tra các cơ sở karaoke",
    "Kính gửi: Ủy ban nhân dân các huyện, thị xã.",
    "Ủy ban nhân dân tỉnh Bình Minh đề nghị các huyện kiểm tra các cơ sở karaoke trên địa bàn.",
], number="12/UBND-VX", doc_type="công văn", issuer="Ủy ban nhân dân tỉnh Bình Minh", date="2026-03-05",
    subject="kiểm tra các cơ sở karaoke", addressees=["Ủy ban nhân dân các huyện, thị xã"])


@pytest.mark.parametrize("question, lines", [
    # the issuer first, cited where the header names it: its first line, the motto beside it
    ("Công văn 12/UBND-VX về kiểm tra các cơ sở karaoke do cơ quan nào ban hành?",
     ["Cơ quan ban hành: Ủy ban nhân dân tỉnh Bình Minh [1]"]),
    # asked whose it is and to whom it goes: the issuer, then the addressees
    ("Công văn 12/UBND-VX về kiểm tra các cơ sở karaoke là của cơ quan nào và gửi cho ai?",
     ["Cơ quan ban hành: Ủy ban nhân dân tỉnh Bình Minh [1]", "- Kính gửi: Ủy ban nhân dân các huyện, thị xã [2]"]),
])
def test_who_issued_a_document_is_answered_from_its_header(question, lines):
    answer = _ask(question, _retrieval(TWO_COLUMNS, [3]))
    assert not answer.abstained and answer.answer.splitlines()[0] == lines[0], answer.answer
    assert all(line in answer.answer.splitlines() for line in lines)
    assert answer.citations[0].quote == "ỦY BAN NHÂN DÂN" and answer.citations[0].start == 0


def test_the_passages_the_answer_quotes_come_first_among_the_sources():
    # search ranked the deadline paragraph second; the answer's sentence puts it first
    retrieval = _retrieval(PLAN, [2, 3], scores=[1.0, 0.9])
    answer = _ask("Sở Văn hóa phải báo cáo kết quả kiểm tra các cơ sở karaoke trước ngày nào?", retrieval)
    assert answer.retrieved[0].chunk_id == "p:4"
    assert {c.chunk_id for c in answer.retrieved} == {c.chunk_id for c in retrieval.chunks}
    assert quoted_first(retrieval.chunks, []) == retrieval.chunks  # nothing quoted: search order


def test_an_uncertain_answer_shows_its_related_passages_apart_from_sources():
    from rag.answer import UNCERTAIN
    from rag.models import Answer, Citation
    from rag.web import render

    related = Citation(n=1, doc_id="d-0", number="12/KH-UBND", doc_type="kế hoạch", issuer="UBND tỉnh Bình Minh",
                       date="2026-03-02", file="x.txt", quote="Sở Văn hóa **kiểm tra** <b>các</b> cơ sở.", start=0,
                       end=30)
    answer = Answer(question="?", answer=UNCERTAIN, abstained=True, related=[related])
    md = render.answer_markdown(answer)
    assert md.startswith(UNCERTAIN) and "Có thể liên quan" in md and "Kế hoạch 12/KH-UBND" in md
    assert "[1]" not in md  # related passages are not citations of the answer
    html = render.sources_html(answer)
    assert "Có thể liên quan" in html and "<b>các</b>" not in html and "&lt;b&gt;" in html
    assert "data-cite" not in html
    # plain "not found" stays as it was
    assert render.answer_markdown(Answer(question="?", answer="x", abstained=True)) == render.NOT_FOUND


BASED = _doc("b", [
    "ỦY BAN NHÂN DÂN TỈNH BÌNH MINH",
    ("Thực hiện Chỉ thị số 45/CT-TTg ngày 02/3/2026 của Thủ tướng Chính phủ về phòng, chống cháy rừng, Ủy ban "
     "nhân dân tỉnh ban hành Kế hoạch phòng, chống cháy rừng mùa khô năm 2026 như sau:"),
    "Sở Nông nghiệp và Môi trường chủ trì tổ chức tuần tra phòng, chống cháy rừng trong mùa khô.",
    "Ủy ban nhân dân các xã tổ chức lực lượng phòng, chống cháy rừng tại chỗ.",
], number="77/KH-UBND", doc_type="kế hoạch", issuer="UBND tỉnh Bình Minh", date="2026-03-10",
    subject="Phòng, chống cháy rừng mùa khô năm 2026")


@pytest.mark.parametrize("question, intent", [
    ("Kế hoạch phòng, chống cháy rừng mùa khô năm 2026 của tỉnh Bình Minh triển khai chỉ thị nào?", "basis"),
    ("Kế hoạch phòng chống cháy rừng của tỉnh Bình Minh dựa trên văn bản nào của Thủ tướng?", "basis"),
    ("Văn bản này căn cứ vào luật gì?", "basis"),
    ("Sở Nông nghiệp và Môi trường phải làm gì?", "task"),
])
def test_which_document_a_document_carries_out_is_its_own_intent(question, intent):
    assert Question.parse(question).wants(intent)


def test_which_directive_a_plan_carries_out_is_answered_by_its_preamble():
    answer = _ask("Kế hoạch phòng, chống cháy rừng mùa khô năm 2026 của tỉnh Bình Minh triển khai chỉ thị nào?",
                  _retrieval(BASED, [2, 1, 3]))
    assert not answer.abstained, answer.answer
    assert "Chỉ thị số 45/CT-TTg" in answer.citations[0].quote


RELIEF = _doc("r", [
    "ỦY BAN NHÂN DÂN TỈNH BÌNH MINH",
    "Số: 12/KH-UBND",
    ("Ủy ban nhân dân các xã báo cáo tình hình cấp phát nhu yếu phẩm trước 9h00 hằng ngày, "
     + _FILLER * 8 + "tổng hợp số liệu 02 lần/ngày gửi Sở Công Thương."),
], number="12/KH-UBND", doc_type="kế hoạch", issuer="UBND tỉnh Bình Minh", date="2025-11-21")


def test_a_how_many_question_is_quoted_around_the_count_in_the_measure_asked():
    answer = _ask("Ủy ban nhân dân các xã báo cáo tình hình cấp phát nhu yếu phẩm mấy lần một ngày?",
                  _retrieval(RELIEF, [2]))
    assert not answer.abstained, answer.answer
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- “")]
    # the sentence is too long to quote whole: it is cut around "02 lần/ngày", not around "9h00"
    assert any("02 lần/ngày" in line and "…" in line for line in quoted), answer.answer
