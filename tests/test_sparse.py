"""The sparse encoder: folded syllables, bigrams, whole codes, BM25 weights."""

import pytest

from ingest.sparse import encode_document, encode_query, term_id, tokenize


def test_tokens_are_folded_syllables_bigrams_and_codes():
    terms = tokenize("Báo cáo trước ngày 10/11 theo Chỉ thị 28-CT/TW")
    assert {"bao", "cao", "truoc", "bao cao", "truoc ngay", "10/11", "28-ct/tw"} <= set(terms)
    assert "Báo" not in terms


@pytest.mark.parametrize("query", ["báo cáo trước ngày 10/11", "bao cao truoc ngay 10/11", "BÁO CÁO TRƯỚC NGÀY 10/11"])
def test_query_forms_share_terms_with_the_document(query):
    doc = encode_document("Phải báo cáo kết quả, hằng năm trước ngày 10/11", k1=1.2, b=0.75, avg_len=20)
    q = encode_query(query)
    shared = set(q.indices) & set(doc.indices)
    assert {term_id("bao cao"), term_id("truoc ngay"), term_id("10/11")} <= shared
    assert len(shared) == len(q.indices) - 1  # all but the bigram "cao truoc" that the text lacks


def test_ocr_damaged_code_meets_the_clean_code():
    ocr = encode_document("Quyét dinh sb 1183/QDB-TTg ngay 14/10/2024", k1=1.2, b=0.75, avg_len=20)
    assert term_id("1183/qd-ttg") in ocr.indices
    assert set(encode_query("Quyết định số 1183/QĐ-TTg").indices) <= set(ocr.indices)


def test_repeated_terms_saturate_and_long_passages_weigh_less():
    short = encode_document("trẻ em trẻ em", k1=1.2, b=0.75, avg_len=10)
    long = encode_document("trẻ em trẻ em " + "khác " * 40, k1=1.2, b=0.75, avg_len=10)
    tid = term_id("tre em")
    weight = dict(zip(short.indices, short.values))[tid]
    assert 1.0 < weight < 2.2  # tf=2 saturates below k1 + 1
    assert dict(zip(long.indices, long.values))[tid] < weight


def test_vectors_are_sorted_and_deterministic():
    a = encode_query("kế hoạch trẻ em năm 2024")
    assert a.indices == sorted(a.indices)
    assert a == encode_query("kế hoạch trẻ em năm 2024")
