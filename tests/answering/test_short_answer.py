"""A quote's lead (setting `answer_leads`): the few words of the quoted sentence that answer the
question, chosen by the real model, always verbatim from the source; and the scorer it uses,
which must give the same log-probabilities however the prefix got into its cache."""
import dataclasses

import pytest

from appliance.answering import ChatService, ShortAnswerer, units
from appliance.answering.short_answer import _eligible, with_lead

LEAVE = ("Full-time staff receive 27 days of annual leave each year, plus the eight bank "
         "holidays.")
REMASTER = ("A high-definition remaster of the game, The Legend of Zelda: Twilight Princess HD, "
            "is being developed by Tantalus Media for the Wii U. The game will be released in "
            "North America and Europe on March 4, 2016.")


@pytest.mark.parametrize("span, question, ok", [
    ("27 days", "How many days of annual leave do staff get?", True),
    ("annual leave", "How many days of annual leave do staff get?", False),  # no figure
    ("Tantalus Media", "Who is developing the remaster?", True),
    ("a remaster", "Who is developing the remaster?", False),  # a person asked, no name
    ("2016", "What company is developing the remaster?", False),  # a bare figure, none asked
    ("PERSON_3", "Who approves leave?", False),  # a pseudonym alone tells nothing
    ("the line manager of", "Who approves leave?", False),  # ends on a function word
    ("leave", "Who approves leave?", False),  # only repeats the question
])
def test_which_spans_may_lead(span, question, ok):
    from appliance.answering.evidence import asks_for_figure
    from appliance.answering.short_answer import wants_a_name

    assert _eligible(span, question, asks_for_figure(question), wants_a_name(question)) is ok


def test_with_lead_puts_the_short_answer_before_the_quote():
    from appliance.answering import Lead

    quoted = f"\u201c{LEAVE}\u201d [1]"
    assert with_lead(Lead("27 days", 0.9), quoted) == f"27 days \u2014 {quoted}"
    assert with_lead(None, quoted) == quoted


@pytest.fixture(scope="module")
def generator(model_dir):
    from appliance.engines.llm import LlamaGenerator

    gen = LlamaGenerator(str(next(model_dir.glob("*.gguf"))), n_ctx=2048)
    yield gen


@pytest.mark.parametrize("question, sentences, expected", [
    ("How many days of annual leave do full-time staff get?", [LEAVE], "27"),
    ("What company is developing the remaster?", [REMASTER], "Tantalus Media"),
])
def test_the_model_picks_the_words_that_answer(generator, question, sentences, expected):
    lead = ShortAnswerer(min_share=0.0).lead(generator, question, sentences)
    assert lead is not None and expected in lead.text, lead
    assert lead.text in " ".join(sentences)  # verbatim: it can hold nothing the source does not
    assert units(lead.text) <= units(" ".join(sentences))
    assert 0 < lead.share <= 1


def test_no_lead_when_no_span_is_of_the_asked_type(generator):
    """A figure asked for, none in the sentence: nothing to lead with."""
    sentence = "Requests for annual leave are approved by the line manager of the employee."
    assert ShortAnswerer(min_share=0.0).lead(
        generator, "How many days of annual leave do staff get?", [sentence]) is None


def test_prefix_scores_match_whole_continuations_however_the_prefix_was_cached(generator):
    """prefixes() gives, for each prefix of a sequence, log P(prefix + end): the same as
    scoring that continuation on its own, whether the context was decoded fresh, extended
    from the frame, or cut back to the frame and extended again."""
    from appliance.engines.loglik import LoglikScorer

    scorer = generator.span_scorer()
    fresh = LoglikScorer("", llm=generator.llm, n_ctx=1024, n_seq=4)
    try:
        frame = [scorer.bos()] + scorer.tokenize("Question: what colour is the sky?\nAnswer:")
        context = frame + scorer.tokenize(" It is")
        seq = scorer.tokenize(" blue on a clear day")
        end = scorer.tokenize("\n")[-1]
        with scorer.lock:
            scorer.keep(frame)
            scorer.keep(context)  # extends the kept frame
            by_prefix = scorer.prefixes(context, [seq], end)[0]
            scorer.keep(frame)  # cut back: costs nothing
            again = scorer.prefixes(context, [seq], end)[0]
        fresh.keep([fresh.bos()])
        for k in range(len(seq)):
            whole = fresh.score(context, [seq[:k + 1] + [end]])[0][0]
            assert by_prefix[k] == pytest.approx(whole, rel=0.05, abs=0.3)
            assert again[k] == pytest.approx(whole, rel=0.05, abs=0.3)
    finally:
        fresh.close()


@pytest.mark.slow
def test_a_figure_question_gets_its_figure_and_the_model_leads_only_when_asked(samples_app):
    """Default: "how many days?" gets the figure its answer gives as `short_answer` (a quote is
    led by it); a who-question's quote stands alone. With `answer_leads`, a quote without a
    figure lead is led by words of its own quote; refusals have none."""
    question = "How many days of annual leave do full-time staff get?"
    figure = samples_app.chat.ask(question)
    assert figure.short_answer == "27" == figure.to_json()["short_answer"], figure.answer
    if figure.path == "quoted":
        assert figure.answer.startswith("27 \u2014 \u201c"), figure.answer
    who = samples_app.chat.ask("Who approves annual leave requests?")
    assert who.short_answer == "" and "\u2014" not in who.answer.split("\u201c")[0]
    chat = samples_app.chat
    led = ChatService(dataclasses.replace(chat.settings, answer_leads=True), chat.retriever,
                      chat.generator, redactor=chat.redactor, check=chat.check,
                      redactor_for=chat.redactor_for)
    answers = [led.ask(q) for q in (question, "Who approves annual leave requests?",
                                    "What is the capital of Australia?")]
    for answer in answers:
        body = answer.to_json()
        if answer.path == "quoted" and answer.short_answer:
            head, quote = answer.answer.split(" \u2014 ", 1)
            assert head == answer.short_answer == body["short_answer"]
            assert answer.short_answer in quote
        elif answer.path == "generated":  # a figure the answer itself gives, or none
            assert body["short_answer"] == answer.short_answer
            assert answer.short_answer in answer.answer
        else:
            assert answer.short_answer == "" and body["short_answer"] == ""
    assert answers[2].path == "refused" and answers[2].short_answer == ""
    assert any(a.short_answer for a in answers), [a.answer for a in answers]
