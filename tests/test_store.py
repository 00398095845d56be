"""The same store contract on embedded Qdrant Edge and on qdrant-client (the server's API)."""

import pytest
from qdrant_client import QdrantClient

from ingest.errors import IndexLockedError
from ingest.sparse import encode_document, encode_query
from ingest.store import REGISTER, Condition, EdgeStore, PointRecord, ServerStore, point_id

DIM = 4


def _chunk(key, dense, text, **payload):
    return PointRecord(point_id(key), {"kind": "chunk", "key": key, **payload}, dense,
                       encode_document(text, k1=1.2, b=0.75, avg_len=10))


POINTS = [
    _chunk("a", [1, 0, 0, 0], "báo cáo kết quả trước ngày 10/11", file="f1.txt", doc_id="d1", date_key=20241120),
    _chunk("b", [0, 1, 0, 0], "kế hoạch công tác trẻ em năm 2024", file="f2.txt", doc_id="d2", date_key=20240300),
    _chunk("c", [0.7, 0.7, 0, 0], "trẻ em được học bơi an toàn", file="f2.txt", doc_id="d2", date_key=20240300),
    PointRecord(point_id("doc:d1"), {"kind": "document", "file": "f1.txt", "doc_id": "d1"}),
]


@pytest.fixture(params=["edge", "server"])
def store(request, tmp_path):
    s = EdgeStore(tmp_path / "shard", DIM) if request.param == "edge" else ServerStore(
        QdrantClient(location=":memory:"), "test", DIM)
    s.upsert(POINTS)
    yield s
    s.close()


def _keys(hits):
    return [h.payload["key"] for h in hits]


def test_counts_by_kind(store):
    assert store.count() == 4
    assert store.count([Condition("kind", "chunk")]) == 3
    assert store.count([Condition("kind", "document")]) == 1


@pytest.mark.parametrize(
    "mode, weights, expected",
    [
        ("dense", (1.0, 1.0), ["a", "c", "b"]),
        ("sparse", (1.0, 1.0), ["b", "c"]),
        # dense ranks a, c, b and sparse ranks b, c; Qdrant's RRF scores 1/(k + rank0), so with
        # k=2: b = 1/2 + 1/4, c = 1/3 + 1/3, a = 1/2.
        ("hybrid", (1.0, 1.0), ["b", "c", "a"]),
    ],
)
def test_each_mode_ranks_by_its_own_signal(store, mode, weights, expected):
    hits = store.search(dense=[1, 0.05, 0, 0], sparse=encode_query("kế hoạch trẻ em"), mode=mode, limit=3,
                        conditions=[Condition("kind", "chunk")], rrf_k=2, weights=weights)
    assert _keys(hits) == expected


@pytest.mark.parametrize("weights, first", [((1.0, 1.0), "c"), ((1.0, 0.1), "a")])
def test_distribution_based_fusion_weighs_each_ranking(store, weights, first):
    """Dense ranks a, c, b and sparse c, b: with DBSF the weights decide (Qdrant's own takes none)."""
    hits = store.search(dense=[1, 0.05, 0, 0], sparse=encode_query("trẻ em học bơi"), mode="hybrid", limit=3,
                        conditions=[Condition("kind", "chunk")], weights=weights, fusion="dbsf")
    assert _keys(hits)[0] == first
    assert hits[0].payload["file"]  # hits carry their payload
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_unaccented_sparse_query_finds_accented_text(store):
    hits = store.search(dense=None, sparse=encode_query("bao cao truoc ngay 10/11"), mode="sparse", limit=3)
    assert _keys(hits)[0] == "a"


def test_a_second_sparse_vector_is_searched_apart_and_leaves_the_chunks_scores_alone(store):
    """Register items rank by the ``register`` vector: its points never answer a chunk search, and
    adding them changes no chunk's score (IDF counts the points carrying each vector)."""
    query = encode_query("kế hoạch trẻ em")
    before = [(h.id, h.score) for h in store.search(dense=None, sparse=query, mode="sparse", limit=3)]
    items = [PointRecord(point_id(f"item{i}"), {"kind": "obligation", "key": f"item{i}", "n": i},
                         sparse=encode_document(text, k1=1.2, b=0.75, avg_len=10), sparse_name=REGISTER)
             for i, text in enumerate(["trẻ em học bơi", "kế hoạch trẻ em năm 2024 của xã", "báo cáo tài chính"])]
    store.upsert(items)
    assert [(h.id, h.score) for h in store.search(dense=None, sparse=query, mode="sparse", limit=3)] == before
    hits = store.search(dense=None, sparse=query, mode="sparse", limit=2, sparse_name=REGISTER, fields=["key"])
    assert [h.payload for h in hits] == [{"key": "item1"}, {"key": "item0"}]  # only the fields asked for
    assert store.add_missing_vectors() == []  # made with both


@pytest.mark.parametrize(
    "conditions, expected",
    [
        ([Condition("file", "f2.txt")], {"b", "c"}),
        ([Condition("doc_id", any_of=("d1",))], {"a"}),
        ([Condition("date_key", gte=20240101, lte=20240630)], {"b", "c"}),
        ([Condition("date_key", gte=20241001)], {"a"}),
    ],
)
def test_filters(store, conditions, expected):
    hits = store.search(dense=[1, 1, 0, 0], sparse=None, mode="dense", limit=10,
                        conditions=[Condition("kind", "chunk"), *conditions])
    assert set(_keys(hits)) == expected


def test_delete_by_file_removes_all_its_points(store):
    store.delete([Condition("file", "f1.txt")])
    assert store.count() == 2
    assert store.retrieve([point_id("a"), point_id("b")])[0]["key"] == "b"


def test_scroll_returns_payloads(store):
    assert sorted(p["key"] for p in store.scroll([Condition("kind", "chunk")])) == ["a", "b", "c"]


def test_scroll_can_read_only_some_fields(store):
    found = store.scroll([Condition("file", "f2.txt")], fields=["key", "doc_id"])
    assert sorted(found, key=lambda p: p["key"]) == [{"key": "b", "doc_id": "d2"}, {"key": "c", "doc_id": "d2"}]


def test_scroll_can_read_one_key_of_a_nested_payload(store):
    # Register evidence reads an item's id and stored terms, not the item.
    store.upsert([PointRecord(point_id("item:1"), {"kind": "obligation", "match": {"own": ["a"]},
                                                   "obligation": {"id": "x:o1", "action": "báo cáo"}})])
    found = store.scroll([Condition("kind", "obligation")], fields=["match", "obligation.id"])
    assert found == [{"match": {"own": ["a"]}, "obligation": {"id": "x:o1"}}]


def test_edge_index_persists_and_refuses_a_second_process_handle(tmp_path):
    first = EdgeStore(tmp_path / "shard", DIM)
    first.upsert(POINTS)
    with pytest.raises(IndexLockedError, match="open in another process"):
        EdgeStore(tmp_path / "shard", DIM)
    first.close()
    reopened = EdgeStore(tmp_path / "shard", DIM)
    assert reopened.count([Condition("kind", "chunk")]) == 3
    reopened.close()



def test_edge_writes_are_sealed_into_bounded_segments_and_stay_searchable(tmp_path):
    """An ingest larger than a segment is sealed into several bounded segments as it goes (what
    keeps its memory bounded), and nothing written is lost or unsearchable across the seals."""
    import json

    import numpy as np

    import threading

    dim, total = 384, 24_000
    store = EdgeStore(tmp_path / "shard", dim, segment_max_mb=16, segment_count=8)
    vectors = np.random.default_rng(0).standard_normal((total, dim), dtype=np.float32).tolist()
    # Questions keep coming while the file is written, as in the web app during an upload: a seal
    # swapping the shard must not fail one of them.
    errors, asked, writing = [], [0], threading.Event()
    writing.set()

    def ask() -> None:
        while writing.is_set():
            try:
                store.search(dense=vectors[0], sparse=encode_query("văn bản số 1"), mode="hybrid", limit=3)
                asked[0] += 1
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        for start in range(0, total, 500):
            store.upsert([PointRecord(point_id(f"p{i}"), {"kind": "chunk", "key": f"p{i}", "file": f"f{i // 50}.txt"},
                                      vectors[i], encode_document(f"văn bản số {i}", k1=1.2, b=0.75, avg_len=10))
                          for i in range(start, start + 500)])
    finally:
        writing.clear()
        asker.join()
    assert not errors and asked[0] > 0
    # 24,000 points of 384 floats and a few sparse terms are about 37 MB: two seals of 16 MB (the
    # engine leaves a segment under about 10 MB as written), and the rest still in the growing one.
    assert store._engine().info().segments_count >= 3
    assert store.count([Condition("kind", "chunk")]) == total
    for i in (0, 12_345, total - 1):  # one point from each segment, found by its own vector and words
        assert _keys(store.search(dense=vectors[i], sparse=None, mode="dense", limit=1))[0] == f"p{i}"
        assert f"p{i}" in _keys(store.search(dense=None, sparse=encode_query(f"văn bản số {i}"), mode="sparse",
                                             limit=5))
    store.close()
    config = json.loads((tmp_path / "shard" / "edge_config.json").read_text())["optimizers"]
    assert (config["max_segment_size"], config["default_segment_number"]) == (16 * 1024, 8)
    reopened = EdgeStore(tmp_path / "shard", dim)
    assert reopened.count([Condition("kind", "chunk")]) == total
    reopened.close()


def _old_layout_shard(path):
    """A shard as the previous version wrote it: payload indexes with the engine's defaults
    (kept in RAM, rebuilt whole each time the shard opens)."""
    import qdrant_edge as qe

    from ingest.schema import INTEGER_FIELDS, KEYWORD_FIELDS

    path.mkdir(parents=True)
    shard = qe.EdgeShard.create(str(path), qe.EdgeConfig(
        vectors={"dense": qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine)},
        sparse_vectors={"sparse": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}))
    for name in KEYWORD_FIELDS:
        shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))
    for name in INTEGER_FIELDS:
        shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Integer))
    shard.flush()
    shard.close()


def _placement(store):
    import qdrant_edge as qe

    return {name: info.params.memory if info.params is not None else None
            for name, info in store._engine().info().payload_schema.items()}


def _laid_out(store):
    """Every payload index on disk but ``terms``, which every question filters by, in RAM."""
    import qdrant_edge as qe

    return all(memory == (qe.Memory.Pinned if name == "terms" else qe.Memory.Cold)
               for name, memory in _placement(store).items())


def test_edge_payload_indexes_are_kept_on_disk_and_an_older_layout_is_moved_once(tmp_path):
    new = EdgeStore(tmp_path / "new", DIM)
    assert _laid_out(new) and new.upgrade_layout() == 0
    new.close()

    _old_layout_shard(tmp_path / "old")
    old = EdgeStore(tmp_path / "old", DIM)
    old.upsert(POINTS)
    assert set(_placement(old).values()) == {None}
    announced = []
    moved = old.upgrade_layout(announce=announced.append)
    assert moved == len(_placement(old)) == announced[0]
    old.close()
    reopened = EdgeStore(tmp_path / "old", DIM)
    assert _laid_out(reopened) and reopened.upgrade_layout() == 0
    # The rebuilt indexes filter as before: keyword, any-of and integer range conditions.
    for conditions, expected in [([Condition("file", "f2.txt")], {"b", "c"}),
                                 ([Condition("doc_id", any_of=("d1",))], {"a"}),
                                 ([Condition("date_key", gte=20240101, lte=20240630)], {"b", "c"})]:
        hits = reopened.search(dense=[1, 1, 0, 0], sparse=None, mode="dense", limit=10,
                               conditions=[Condition("kind", "chunk"), *conditions])
        assert set(_keys(hits)) == expected
    reopened.close()
