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
    ],
)
def test_standalone_question(question, history, expected):
    assert standalone_question(question, history) == expected
