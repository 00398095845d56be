"""Follow-up questions rewritten to stand alone, without an LLM."""

import pytest

from rag.conversation import standalone_question


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("còn huyện Bắc Sơn thì sao?", ["Đơn vị nào phải báo cáo trước ngày 10/11 ở tỉnh Kiên Giang?"],
         "Đơn vị nào phải báo cáo trước ngày 10/11 ở huyện Bắc Sơn?"),
        ("còn tỉnh Sóc Trăng?", ["UBND tỉnh Kiên Giang yêu cầu báo cáo khi nào?"],
         "UBND tỉnh Sóc Trăng yêu cầu báo cáo khi nào?"),
        ("còn Sở Lao động - Thương binh và Xã hội thì sao", ["Phòng Giáo dục và Đào tạo phải làm gì?"],
         "Sở Lao động - Thương binh và Xã hội phải làm gì?"),
        ("còn huyện Bắc Sơn thì sao?", ["Đơn vị nào phải báo cáo trước ngày 10/11?"],
         "Đơn vị nào phải báo cáo trước ngày 10/11 ở huyện Bắc Sơn?"),
        ("Ai ký văn bản này?", ["Công văn 3452/UBND-VX yêu cầu gì?"], "Ai ký văn bản này (3452/UBND-VX)?"),
        # a full question stands alone already
        ("Mục tiêu về giáo dục trẻ em là gì?", ["UBND tỉnh Kiên Giang yêu cầu báo cáo khi nào?"],
         "Mục tiêu về giáo dục trẻ em là gì?"),
        # nothing to resolve against
        ("còn huyện Bắc Sơn thì sao?", [], "còn huyện Bắc Sơn thì sao?"),
        # a document replaces the document of the previous question (type word kept for a bare number)
        ("còn Kế hoạch 77/KH-UBND thì sao?", ["Xã Tân Lập phải làm gì theo Kế hoạch 45/KH-UBND?"],
         "Xã Tân Lập phải làm gì theo Kế hoạch 77/KH-UBND?"),
        ("còn 77/KH-UBND?", ["Kế hoạch số 45/KH-UBND giao việc gì cho xã Tân Lập?"],
         "Kế hoạch số 77/KH-UBND giao việc gì cho xã Tân Lập?"),
        # a date is not a document: the place is replaced, the date kept
        ("còn xã Hòa Bình?", ["Ai phải nộp báo cáo trước ngày 15/12 ở xã An Phú?"],
         "Ai phải nộp báo cáo trước ngày 15/12 ở xã Hòa Bình?"),
        # the deadline of what the previous question asked about
        ("hạn là khi nào?", ["Đơn vị nào phải nộp báo cáo quý về Phòng Nội vụ?"],
         "Thời hạn phải nộp báo cáo quý về Phòng Nội vụ là khi nào?"),
        ("thời hạn?", ["Xã Tân Lập phải làm gì theo Kế hoạch 45/KH-UBND?"],
         "Thời hạn Xã Tân Lập phải làm theo Kế hoạch 45/KH-UBND là khi nào?"),
        ("han la khi nao", ["Ai phải tổng hợp danh sách hộ nghèo?"],
         "Thời hạn phải tổng hợp danh sách hộ nghèo là khi nào?"),
        ("Còn hạn chót thì sao?", ["Cơ quan nào phải gửi kết quả rà soát?"],
         "Thời hạn phải gửi kết quả rà soát là khi nào?"),
        # the signer of the document the previous question named
        ("ai ký văn bản đó?", ["Kế hoạch số 45/KH-UBND giao việc gì?"], "ai ký văn bản đó (45/KH-UBND)?"),
        ("văn bản này do ai ký?", ["Thông báo 9/TB-UBND có nội dung gì?"], "văn bản này do ai ký (9/TB-UBND)?"),
        # no document named: the place stands for it, never a date
        ("ai ký văn bản đó?", ["Đơn vị nào phải báo cáo trước ngày 10/11 ở huyện Cao Lộc?"],
         "ai ký văn bản đó (huyện Cao Lộc)?"),
        # a chain of follow-ups keeps the first question's content
        ("còn huyện Hòa An?", ["Đơn vị nào phải báo cáo ở huyện Cao Lộc?", "còn huyện Lộc Bình?"],
         "Đơn vị nào phải báo cáo ở huyện Hòa An?"),
        ("hạn là khi nào?", ["Đơn vị nào phải báo cáo ở huyện Cao Lộc?", "còn huyện Lộc Bình?"],
         "Thời hạn phải báo cáo ở huyện Lộc Bình là khi nào?"),
        # a full question about deadlines is not a follow-up
        ("Thời hạn nộp báo cáo quý của xã Tân Lập là khi nào?", ["Ai ký Kế hoạch 45/KH-UBND?"],
         "Thời hạn nộp báo cáo quý của xã Tân Lập là khi nào?"),
    ],
)
def test_standalone_question(question, history, expected):
    assert standalone_question(question, history) == expected
