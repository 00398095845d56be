"""The "Đào tạo" tab: summary cards of every document, and a quiz on the extracted facts."""

from __future__ import annotations

import logging

import gradio as gr

from ingest.register import build_graph
from ingest.settings import Settings
from rag.web.services import Services
from rag.web.training import (QuizQuestion, cards_html, check_html, make_quiz, question_markdown, record_answer,
                              score_html, summary_cards)

log = logging.getLogger(__name__)

QUIZ_SIZE = 5
NO_QUIZ = "_Chưa đủ dữ liệu (nhiệm vụ, thời hạn, chỉ tiêu) trong kho để tạo câu hỏi._"


class TrainingPage:
    """The quiz lives in ``quiz`` (a ``gr.State`` of question dicts) and ``current`` (an index)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.build()
        self.register_events()

    def build(self) -> None:
        with gr.Accordion("Tóm tắt văn bản", open=True):
            self.cards = gr.HTML(self.cards_html(), elem_id="cv-train-cards")
        gr.Markdown("### Câu hỏi ôn tập\nCâu hỏi được tạo từ nhiệm vụ, thời hạn và chỉ tiêu trích từ văn bản "
                    "(chỉ những mục trích được chắc chắn: đơn vị nêu trong văn bản, thời hạn ghi rõ). "
                    "Chọn đáp án rồi bấm “Kiểm tra” để xem đúng/sai và câu trích nguồn.")
        with gr.Row():
            self.seed = gr.Number(label="Mã bộ câu hỏi", value=1, precision=0, minimum=0, scale=1,
                                  elem_id="cv-quiz-seed")
            self.new = gr.Button("Tạo bộ câu hỏi", scale=1, elem_id="cv-quiz-new")
        quiz = self.make(1)
        first = QuizQuestion.from_dict(quiz[0]) if quiz else None
        self.quiz = gr.State(quiz)
        self.current = gr.State(0)
        self.question = gr.Markdown(question_markdown(first, 1, len(quiz)) if first else NO_QUIZ,
                                    elem_id="cv-quiz-question")
        self.choice = gr.Radio(choices=first.options if first else [], value=None, label="Phương án",
                               elem_id="cv-quiz-choice")
        with gr.Row():
            self.check = gr.Button("Kiểm tra", variant="primary", elem_id="cv-quiz-check")
            self.next = gr.Button("Câu tiếp theo", elem_id="cv-quiz-next")
        self.result = gr.HTML("", elem_id="cv-quiz-result")
        # Each question's first check, {str(index): correct}; a new quiz starts it again.
        self.score = gr.State({})
        self.score_view = gr.HTML(score_html({}, len(quiz)), elem_id="cv-quiz-score")

    def register_events(self) -> None:
        self.check.click(self.verify, inputs=[self.quiz, self.current, self.choice, self.score],
                         outputs=[self.result, self.score, self.score_view], api_visibility="private")
        self.next.click(self.show, inputs=[self.quiz, self.current],
                        outputs=[self.current, self.question, self.choice, self.result], api_visibility="private")
        self.new.click(self.new_quiz, inputs=[self.seed], outputs=self.quiz_outputs, api_visibility="private")

    def make(self, seed) -> list[dict]:
        try:
            settings = getattr(self.services, "settings", None)
            threshold = settings.quiz_min_confidence if settings is not None else Settings().quiz_min_confidence
            return [q.to_dict() for q in make_quiz(self.services.assistant.register, int(seed or 0), QUIZ_SIZE,
                                                   min_confidence=threshold)]
        except Exception:
            log.exception("making a quiz failed")
            return []

    def cards_html(self) -> str:
        try:
            documents = self.services.documents()
            register = self.services.assistant.register
            graph = build_graph(documents, register.relations)
            implements: dict[str, list[str]] = {}
            for e in graph.edges:
                source, target = graph.node(e.source), graph.node(e.target)
                if e.kind == "implements" and source and source.doc_id and target:
                    implements.setdefault(source.doc_id, []).append(target.number or target.label)
            return cards_html(summary_cards(documents, register, implements))
        except Exception:
            log.exception("building summary cards failed")
            return '<div class="cv-empty cv-bad">Không tạo được bản tóm tắt văn bản.</div>'

    def verify(self, quiz: list[dict], current: int, chosen: str | None, score: dict | None = None):
        """The verdict, and the score with this question counted (once, and only when an option was chosen)."""
        if not quiz:
            return "", gr.skip(), gr.skip()
        index = current % len(quiz)
        q = QuizQuestion.from_dict(quiz[index])
        if not chosen:
            return check_html(q, chosen), gr.skip(), gr.skip()
        score = record_answer(score, index, chosen == q.options[q.answer])
        return check_html(q, chosen), score, score_html(score, len(quiz))

    def show(self, quiz: list[dict], current: int, step: int = 1):
        if not quiz:
            return 0, NO_QUIZ, gr.update(choices=[], value=None), ""
        n = (current + step) % len(quiz)
        q = QuizQuestion.from_dict(quiz[n])
        return n, question_markdown(q, n + 1, len(quiz)), gr.update(choices=q.options, value=None), ""

    def new_quiz(self, seed):
        quiz = self.make(seed)
        return (quiz, *self.show(quiz, 0, step=0), {}, score_html({}, len(quiz)))

    @property
    def quiz_outputs(self) -> list:
        return [self.quiz, self.current, self.question, self.choice, self.result, self.score, self.score_view]

    def reload(self, seed):
        """Fresh cards and quiz (after an upload, or when a page is opened)."""
        return (self.cards_html(), *self.new_quiz(seed))

    @property
    def reload_inputs(self) -> list:
        return [self.seed]

    @property
    def reload_outputs(self) -> list:
        return [self.cards, *self.quiz_outputs]
