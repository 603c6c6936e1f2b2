"""Training examples built over the appliance's own retrieval look exactly like serving prompts,
and are labelled by what the retrieved context actually holds."""
import pytest

from appliance.answering.prompts import PREAMBLE, REFUSAL
from appliance.evaluation.grounded_data import Doc, QAItem
from appliance.evaluation.retrieved_data import (
    ServingPrompts,
    balance_refusals,
    clapnq_retrieved,
    factual_retrieved,
)

DOCS = {
    "p1": ("Lighthouses", "The Bell Rock Lighthouse was completed in 1810 by Robert Stevenson. "
           "Its light was first lit on 1 February 1811 and it still guides ships today."),
    "p2": ("Tea", "Green tea is made from leaves that are not withered and oxidized. "
           "The tea plant grows best in warm climates with plenty of rain."),
    "p3": ("Volcanoes", "Mount Etna is an active stratovolcano on the east coast of Sicily. "
           "It is one of the tallest active volcanoes in Europe."),
}


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def prompts(app_factory, tmp_path):
    app = app_factory(retrieval_k=2)
    for doc_id, (title, text) in DOCS.items():
        app.ingest.ingest_bytes(f"{doc_id}.md", f"# {title}\n\n{text}\n".encode())
    return ServingPrompts(app, words, 2048, 100)


def test_answer_cites_the_retrieved_chunk_that_holds_it(prompts):
    q = QAItem("q1", "when was the bell rock lighthouse completed", True,
               ("The Bell Rock Lighthouse was completed in 1810 by Robert Stevenson.",), ("p1",))
    [ex] = clapnq_retrieved(prompts, [q])
    assert ex["prompt"].startswith(PREAMBLE) and ex["prompt"].endswith(
        "Question: when was the bell rock lighthouse completed\nAnswer:")
    number = ex["completion"].split("[", 1)[1].split("]")[0]
    source_line = next(line for line in ex["prompt"][len(PREAMBLE):].splitlines()
                       if line.startswith(f"[{number}] ("))
    assert "p1.md" in source_line and "1810" in source_line
    assert ex["completion"] == (f" According to [{number}]: The Bell Rock Lighthouse was "
                                "completed in 1810 by Robert Stevenson.\n")
    assert ex["source"] == "clapnq"


def test_missed_or_unanswerable_questions_teach_the_refusal(prompts):
    missed = QAItem("q2", "who designed the eiffel tower", True,
                    ("Gustave Eiffel's company designed and built the tower.",), ("p9",))
    unanswerable = QAItem("q3", "how hot is the lava of mount etna", False, (), ("p3",))
    out = clapnq_retrieved(prompts, [missed, unanswerable])
    assert [e["completion"] for e in out] == [f" {REFUSAL}\n"] * 2
    assert [e["source"] for e in out] == ["clapnq-missed", "clapnq-unanswerable"]
    assert all(e["prompt"][len(PREAMBLE):].startswith("Sources:\n[1] (p")
               for e in out)  # real retrieved context, not "(none)"


def test_factual_refusals_never_show_the_answer(prompts):
    docs = [Doc(doc_id, title, text) for doc_id, (title, text) in DOCS.items()]
    out = factual_retrieved(prompts, docs, n_answer=1, n_refuse=1, seed=0)
    answered = [e for e in out if not e["completion"].startswith(f" {REFUSAL}")]
    refused = [e for e in out if e["completion"].startswith(f" {REFUSAL}")]
    assert answered and refused
    for ex in refused:
        sources = ex["prompt"].split("Sources:\n")[-1].split("Question:")[0]
        assert ex["answer"].lower() not in sources.lower()
    for ex in answered:
        assert ex["answer"] in ex["completion"]


def test_balance_keeps_every_answer_and_the_refusal_share():
    answered = [{"completion": f" fact {i} [1].\n"} for i in range(70)]
    refusals = [{"completion": f" {REFUSAL}\n", "i": i} for i in range(100)]
    out = balance_refusals(answered + refusals, 0.3, seed=0)
    assert sum(e in answered for e in out) == 70
    assert sum(e["completion"].strip() == REFUSAL for e in out) == 30
