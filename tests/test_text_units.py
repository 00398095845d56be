"""Pure text functions of the answering stage: sentences, question analysis, acting units."""

import pytest

from ingest.models import Document, DocumentMetadata
from ingest.text.actors import directs_addressees, heading_units, resolve_actors
from rag.query import analyze, expand_abbreviations
from ingest.text.sentences import sentence_spans


def _sentences(text):
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # hard-wrapped lines are one sentence until one closes
        ("Báo cáo kết quả thực hiện hằng năm\ntrước ngày 10/11; báo cáo đột xuất.", ["Báo cáo kết quả thực hiện hằng năm\ntrước ngày 10/11; báo cáo đột xuất."]),
        # list items are sentences of their own
        ("Kính gửi:\n- Sở Y tế;\n- Sở Tài chính.", ["Kính gửi:", "- Sở Y tế;", "- Sở Tài chính."]),
        # full stops split inside a paragraph, abbreviations do not
        ("Gửi Văn phòng (HN, TP. HCM) trước ngày 5/5. Sau đó tổng hợp báo cáo.",
         ["Gửi Văn phòng (HN, TP. HCM) trước ngày 5/5.", "Sau đó tổng hợp báo cáo."]),
        ("1. Mục đích\n\n- Tăng cường lãnh đạo.", ["1. Mục đích", "- Tăng cường lãnh đạo."]),
        # a table row is one sentence, whatever full stops its cells hold; the ruling line is none
        ("| TT | Nhiệm vụ | Thời gian |\n|---|:---:|---|\n| 1 | Rà soát. Báo cáo Sở | Quý II/2026 |\nGhi chú cuối",
         ["| TT | Nhiệm vụ | Thời gian |", "| 1 | Rà soát. Báo cáo Sở | Quý II/2026 |", "Ghi chú cuối"]),
    ],
)
def test_sentence_spans(text, expected):
    assert _sentences(text) == expected


@pytest.mark.parametrize(
    "question, intents",
    [
        ("Đơn vị nào phải báo cáo trước ngày 10/11?", {"who", "when"}),
        ("ai ky cong van 3452/UBND-VX", {"signer"}),
        ("Tỷ lệ trẻ em đi học mẫu giáo phải đạt bao nhiêu?", {"figure"}),
        ("Sở LĐTBXH phải làm gì trong tháng 11/2024?", {"task"}),
        ("Kế hoạch gửi cho những ai? Nơi nhận gồm ai?", {"recipients", "who"}),
        ("Công văn 12/UBND-VX gửi cho những cơ quan nào?", {"recipients"}),
        ("cong van duoc gui nhung cuc nao de phoi hop", {"recipients"}),
        ("Nơi nhận của báo cáo số 12/BC-UBND gồm những ai?", {"recipients"}),  # the list itself named
        ("Kế hoạch số 16/KH-MTTQ ký ngày nào?", {"date"}),
        ("Quyết định này ban hành vào ngày nào?", {"date"}),
        ("Kế hoạch 12/KH-UBND triển khai chỉ thị nào của Thủ tướng?", {"basis"}),
        # a time of day is asked as a date is
        ("Sở Công Thương báo cáo UBND tỉnh vào giờ nào?", {"when"}),
        ("mỏ đá chỉ được nổ mìn vào những khung giờ nào?", {"when"}),
        # a duration or a frequency is a quantity
        ("Việc giám sát diễn ra vào thời điểm nào?", {"when"}),
        ("Dự án phải hoàn thành trong quý nào?", {"when"}),
        ("Hồ sơ phải gửi trước bao lâu?", {"figure"}),
        ("ban do hien trang phai lap bao lau mot lan?", {"figure"}),
        # "mấy" asks how many, as "bao nhiêu" does
        ("UBND các xã phải báo cáo mấy lần một ngày?", {"figure"}),
        ("Kế hoạch được lập theo đề nghị của mấy đơn vị?", {"figure"}),
        ("ubnd xa phai bao cao may lan mot ngay?", {"figure"}),
        # where a report or a file is sent is a body
        ("Các xã gửi báo cáo về đâu?", {"destination"}),
        ("gặp vướng mắc thì phải báo lên đâu?", {"destination"}),
        ("Mặt trận xã chuyển đơn thư đi đâu?", {"destination"}),
    ],
)
def test_question_intents(question, intents):
    assert analyze(question).intents >= intents


@pytest.mark.parametrize("question", [
    "Đoàn kiểm tra họp lúc mấy giờ?",                 # when
    "Kế hoạch kiểm tra được phê duyệt bằng quyết định số mấy?",  # which number
    "Sở cần trang bị máy tính cho ai?",               # "máy", a machine
    "so can trang bi may tinh cho ai?",               # the same, typed without diacritics
])
def test_may_asks_how_many_only_as_written(question):
    assert "figure" not in analyze(question).intents


@pytest.mark.parametrize("question, measure", [
    ("UBND các xã phải báo cáo mấy lần một ngày?", "lan"),
    ("ubnd xa phai bao cao may lan mot ngay?", "lan"),
    ("Có bao nhiêu đơn vị tham gia kiểm tra?", "don vi"),
    ("Đoàn làm việc bao lâu ở mỗi đơn vị?", "duration"),
    ("Trận lũ thiệt hại khoảng bao nhiêu tiền?", "money"),
    ("Kinh phí thực hiện kế hoạch là bao nhiêu?", "money"),
    ("Tỷ lệ hộ nghèo giảm còn bao nhiêu?", "share"),
    ("Kế hoạch có bao nhiêu?", None),          # no measure named
    ("Năm 2024 là lần thứ mấy tổ chức?", None),  # which time, not how many of something
    ("Ai ký văn bản?", None),                  # not a how-many question
])
def test_the_measure_a_how_many_question_counts_in(question, measure):
    assert analyze(question).measure == measure


@pytest.mark.parametrize("question, sides", [
    # each place keeps its own name and level word; the other place and the comparing words go
    ("So sánh mục tiêu về trẻ em giữa tỉnh Sóc Trăng và huyện Bắc Sơn.",
     [("soc trang", "mục tiêu về trẻ em tỉnh Sóc Trăng và ."), ("bac son", "mục tiêu về trẻ em và huyện Bắc Sơn.")]),
    ("Hạn báo cáo của Quảng Trị và Lào Cai khác nhau thế nào?",
     [("quang tri", "Hạn báo cáo của Quảng Trị và ?"), ("lao cai", "Hạn báo cáo của và Lào Cai ?")]),
])
def test_a_comparison_is_cut_into_one_question_per_place(question, sides):
    from rag.query import Question, comparison_sides

    assert comparison_sides(question, Question.parse(question).names) == sides


@pytest.mark.parametrize("question, parts", [
    # two parties named after "của", the second with a list of its own
    ("Hạn báo cáo hằng năm của doanh nghiệp và của các sở, ngành, địa phương khác nhau thế nào?",
     ["Hạn báo cáo hằng năm của doanh nghiệp ?", "Hạn báo cáo hằng năm của các sở, ngành, địa phương ?"]),
    ("Chế độ báo cáo của cấp tỉnh và cấp xã giống nhau không?",
     ["Chế độ báo cáo của cấp tỉnh không?", "Chế độ báo cáo của cấp xã không?"]),
    # no pair compared
    ("Hạn báo cáo của doanh nghiệp và cơ sở là ngày nào?", []),
])
def test_a_comparison_between_two_parties_is_cut_into_one_question_each(question, parts):
    from rag.query import compared_parties

    assert compared_parties(question) == parts


@pytest.mark.parametrize("sentence, day", [
    ("Báo cáo trước ngày 10/11 hằng năm.", True),
    ("Hằng tháng, gửi báo cáo trước ngày 25.", True),
    ("Quyết định có hiệu lực kể từ ngày ký.", True),
    ("Thực hiện công tác bảo vệ bí mật nhà nước năm 2025.", False),
    ("Hoàn thành trong quý II năm 2026.", False),
    # a cited document's date is not the day asked
    ("Thực hiện Kế hoạch số 321-KH/TU ngày 11/4/2025 của Tỉnh ủy.", False),
])
def test_a_sentence_holds_a_day(sentence, day):
    from rag.selection import holds_day

    assert holds_day(sentence) is day


@pytest.mark.parametrize("measure, sentence, counts", [
    ("lan", "báo cáo 02 lần/ngày (trước 9h00 và 16h00)", True),
    ("lan", "tổ chức lần thứ 2", False),                      # which time, not how many
    ("duration", "Dự kiến khoảng 02 ngày làm việc/01 đơn vị", True),
    ("duration", "hoàn thành trước ngày 15/11/2025", False),  # a date, not a length
    ("duration", "Bản đồ hiện trạng lập 1 năm 1 lần", True),  # how often
    ("duration", "từ ngày 15 tháng 11 năm 2025", False),        # a date written out
    ("money", "Tổng thiệt hại ước trên 4.500 tỷ đồng", True),
    ("money", "hỗ trợ 500 hộ gia đình", False),
    ("money", "Tổng kinh phí thực hiện là 1.250 triệu.", True),
    ("money", "trên 3,5 triệu con gia súc, gia cầm bị thiệt hại", False),  # millions of head, not of đồng
    ("share", "giảm tỷ lệ hộ nghèo xuống còn 1,5%", True),
    ("don vi", "kiểm tra 12 đơn vị", True),
    ("don vi", "Sở Công Thương là đơn vị chủ trì", False),
])
def test_a_sentence_counts_in_the_measure_asked(measure, sentence, counts):
    from ingest.text.normalize import fold
    from rag.selection import counts_in

    assert counts_in(measure, fold(sentence)) is counts


@pytest.mark.parametrize("question", [
    "Các xã gửi báo cáo về đâu?",                       # where to, not to whom
    "Hồ sơ gửi về Sở Tư pháp trước ngày nào?",
    "Các đơn vị báo cáo gửi cho cơ quan nào?",          # where a report goes
])
def test_sending_something_somewhere_is_not_asking_a_documents_recipients(question):
    assert "recipients" not in analyze(question).intents


@pytest.mark.parametrize("question", [
    "Chương trình được đăng ở đâu?",       # a place, not a body
    "Hội nghị tổ chức ở đâu?",
    "Báo cáo kết quả thực hiện trước ngày nào?",
])
def test_a_question_about_a_place_or_a_date_is_not_about_where_something_is_sent(question):
    assert "destination" not in analyze(question).intents


@pytest.mark.parametrize("question, signer", [
    ("Văn bản do ai ký?", True),
    ("Người ký tên trên kế hoạch là ai?", True),
    ("Chữ ký trên công văn là của ai?", True),
    # Negated, "ký tên" / "chữ ký" says a letter is anonymous: the question is about that letter.
    ("Dân gửi đơn tố cáo không ký tên thì có được xem xét không?", False),
    ("Đơn không có chữ ký có được giải quyết không?", False),
])
def test_an_unsigned_letter_is_not_a_question_about_the_signer(question, signer):
    assert ("signer" in analyze(question).intents) is signer


@pytest.mark.parametrize("question, issuer", [
    ("Công văn 12/UBND-VX do cơ quan nào ban hành?", True),
    ("Ai ban hành Kế hoạch 46/KH-UBND?", True),
    ("Kế hoạch kiểm tra này do ai lập?", True),
    ("Công văn 12/UBND-VX là của cơ quan nào?", True),
    ("Việc rà soát hồ sơ là nhiệm vụ của cơ quan nào?", False),  # a task's unit, not a document's issuer
    ("Cơ quan nào lập danh sách hộ nghèo?", False),
])
def test_who_issued_a_document_is_told_from_who_does_a_task(question, issuer):
    assert ("issuer" in analyze(question).intents) is issuer


def test_question_terms_drop_question_words_and_keep_codes():
    terms = analyze("Đơn vị nào phải báo cáo trước ngày 10/11?").terms
    assert {"bao cao", "truoc ngay", "10/11"} <= set(terms)
    assert "nao" not in terms and "phai" not in terms


@pytest.mark.parametrize("question, dropped, kept", [
    ("Giá vàng hôm nay là bao nhiêu?", {"bao", "nhieu", "bao nhieu"}, {"gia vang"}),
    ("gia vang hom nay la bao nhieu?", {"bao", "nhieu"}, {"gia vang"}),  # typed without diacritics
    ("Báo cáo bao nhiêu lần một năm?", {"nhieu", "bao nhieu"}, {"bao", "bao cao"}),  # "báo" is content
    ("Bảo vệ kho trong bao lâu?", {"lau", "bao lau"}, {"bao", "bao ve"}),
    ("Bao giờ nộp báo cáo?", {"gio", "bao gio"}, {"bao cao"}),
])
def test_two_syllable_question_words_are_not_terms(question, dropped, kept):
    terms = set(analyze(question).terms)
    assert not dropped & terms and kept <= terms


def test_abbreviations_are_spelled_out_for_matching():
    assert "lao động thương binh và xã hội" in expand_abbreviations("Sở LĐTBXH làm gì?")
    assert expand_abbreviations("Kế hoạch trẻ em") == "Kế hoạch trẻ em"


@pytest.mark.parametrize("question, names", [
    ("Tỉnh Cà Mau có kế hoạch gì?", ("ca mau",)),
    # punctuation ends a name: the next capitalised words are another name, not its tail
    ("Kế hoạch của Đắk Lắk, Kiên Giang giao gì?", ("dak lak", "kien giang")),
    ("Huyện Bắc Sơn (Lạng Sơn) có bao nhiêu trẻ em?", ("bac son", "lang son")),
    # "Đồng" opens province names (Đồng Nai, Đồng Tháp); "Hội đồng nhân dân" stays no name
    ("Đồng Nai đặt mục tiêu gì cho Hội đồng nhân dân?", ("dong nai",)),
    # a department's field is part of its title, not of the place after it: documents write
    # "Sở Công Thương tỉnh Đắk Lắk" as often as "Sở Công Thương Đắk Lắk"
    ("Sở Công Thương Đắk Lắk báo cáo vào giờ nào?", ("dak lak",)),
    ("Sở Tài Chính Kiên Giang và Sở Khoa học và Công nghệ Lạng Sơn làm gì?", ("kien giang", "lang son")),
    ("Bộ Công Thương gửi công văn cho ai?", ()),
])
def test_proper_names_are_detected_for_out_of_scope_checks(question, names):
    assert analyze(question).names == names


def _doc(text, addressees=()):
    return Document(doc_id="d", file="f.txt", file_sha256="0", kind="txt", text=text,
                    metadata=DocumentMetadata(addressees=list(addressees)))


@pytest.mark.parametrize(
    "text, target, section, units, source",
    [
        ("Giao Sở Y tế chủ trì, phối hợp với các đơn vị liên quan triển khai.", "Giao Sở Y tế", [],
         ("Sở Y tế",), "sentence"),
        ("Đề nghị UBND các xã, thị trấn định kỳ báo cáo 6 tháng (trước ngày 15/5).", "Đề nghị", [],
         ("UBND các xã, thị trấn",), "sentence"),
        ("- Tham mưu UBND huyện kiện toàn Ban chỉ đạo.", "Tham mưu", ["V. TỔ CHỨC THỰC HIỆN", "1. Phòng Y tế"],
         ("Phòng Y tế",), "heading"),
        ("Chủ tịch UBND tỉnh yêu cầu Giám đốc các sở; Chủ tịch UBND các huyện thực hiện một số nội dung như sau:\n\n"
         "1. Báo cáo kết quả trước ngày 10/11.", "1. Báo cáo", [],
         ("Giám đốc các sở", "Chủ tịch UBND các huyện"), "lead-in"),
        ("Báo cáo kết quả thực hiện trước ngày 10/11.", "Báo cáo", [], ("Các sở, ngành",), "addressees"),
        # a heading or a subject naming an activity ("Tổ chức tập huấn") names no unit
        ("- Nội dung thực hiện: Tổ chức tập huấn cho cán bộ.", "- Nội dung",
         ["II. NHIỆM VỤ CỤ THỂ", "3. Tổ chức tập huấn, bồi dưỡng nghiệp vụ"], ("Các sở, ngành",), "addressees"),
        ("Tổ chức tập huấn chủ trì bởi các đơn vị.", "Tổ chức", [], ("Các sở, ngành",), "addressees"),
    ],
)
def test_acting_units_are_resolved_outwards_from_the_sentence(text, target, section, units, source):
    doc = _doc(text, addressees=["Các sở, ngành"])
    start = text.index(target)
    end = text.find(".", start) + 1
    actors = resolve_actors(doc, (start, end), section)
    assert actors.units == units
    assert actors.source == source


@pytest.mark.parametrize("section, units", [
    (["IV. TỔ CHỨC THỰC HIỆN", "3. Sở Tài chính"], ("Sở Tài chính",)),
    (["II. NHIỆM VỤ", "1. Ủy ban nhân dân các xã, phường"], ("Ủy ban nhân dân các xã, phường",)),
    (["IV. TỔ CHỨC THỰC HIỆN"], ()),  # an activity, not a body
    (["II. NHIỆM VỤ, GIẢI PHÁP", "2. Tăng cường kiểm tra, giám sát"], ()),
    (["1. Sở Công Thương", "a) Rà soát các quy định hiện hành"], ("Sở Công Thương",)),  # from an outer heading
    # bodies whose names open otherwise than "Sở / Ban / Cục"
    (["IV. TỔ CHỨC THỰC HIỆN", "7. Thuế tỉnh"], ("Thuế tỉnh",)),
    (["IV. TỔ CHỨC THỰC HIỆN", "8. Kho bạc Nhà nước khu vực IX"], ("Kho bạc Nhà nước khu vực IX",)),
    (["IV. TỔ CHỨC THỰC HIỆN", "9. Bảo hiểm xã hội tỉnh"], ("Bảo hiểm xã hội tỉnh",)),
    (["II. NHIỆM VỤ", "3. Thuế tài nguyên và phí bảo vệ môi trường"], ()),  # a tax, not the tax office
])
def test_the_bodies_a_section_path_names_are_read_from_its_headings(section, units):
    assert heading_units(section) == units


@pytest.mark.parametrize("text, found", [
    ("Hội nghị hiệp thương lần thứ tư tổ chức khi nào?", {"lan": 4}),
    ("(1) Tổ chức hiệp thương lần thứ nhất: chậm nhất ngày 10/12/2025", {"lan": 1}),
    ("báo cáo lần 2 về hóa chất", {"lan": 2}),
    ("giai đoạn II (2026-2030)", {"giai doan": 2}),
    ("Kỷ niệm Ngày Công tác xã hội lần thứ 8", {"lan": 8}),
    ("đợt năm 2025", {}),  # a year, not the fifth round
    ("Hội nghị 02 ngày tại hội trường tầng 3", {}),  # a length, not the second conference
    ("Năm 2024 là lần thứ mấy tổ chức?", {}),  # asks which, names none
])
def test_numbered_occurrences_are_read_by_their_head_word(text, found):
    from ingest.text.normalize import fold_match
    from rag.query import ordinals

    assert ordinals(fold_match(text)) == found


@pytest.mark.parametrize("sentence, directs", [
    ("Báo cáo kết quả thực hiện về Sở Y tế trước ngày 10/11 hằng năm.", True),   # opens with its verb
    ("- Tăng cường phối hợp giữa các cơ quan trong công tác kiểm tra.", True),
    ("Đề nghị quý cơ quan quan tâm phối hợp.", True),
    ("Các đơn vị báo cáo kết quả tiêm chủng về Sở Y tế trước ngày 15/5/2024.", True),  # names its readers
    ("Ngày 29/6/2026, Bộ trưởng Bộ Xây dựng ban hành Quyết định số 1074/QĐ-BXD.", False),  # reports
    ("- Khoản 2 Điều 3 của Thông tư quy định: “Bộ trưởng phân cấp cho Ủy ban nhân dân cấp tỉnh ...”", False),
    ("Ngày 25 tháng 3 năm 2026, Bộ Công Thương ban hành Thông tư số 15/2026/TT-BCT.", False),
    ("4. Bao céo két qua thuc hién hang nam trudc ngay 10/11.", True),  # a scan's spelling of a directive
    ("Từ ngày 01/01 đến ngày 31/3/2026, thực hiện kiểm kê tài sản.", True),  # a period, not a reported act
])
def test_a_letters_addressees_act_on_its_directives_only(sentence, directs):
    assert directs_addressees(sentence, 0, len(sentence)) is directs



@pytest.mark.parametrize("sentence, dated", [
    ("Báo cáo kết quả về Sở Tài chính trước ngày 15/4/2026.", True),
    ("Tổ hoạt động đến khi kết thúc bầu cử, từ tháng 01/2026.", True),
    # a cited document's date dates the document, not what is asked about
    ("Căn cứ Kế hoạch số 77/KH-UBND ngày 17 tháng 9 năm 2025 của Ủy ban nhân dân thành phố;", False),
    ("Thực hiện Quyết định số 1050/QĐ-SCT ngày 06/3/2026 của Giám đốc Sở Công Thương.", False),
    ("Căn cứ Kế hoạch số 77/KH-UBND\nngày 17 tháng 9 năm 2025 của Ủy ban nhân dân", False),  # hard-wrapped
    ("Căn cứ Luật số 85/2015/QH13, ngày 25/6/2015;", False),
    # a path before a deadline is no document number
    ("Tổ nộp báo cáo ![x](http://127.0.0.1:9/pixel.png) trước ngày 15/12/2024.", True),
    # ... but a deadline beside it still counts
    ("Thực hiện Công văn số 12/UBND-VX ngày 02/01/2026, báo cáo trước ngày 10/02/2026.", True),
])
def test_a_sentence_holds_a_date_unless_it_only_dates_a_cited_document(sentence, dated):
    from rag.selection import holds_date

    assert holds_date(sentence) is dated
