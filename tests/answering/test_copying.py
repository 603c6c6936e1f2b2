"""Copy-constrained decoding: what the model may write next, on a toy word tokenizer."""
from appliance.answering.copying import CopyConstraint

VOCAB: dict[str, int] = {}


def tokenize(text: str) -> list[int]:
    """One token per word, its leading space included (as SentencePiece does)."""
    out, word = [], ""
    for ch in text:
        if ch in " \n[" and word:
            out.append(VOCAB.setdefault(word, len(VOCAB)))
            word = ""
        word += ch
        if ch in "\n[":
            out.append(VOCAB.setdefault(word, len(VOCAB)))
            word = ""
    if word:
        out.append(VOCAB.setdefault(word, len(VOCAB)))
    return out


def ids(text: str) -> list[int]:
    return tokenize(text)


PASSAGES = ["Full-time staff receive 27 days of annual leave.",
            "Shared parental leave is 12.5 days for part-time staff."]


def constraint() -> CopyConstraint:
    return CopyConstraint.build(PASSAGES, tokenize)


def test_the_answer_may_start_at_any_word_of_a_passage_or_with_the_refusal():
    allowed = constraint().allowed([])
    assert set(ids(" 27 days")) <= allowed and set(ids(" Shared")) <= allowed
    assert ids(" I")[0] in allowed
    assert ids(" 175,000")[0] not in allowed  # a figure no passage holds cannot be started


def test_a_started_span_can_only_continue_as_the_passage_does_or_close():
    c = constraint()
    allowed = c.allowed(ids(" 27"))
    assert allowed == {ids(" days")[0], ids(" [")[0], ids("\n")[0]}
    # "days" follows both 27 and 12.5: each passage's next word is allowed after it
    after_days = c.allowed(ids(" days"))
    assert ids(" of")[0] in after_days and ids(" for")[0] in after_days


def test_a_figure_from_one_passage_cannot_follow_words_of_another():
    c = constraint()
    assert ids(" 12.5")[0] not in c.allowed(ids(" Full-time staff receive"))


def test_after_the_span_closes_or_the_refusal_opens_decoding_is_free():
    c = constraint()
    assert c.allowed(ids(" 27 days [")) is None
    assert c.allowed(ids(" I don't")) is None


def test_within_names_the_passages_holding_the_span():
    c = constraint()
    assert c.within(ids(" 27 days [")) == [0]
    assert c.within(ids(" days")) == [0, 1]
    assert c.within(ids(" invented words")) == []
