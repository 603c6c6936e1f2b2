"""Which path an answer takes (generated, quoted, refused), on measured verdicts."""
import pytest

from appliance.answering.evidence import Evidence, EvidenceFinder
from appliance.answering.prompts import REFUSAL, Passage
from appliance.answering.support_check import SupportCheck
from appliance.answering.verification import Verdict, decide, measure

PASSAGES = [Passage("ir.docx", "Severity 1 incidents are escalated to the CISO within 15 minutes. "
                               "The Chief Executive must be informed of every Severity 1 incident "
                               "within 2 hours."),
            Passage("it.md", "Passwords must be at least 14 characters long.")]
FINDER = EvidenceFinder()  # keywords only: no embedder in unit tests


def verdict(question: str, answer: str) -> Verdict:
    return measure(question, answer, PASSAGES, SupportCheck(), FINDER)


def test_a_supported_answer_on_the_best_sentence_is_shown_as_generated():
    v = verdict("How many characters must passwords have at least?",
                "At least 14 characters [2].")
    text, path, reason = decide(v, 0.3, 0.7)
    assert path == "generated" and text.startswith("At least 14") and reason == ""


def test_a_figure_read_off_the_wrong_sentence_gives_way_to_the_better_one():
    v = verdict("Within what time must the Chief Executive hear of a Severity 1 incident?",
                "Within 15 minutes [1].")
    assert v.supported and not v.anchored_on_best  # 15 minutes is in the passage...
    text, path, reason = decide(v, 0.3, 0.7)
    assert path == "quoted" and "2 hours" in text and "better" in reason


def test_an_answer_that_only_repeats_the_question_is_not_an_answer():
    v = verdict("Who must be informed of every Severity 1 incident?",
                "Every Severity 1 incident must be informed [1].")
    assert not v.supported and "repeats the question" in v.reason
    assert decide(v, 0.3, 0.7)[1] == "quoted"


def test_a_refusal_stands_unless_a_sentence_answers_well_enough():
    v = verdict("Within what time must the Chief Executive be informed?", REFUSAL)
    assert v.model_refused
    assert decide(v, 0.3, 1.0)[1] == "refused"
    assert decide(v, 0.3, 0.2)[1] == "quoted"


def test_below_the_evidence_threshold_the_appliance_refuses():
    v = Verdict("GBP 10 a day [1].", False, False, "not in the cited passage: 10", None,
                Evidence(1, "Passwords must be at least 14 characters long.", 0.2))
    text, path, reason = decide(v, 0.35, 0.7)
    assert (text, path) == (REFUSAL, "refused") and "10" in reason


def test_the_right_answer_with_the_wrong_marker_is_cited_to_the_passage_that_holds_it():
    v = verdict("How many characters must passwords have at least?",
                "At least 14 characters [1].")
    assert v.supported and v.text == "At least 14 characters [2]."
    assert decide(v, 0.3, 0.7) == ("At least 14 characters [2].", "generated", "")


def test_a_sentence_repeated_by_overlapping_chunks_is_quoted_once():
    repeated = "The Chief Executive must be informed of every Severity 1 incident within 2 hours."
    passages = [Passage("ir.docx", repeated), Passage("ir.docx", repeated + " Then report.")]
    v = measure("Within what time must the Chief Executive be informed?", REFUSAL, passages,
                SupportCheck(), FINDER)
    text, path, _ = decide(v, 0.3, 0.2)
    assert path == "quoted" and text.count("within 2 hours") == 1


def test_a_who_question_is_answered_only_by_a_sentence_naming_someone():
    """Issue 19: a person asked, no one named in the evidence → that sentence does not
    answer. A role or a body counts as someone ("the line manager", "the service desk")."""
    from appliance.answering.evidence import rank

    passages = ["Annual leave requests must be made at least two weeks in advance. "
                "Requests are approved by the line manager."]
    # the first sentence holds more of the question's words, but names no one
    assert rank("Who approves annual leave requests?", passages)[0].sentence == \
        "Requests are approved by the line manager."
    assert rank("Why must annual leave requests be made?", passages)[0].sentence.startswith(
        "Annual leave requests must be made")
    alone = ["Annual leave requests must be made at least two weeks in advance."]
    who = rank("Who approves annual leave requests?", alone)[0].score
    why = rank("Why are annual leave requests approved?", alone)[0].score
    assert who == pytest.approx(0.25 * why)  # the same words matched; the who-question's sentence discounted


def test_how_often_is_answered_by_a_frequency_in_words_too():
    """"How often must passwords be changed?" The handbook: "Passwords do not expire on a fixed
    schedule." No figure, but it answers; a sentence saying nothing of how often still does
    not."""
    from appliance.answering.evidence import rank

    passages = ["Passwords must be changed by their owner. "
                "Passwords do not expire on a fixed schedule."]
    # the first sentence holds more of the question's words, but says nothing of how often
    assert rank("How often must passwords be changed?", passages)[0].sentence == \
        "Passwords do not expire on a fixed schedule."
    assert rank("How often is the policy reviewed?", ["The policy is reviewed every year by "
                                                       "the board."])[0].score > 0.5


def test_a_where_question_is_answered_by_a_sentence_naming_a_place():
    """"Where are the improvement actions tracked?" The sentence about the actions names no
    place; the one saying "tracked in the RiskTrack register" does. A question about where
    something comes from asks for an origin, not a place, and is left alone."""
    from appliance.answering.evidence import asks_for_place, rank

    passages = ["The review produces a written report with root causes and improvement "
                "actions, each with an owner. Actions are tracked in the RiskTrack register."]
    question = "Where are the improvement actions from the review tracked?"
    assert rank(question, passages)[0].sentence == \
        "Actions are tracked in the RiskTrack register."
    assert rank("Why are improvement actions from the review tracked?",
                passages)[0].sentence.startswith("The review produces")
    assert asks_for_place("Where is the world's largest man-made lake?")
    assert not asks_for_place("where do the ashes come from that they use on ash wednesday")
    assert not asks_for_place("Who decides where the review is held?")


def test_an_answer_leaving_out_the_name_asked_for_gives_way_to_the_quote():
    """"Which team audits access?" → "The team audits access every week." says something new
    (every week) but not which team: the sentence naming it is quoted instead."""
    passages = [Passage("privacy.html", "Every access to the electronic patient record is "
                                        "logged, and the Privacy Monitoring Team audits access "
                                        "logs every week using automated alerts.")]
    question = "Which team audits access to the electronic patient record?"
    v = measure(question, "The team audits access to the electronic patient record every "
                "week using automated alerts.", passages, SupportCheck(), FINDER)
    assert not v.supported and "name" in v.reason
    text, path, _ = decide(v, 0.3, 0.7)
    assert path == "quoted" and "Privacy Monitoring Team" in text
    named = measure(question, "The Privacy Monitoring Team [1].", passages, SupportCheck(),
                    FINDER)
    assert named.supported and decide(named, 0.3, 0.7)[1] == "generated"


def test_names_what_is_asked():
    from appliance.answering.verification import names_what_is_asked

    assert names_what_is_asked("RosterPoint [1].", "Which system do I book my holiday in?")
    assert names_what_is_asked("Use the GlobalProtect VPN [1].", "Which VPN should I use?")
    assert not names_what_is_asked("Use the VPN.", "Which VPN should I use?")
    assert names_what_is_asked("Midna [1]", "What is the name of the creature?")
    assert not names_what_is_asked("The CISO can open a standing conference line.",
                                   "What conference line can the CISO open?")
    assert names_what_is_asked("14 characters.", "How long must passwords be?")  # not asked
