"""The directive register: who must do what by when, numeric targets, and how documents relate.

This package owns the register from extraction to every way it is read back:

* ``models``       SourceRef, Deadline, Obligation, Target, Relation and the Register holding them
* ``spans``        the aligned matching view, sentences per chunk, clauses, a span's SourceRef
* ``deadlines``    the deadline grammar ("trước ngày 10/11", "trong tháng 11/2024", "định kỳ 6 tháng")
* ``obligations``  requirement sentences with a deadline: acting units, action, recipients
* ``targets``      percentages set as targets or reported as baselines
* ``relations``    references between documents by number, ``number_key``, resolution
* ``extract``      one file's register in one call (the ingest run's parse step), REGISTER_VERSION
* ``storage``      register items as index points and back: the only module that knows their payload
* ``terms``        the words an item is found by (stored with it), and a question's candidate terms
* ``queries``      ``next_due``, ``list_obligations``, ``list_targets``, ``unit_key``
* ``exports``      deadline labels, table rows, CSV (Vietnamese headers, formulas neutralised), iCalendar
                   (reminders, repeats ending with the plan's period)
* ``confidence``   how sure the register is of an item (the quiz asks only about sure ones)
* ``graph``        the relation graph and its implementation chains
* ``evidence``     register items that answer a question, and the line each is shown as

It sits above the index (``ingest.store``, ``ingest.index``) and below the ingest run
(``ingest.pipeline``) and answering (``rag``): nothing here imports either.

Precision comes before recall: a wrong unit or date in a register is a defect, a missing one is
a gap that passage retrieval still covers.
"""

from ingest.register.confidence import obligation_confidence, target_confidence
from ingest.register.deadlines import deadlines_in
from ingest.register.evidence import AnalyzedQuestion, Evidence, obligation_line, register_evidence, target_line
from ingest.register.exports import (
    OBLIGATION_COLUMNS,
    OBLIGATION_HEADERS,
    csv_cell,
    deadline_label,
    obligation_row,
    plan_period_end,
    to_csv,
    to_ics,
)
from ingest.register.extract import REGISTER_VERSION, extract_register
from ingest.register.graph import GraphEdge, GraphNode, RelationGraph, build_graph, node_key, relation_graph
from ingest.register.models import Deadline, Obligation, Register, Relation, SourceRef, Target
from ingest.register.obligations import extract_obligations
from ingest.register.queries import list_obligations, list_targets, next_due, unit_key
from ingest.register.relations import extract_references, extract_relations, number_key, resolve_relations
from ingest.register.storage import (
    REGISTER_KINDS,
    as_register,
    load_register,
    register_points,
    terms_indexed,
    upgrade_terms,
)
from ingest.register.targets import extract_targets

__all__ = [
    "OBLIGATION_COLUMNS",
    "OBLIGATION_HEADERS",
    "REGISTER_KINDS",
    "REGISTER_VERSION",
    "AnalyzedQuestion",
    "Deadline",
    "Evidence",
    "GraphEdge",
    "GraphNode",
    "Obligation",
    "Register",
    "Relation",
    "RelationGraph",
    "SourceRef",
    "Target",
    "as_register",
    "build_graph",
    "csv_cell",
    "deadline_label",
    "deadlines_in",
    "extract_obligations",
    "extract_references",
    "extract_register",
    "extract_relations",
    "extract_targets",
    "list_obligations",
    "list_targets",
    "load_register",
    "terms_indexed",
    "upgrade_terms",
    "next_due",
    "node_key",
    "number_key",
    "obligation_confidence",
    "obligation_line",
    "obligation_row",
    "plan_period_end",
    "register_evidence",
    "register_points",
    "relation_graph",
    "resolve_relations",
    "target_confidence",
    "target_line",
    "to_csv",
    "to_ics",
    "unit_key",
]
