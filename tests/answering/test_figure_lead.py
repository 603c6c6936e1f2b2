"""Figure leads (setting `answer_figure_leads`, on by default): the figure a how-many / how-long /
when / what-percentage question asks for, read from the answer's own words by rules."""
from __future__ import annotations

import pytest

from appliance.answering.figure_lead import asked_kind, figure_lead


@pytest.mark.parametrize("question, sentence, lead", [
    ("How many days of annual leave do full-time staff get?",
     "Full-time staff receive 27 days of annual leave per year, plus bank holidays.", "27"),
    ("How many named lakes are there in Montana?",
     "Montana has at least 3,223 named lakes and reservoirs.", "at least 3,223"),
    ("How many stars did the Guardian give the film?",
     "The Guardian gave the film four out of five stars.", "four out of five"),
    ("How long was the filming?", "Filming took seven months, from December to July.",
     "seven months"),
    ("How high could the number go?", "The number could be as high as 11 million.",
     "11 million"),
    ("What percentage of students study abroad?",
     "About 57.6% of students study abroad before they graduate [1].", "About 57.6%"),
    ("When was the first school opened?", "The first school opened at Fort Owen in 1862.",
     "1862"),
    ("In what year was the library finished?", "1963 [4].", "1963"),
    ("When were the tracks released?",
     "The tracks were released on November 19, 2006, in Japan.", "November 19, 2006"),
    ("When was the policy last reviewed?",
     "The policy was last reviewed on 1 March 2026 by the board.", "1 March 2026"),
])
def test_the_figure_asked_for_leads(question, sentence, lead):
    assert figure_lead(question, [sentence]) == lead


def test_a_measure_the_question_does_not_name_comes_with_the_figure():
    assert figure_lead("How long must a password be?",
                       ["The password must be at least 14 characters long."]) == \
        "at least 14 characters"
    carried = ("Up to 37.5 hours of unused annual leave may be carried over into the next "
               "leave year.")  # asked in days, given in hours: the hours are the answer
    assert figure_lead("How many days can be carried over?", [carried]) == "Up to 37.5 hours"


def test_two_quoted_sentences_with_different_figures_give_no_lead():
    """The handbook's carry-over quote ("37.5 hours") with the runner-up about the year's
    leave ("27 days"): the counted noun "days" must not pick the runner-up's figure."""
    sentences = ["Up to 37.5 hours of unused annual leave may be carried over into the next "
                 "leave year with the written agreement of the line manager.",
                 "Full-time staff receive 27 days of annual leave each year."]
    assert figure_lead("How many days can be carried over to next year?", sentences) == ""
    assert figure_lead("How many days of leave do staff get?", sentences[1:]) == "27"


def test_a_quoted_sentence_with_several_figures_blocks_the_lead():
    """Sick pay: "up to 13 weeks" full pay then "a further 26 weeks" half pay; the runner-up,
    about maternity leave, has one figure ("16 weeks"). Leading with 16 would be a wrong
    figure put first beside the right one."""
    sentences = ["Employees with more than one year of service receive full pay for up to 13 "
                 "weeks of sickness absence, followed by half pay for up to a further 26 weeks.",
                 "Employees with at least one year of service receive the first 16 weeks of "
                 "that leave on full pay."]
    assert figure_lead("How many weeks of full pay do staff get when off sick?", sentences) == ""


def test_a_deadline_answers_when():
    assert figure_lead("When must a data breach be reported?",
                       ["A breach must be reported to the regulator within 72 hours."]) == \
        "within 72 hours"


def test_the_number_of_the_counted_thing_wins_over_other_numbers():
    sentence = "The four campuses of the university hold 29 halls of residence."
    assert figure_lead("How many halls of residence are there?", [sentence]) == "29"


@pytest.mark.parametrize("question, sentence", [
    # two figures of the kind asked and nothing to tell them apart: no guess is put first
    ("How many people were hurt?", "Of the 300 passengers, 63 were injured."),
    ("When was the act passed?", "The acts of 1851, 1887 and 1934 created reservations."),
    # a range of years is a reign or a life, not a date
    ("When was the garrison established?", "Under the Qianlong Emperor (1735–1796) a "
                                           "garrison was established in Tibet."),
    # the question already holds the only figure
    ("How many of the 200 arrested were convicted?", "Of the 200 arrested, most were freed."),
    # a length asked, a bare number given: no measure, no lead
    ("How long did it take to film?", "The film used 35 locations in five countries."),
    # "at least one scenario" beside "twice a year": two counts, no guess
    ("How many tabletop exercises a year?", "The team rehearses through tabletop exercises "
     "held twice a year, including at least one scenario that simulates the loss of the EPR."),
    # a year counts nothing
    ("How many colleges are there?", "The university was founded in 1842."),
    # no figure is asked for
    ("Who approves annual leave requests?", "Requests are approved by the line manager "
                                            "within 5 working days."),
    ("What place was lucky for him, considering how much he charged?",
     "In Paris he charged £1.05 for a lesson."),
])
def test_no_lead_where_the_rules_cannot_tell(question, sentence):
    assert figure_lead(question, [sentence]) == ""


@pytest.mark.parametrize("question, kind", [
    ("How many days of leave?", "count"),
    ("Op. 74 is made up of how many Polish songs?", "count"),
    ("During the May 27 aftershock, how many people were injured?", "count"),
    ("What percentage of reviews were positive?", "percent"),
    ("In which year did the treaty pass?", "date"),
    ("When did Chopin die?", "date"),
    ("When Malloy became president what was the size of the endowment?", None),
    ("Who founded it and when?", None),
    ("What doctor was with Chopin when he wrote his will?", None),
])
def test_what_kind_of_figure_the_question_asks_for(question, kind):
    assert asked_kind(question)[0] == kind


def test_citation_markers_and_quote_marks_are_not_part_of_the_lead():
    quote = "\u201cThe album sold 1.32 million copies by March 2007.\u201d [1]"
    assert figure_lead("How many copies were sold?", [quote]) == "1.32 million"
