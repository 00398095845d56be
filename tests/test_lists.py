"""Titled numbered lists ("Danh sách …") and their entry counts."""

import pytest

from ingest.text.lists import titled_lists

_PLAIN = "Danh sách các đơn vị đề nghị báo cáo lần 2\n1. Công ty A\n2. Công ty B\n3. Công ty C\n"
_TABLE = ("Phụ lục 1: Danh sách các xã đã hoàn thành\n(Kèm theo Công văn số 12/UBND)\n| STT | Xã | Ngày |\n"
          "| 1 | Xã Bình An | 06/03 |\n| 2 | Xã Bình Minh | 07/03 |\n")


@pytest.mark.parametrize("text, counts", [
    (_PLAIN, [3]),
    (_TABLE, [2]),  # a table's STT column, after its attachment line and header row
    (_PLAIN + "\nCác đơn vị khẩn trương thực hiện.\n", [3]),  # the body after the list is not counted
    ("Danh sách đơn vị\n1. A\n2. B\n4. D\n", [2]),  # a number out of sequence ends the list
    ("Danh sách đơn vị\n1. Công ty A\n", []),  # one entry is no list to count
    ("Các đơn vị:\n1. A\n2. B\n", []),  # untitled
    ("Danh sách đơn vị sẽ gửi sau.\n\nĐề nghị các đơn vị:\n- thực hiện\n", []),  # a title with no entries
])
def test_entries_of_a_titled_list_are_counted(text, counts):
    assert [listed.count for listed in titled_lists(text)] == counts


def test_a_list_spans_its_title_to_its_last_entry():
    (listed,) = titled_lists("Kính gửi.\n" + _PLAIN)
    text = "Kính gửi.\n" + _PLAIN
    assert text[listed.start:listed.end] == _PLAIN.rstrip("\n")
    assert listed.last == "3. Công ty C"
