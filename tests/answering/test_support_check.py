"""The support check: every figure, date, code and name of an answer must be in the passage it
cites (or the question); the rest of its words largely too."""
import pytest

from appliance.answering.support_check import SupportCheck, units

LEAVE = ("Full-time staff are entitled to 27 days of annual leave a year plus bank holidays. "
         "Requests are approved by the line manager at least 14 days in advance.")
PARENTAL = "Shared parental leave may be taken in up to three blocks of at least 12.5 days."
FINANCE = ("The chief financial officer's salary band for 2026 is GBP 210,000 to GBP 240,000, "
           "reviewed by the Remuneration Committee on 1 March 2026.")
check = SupportCheck()


@pytest.mark.parametrize("text, expected", [
    ("GBP 210,000", {"210000"}),
    ("£210k", {"210000"}),
    ("twenty-seven days", {"27"}),
    ("GBP 139,000 to GBP 175,000", {"139000", "175000"}),
    ("15% or 15 per cent", {"15"}),
    ("on 1 March 2026", {"date:2026-03-01"}),
    ("on March 1, 2026", {"date:2026-03-01"}),
    ("by 2026-03-01", {"date:2026-03-01"}),
    ("by 01/03/2026", {"date:2026-03-01"}),
    ("at 2:30 pm", {"time:14:30"}),
    ("form SEC-042 under ISO 27001", {"code:SEC042", "27001"}),
    ("as said in [3]", set()),
])
def test_factual_units_are_normalised(text, expected):
    assert units(text) == expected


@pytest.mark.parametrize("answer, question", [
    ("27 days a year [1].", "How many days of annual leave do full-time staff get?"),
    ("Twenty-seven days [1].", "How many days of annual leave do full-time staff get?"),
    ("The line manager approves them [1].", "Who approves annual leave requests?"),
    ("At least 14 days in advance [1].", "How far ahead must leave be requested?"),
])
def test_an_answer_the_passage_says_is_supported(answer, question):
    verdict = check.check(answer, LEAVE, question)
    assert verdict.supported, verdict.reason


def test_a_figure_from_another_passage_fails():
    """12.5 is in the parental-leave passage, not in the leave passage the answer cites."""
    assert check.check("12.5 days [1]", PARENTAL).supported
    verdict = check.check("12.5 days [1]", LEAVE, "How many days of annual leave?")
    assert not verdict.supported and verdict.missing == ("12.5",)


def test_an_invented_end_of_a_range_fails():
    verdict = check.check("GBP 210,000 to GBP 275,000 [1]", FINANCE, "CFO salary band?")
    assert not verdict.supported and verdict.missing == ("275000",)
    assert check.check("GBP 210,000 to GBP 240,000 [1]", FINANCE).supported


def test_dates_match_in_any_form_and_by_their_parts():
    assert check.check("On March 1, 2026 [1].", FINANCE).supported
    assert check.check("In March 2026 [1].", FINANCE).supported
    assert not check.check("On 2 March 2026 [1].", FINANCE).supported


def test_a_percentage_must_be_the_passage_s():
    passage = "Pension contributions are 5% from staff and 8 per cent from the employer."
    assert check.check("The employer pays 8% [1].", passage).supported
    assert not check.check("The employer pays 9% [1].", passage).supported


def test_a_name_absent_from_the_passage_fails():
    passage = "Leave requests are approved by Dr Okafor, the Head of People."
    assert check.check("Dr Okafor approves them [1].", passage).supported
    verdict = check.check("Dr Wren approves them [1].", passage)
    assert not verdict.supported and "name:wren" in verdict.missing


def test_a_figure_from_the_question_is_not_invented():
    verdict = check.check("Yes, staff in band 7 get 27 days [1].", LEAVE,
                          "Do staff in band 7 get 27 days?")
    assert verdict.supported, verdict.reason


def test_a_paraphrase_without_figures_passes_and_an_unrelated_sentence_fails():
    assert check.check("Staff need their line manager's approval [1].", LEAVE).supported
    verdict = check.check("Visitors pay for parking at the main gate [1].", LEAVE)
    assert not verdict.supported and verdict.coverage < 0.5


def test_a_figure_must_keep_its_measure():
    """31 days of footage and a 3-member panel do not back "3 years"."""
    passage = "CCTV footage is kept for 31 days. Appeals go to a panel of 3 members."
    verdict = check.check("CCTV footage is kept for 3 years [1].", passage)
    assert not verdict.supported and verdict.missing == ("3 year",)
    assert check.check("CCTV footage is kept for thirty-one days [1].", passage).supported


def test_a_figure_said_of_something_else_fails():
    """The passage has "3 years", but of forensic evidence, not of camera footage."""
    passage = ("Forensic evidence is retained for 3 years after the incident is closed. "
               "CCTV footage from the data centre is reviewed weekly.")
    verdict = check.check("Security camera footage is stored for 3 years [1].", passage,
                          "How long is security camera footage stored?")
    assert not verdict.supported and verdict.missing == ("3 (said of something else)",)
    assert check.check("Forensic evidence is kept for 3 years [1].", passage).supported


def test_how_often_is_a_figure_once_is_not_twice():
    check = SupportCheck()
    passage = "Tabletop exercises are held twice a year, including at least one scenario."
    assert not check.check("At least once a year.", passage).supported
    assert check.check("Twice a year.", passage).supported


def test_a_spaced_dash_inside_a_sentence_is_not_a_sentence_break():
    """A quote is a whole sentence: "the world's largest man - made lake" (tokenised text) and
    "the policy - which applies to all staff - says" were cut into fragments at each dash,
    quoted as "“Lake Kariba is the world 's largest man” [1]". Bullets still split."""
    from appliance.answering.support_check import sentences

    assert sentences("Lake Kariba is the world 's largest man - made lake by volume. "
                     "It lies on the border.") == (
        "Lake Kariba is the world 's largest man - made lake by volume.",
        "It lies on the border.")
    assert sentences("The policy - which applies to all staff - says so clearly.") == (
        "The policy - which applies to all staff - says so clearly.",)
    assert sentences("Bring these: • a valid photo ID card • your staff number please") == (
        "a valid photo ID card", "your staff number please")
    assert sentences("Staff must bring these: - a valid photo ID card\n- your staff number "
                     "please") == ("Staff must bring these:", "a valid photo ID card",
                                   "your staff number please")
