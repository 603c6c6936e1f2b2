"""Follow-up questions: the retrieval query a follow-up gets, what a new topic keeps, and how
the API's messages and the previous turn reach the model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.answering import Turn, history_from_messages, history_prompt, is_followup, rewrite

LEAVE = Turn("How many days of annual leave do full-time staff get?",
             "Full-time staff receive 27 days of annual leave [1].")
FOLLOWUPS = Path(__file__).resolve().parent.parent / "data" / "followups.jsonl"


def test_a_pronoun_followup_gains_the_antecedents_words():
    query = rewrite("And who approves it?", [LEAVE])
    assert query.startswith("And who approves it?")
    for word in ("annual", "leave", "full-time", "staff"):
        assert word in query.lower()


@pytest.mark.parametrize("question", ["What about part-time staff?", "How about sick leave?"])
def test_what_about_keeps_its_own_words_and_gains_the_topic(question):
    query = rewrite(question, [LEAVE])
    assert query.startswith(question)
    assert "annual" in query
    assert query.lower().count("staff") == 1  # a word it already has is not repeated


@pytest.mark.parametrize("question", [
    "How long must passwords be?",
    "Who is the Data Protection Officer?",
    "Is there a fee for a subject access request?",
    "How long does it take to get a fit note?",
    "How do staff report their sickness absence?",
    "where does the bronx get its name from",
])
def test_a_new_topic_is_left_unchanged(question):
    assert not is_followup(question, [LEAVE])
    assert rewrite(question, [LEAVE]) == question


@pytest.mark.parametrize("question", [
    "Can it be carried over?", "Who approves?", "Why?", "How quickly?", "Is that paid?",
    "What is their notice period?", "Which one?", "Also for bank staff?", "How do I get there?",
])
def test_elliptical_and_pronoun_led_questions_are_followups(question):
    assert is_followup(question, [LEAVE])


def test_without_history_nothing_is_a_followup():
    assert not is_followup("And who approves it?", [])
    assert rewrite("And who approves it?", []) == "And who approves it?"
    assert rewrite("  ", [LEAVE]) == "  "


def test_a_chain_of_followups_keeps_the_topic_it_started_from():
    history = [LEAVE, Turn("And who approves it?", "Your line manager [2].")]
    query = rewrite("Can it be carried over?", history)
    assert "annual" in query and "leave" in query


def test_the_previous_question_is_the_topic_not_an_older_one():
    history = [LEAVE, Turn("How long must passwords be?", "At least 14 characters [1].")]
    query = rewrite("How often do they expire?", history)
    assert "passwords" in query and "leave" not in query


def test_a_month_is_a_topic_word():
    query = rewrite("who added it to the calendar?",
                    [Turn("why there are just 28 days in february")])
    assert "february" in query


def test_a_figure_comes_with_the_word_it_belongs_to():
    query = rewrite("What about Severity 2?",
                    [Turn("Who must Severity 1 incidents be escalated to?", "")])
    assert "incidents" in query and " 1 " not in f" {query} "


def test_the_evaluation_sets_new_topics_are_left_alone_and_its_followups_rewritten():
    """benchmarks/followups.py's set: no new topic is touched; nearly every follow-up is (a few
    name their own topic, "where do the eggs come from?", and are searched as asked)."""
    pairs = [json.loads(line) for line in FOLLOWUPS.read_text().splitlines()]
    changed = {p["followup"]: rewrite(p["followup"], [Turn(p["first"])]) != p["followup"]
               for p in pairs}
    assert not [p for p in pairs if p["new_topic"] and changed[p["followup"]]]
    follow = [p for p in pairs if not p["new_topic"]]
    assert len(follow) >= 40 and sum(changed[p["followup"]] for p in follow) >= 0.9 * len(follow)


def test_history_from_messages_pairs_turns_and_joins_the_system_text():
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "system", "content": [{"type": "text", "text": "Use British English."}]},
        {"role": "user", "content": "How many days of annual leave do full-time staff get?"},
        {"role": "assistant", "content": "27 days [1]."},
        {"role": "user", "content": [{"type": "text", "text": "Who approves it?"},
                                     {"type": "image_url", "image_url": {"url": "x"}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Your line manager [1]."}]},
        {"role": "user", "content": "Can it be carried over?"},
    ]
    turns, system = history_from_messages(messages)
    assert turns == [Turn("How many days of annual leave do full-time staff get?", "27 days [1]."),
                     Turn("Who approves it?", "Your line manager [1].")]
    assert system == "Answer briefly.\nUse British English."


def test_history_from_messages_skips_bad_shapes_and_unanswered_turns():
    messages = ["not a message", {"role": "assistant", "content": "Hello, how can I help?"},
                {"role": "user", "content": 42}, {"content": "no role"},
                {"role": "user", "content": "First question?"},
                {"role": "tool", "content": "tool output"},
                {"role": "user", "content": "Second question?"},
                {"role": "user", "content": "Last question?"}]
    turns, system = history_from_messages(messages)
    assert turns == [Turn("First question?", ""), Turn("Second question?", "")]
    assert system is None
    assert history_from_messages([{"role": "user", "content": "Only one?"}]) == ([], None)
    assert history_from_messages([]) == ([], None)


def test_history_prompt_strips_citation_markers_and_truncates_the_answer():
    long_answer = "Full-time staff receive 27 days [1] of annual leave [2, 3]. " + "word " * 100
    text = history_prompt([Turn("Old question?", "Old answer."),
                           Turn("How many days of annual leave?", long_answer)])
    assert text.startswith("Previous question: How many days of annual leave?\n")
    assert "Old question" not in text  # only the last turn by default
    answer = text.splitlines()[1]
    assert answer.startswith("Previous answer: Full-time staff receive 27 days of annual leave.")
    assert "[" not in answer
    assert len(answer.split()) <= 2 + 60 + 1 and answer.endswith("…")


def test_history_prompt_without_history_or_answer():
    assert history_prompt([]) == ""
    assert history_prompt([Turn("Who approves it?")]) == "Previous question: Who approves it?\n"
    two = history_prompt([LEAVE, Turn("Who approves it?", "The line manager.")], limit=2)
    assert two.count("Previous question:") == 2
