"""Answer metrics and the templated factual questions, table-tested."""
from __future__ import annotations

import pytest

from appliance.evaluation.answers import AnswerRecord, normalize, summarize, token_f1
from appliance.evaluation.factual_questions import definition_item, factual_items


@pytest.mark.parametrize("pred, refs, f1", [
    ("Up to GBP 140 a night [2].", ["up to GBP 140 a night"], 1.0),
    ("The Eiffel Tower", ["Eiffel Tower"], 1.0),  # articles do not count
    ("in 1889", ["1889"], 2 / 3),
    ("Paris", ["London", "Paris"], 1.0),  # best reference
    ("", ["x"], 0.0),
    ("anything", [], 0.0),
])
def test_token_f1(pred, refs, f1):
    assert token_f1(pred, refs) == pytest.approx(f1)


def test_normalize_drops_markers_punctuation_and_case():
    assert normalize("The [1] Answer, is: 42 [12].") == ["answer", "is", "42"]


def test_summarize_scores_each_behaviour():
    records = [
        AnswerRecord(True, ("in 1889",), "In 1889 [1].", False, (1,), 2),
        AnswerRecord(True, ("blue",), "Red.", False, (), 2),
        AnswerRecord(True, ("green",), "I don't know: the documents do not say.", True, (), 2),
        AnswerRecord(False, (), "I don't know: the documents do not say.", True, (), 2),
        AnswerRecord(False, (), "Probably 12 [2].", False, (2,), 2),
    ]
    s = summarize(records)
    assert s["answer_f1"] == pytest.approx(1 / 3, abs=1e-4)  # refusal and wrong answer score 0
    assert s["citation_rate"] == pytest.approx(2 / 3, abs=1e-4)  # of 3 non-refusals
    assert s["refusal_accuracy"] == 0.5
    assert s["false_refusal_rate"] == pytest.approx(1 / 3, abs=1e-4)
    no_sources = summarize([AnswerRecord(True, ("x",), "x", False, (), 0)])
    assert no_sources["citation_rate"] is None


@pytest.mark.parametrize("sentence, question, answer", [
    ("The bridge was completed in 1971 and links the island to the town .",
     "The bridge was completed in which year and links the island to the town?", "1971"),
    ("The survey interviewed 4,500 people across the region last spring .",
     "The survey interviewed how many people across the region last spring?", "4,500 people"),
    ("The novel was written by Mary Shelley in a villa near Geneva .",
     "The novel was written by whom in a villa near Geneva?", "Mary Shelley"),
])
def test_echo_questions(sentence, question, answer):
    items = factual_items(sentence)
    assert [(i.question, i.answer) for i in items] == [(question, answer)]
    assert items[0].answer in sentence


def test_definition_question_from_the_first_sentence():
    item = definition_item("Insulin is a peptide hormone produced by beta cells , which ...")
    assert (item.question, item.answer) == ("What is Insulin?", "a peptide hormone produced by "
                                                                "beta cells")
    assert definition_item("It rained .") is None


def test_the_eval_split_check_reads_the_questions_own_sources():
    """The preamble's example source is not the question's; a label may hold parentheses."""
    from appliance.answering.prompts import Passage, build_prompt
    from appliance.evaluation.adapter_eval import prompt_sources, source_texts

    passages = [Passage("ozark.md, Ozark (TV series)", "The show is set at a resort."),
                Passage("tango.md, Filming", "The first series was filmed in Halifax.")]
    prompt = build_prompt("Where was it filmed?", passages, lambda t: len(t.split()),
                          2048, 100).text
    assert source_texts(prompt) == ["The show is set at a resort.",
                                    "The first series was filmed in Halifax."]
    assert prompt_sources(prompt) == 2
    assert source_texts(build_prompt("Where?", [], lambda t: len(t.split()), 2048, 100).text) == []
