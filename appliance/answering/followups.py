"""Follow-up questions: resolve an elliptical or pronoun-led question with the earlier turns.

"How many days of annual leave do full-time staff get?" then "And who approves it?": the
second question alone retrieves nothing useful. `rewrite` gives the retrieval query: a
follow-up keeps its own words and gains the previous question's content words; a question on
a new topic is returned unchanged, so the old topic never pollutes it. `history_prompt` is
the previous turn as the model sees it, and `history_from_messages` reads the earlier turns
and the caller's system text from an OpenAI-style `messages` list.

The decision (`is_followup`) is deterministic and deliberately simple. With at least one
earlier turn, a question is a follow-up when
  1. it opens like a continuation: "and", "but", "or", "also", "what about", "how about",
     "what if", "same for"; or
  2. it holds an anaphor standing in for something said before: it, they, them, he, she,
     him, this, these, those; its, their, his, her when the question has fewer than three
     content words of its own and no noun phrase before them ("the bronx ... its name");
     "that", "there" and "one" when they are pronouns ("that" opening or closing the
     question or after a function word; "there" not in "is there"; "one" closing it or
     after which/other/this/that/same/each). Dummy "it" ("is it possible to", "how long
     does it take to") does not count; or
  3. it has no content word of its own ("Why?", "How long?"), or only one, among its first
     two words and not a name ("Who approves?", "How quickly?"; but "How long must
     passwords be?" and "Who is the CISO?" are questions in their own right).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from .support_check import MARKERS, MONTHS, STOP, content_words

__all__ = ["Turn", "rewrite", "is_followup", "history_from_messages", "history_prompt"]

OPENERS = ("and", "but", "or", "also", "what about", "how about", "what if", "same for")
PRONOUNS = frozenset("it itself they them theirs themselves he she him hers".split())
# A possessive usually points inside a longer question ("how do staff report their absence?")
# or back to a noun phrase before it ("the bronx get its name"): it counts only without both.
POSSESSIVES = frozenset("its their his her".split())
SHORT = 3
# Words that ask rather than say what about: they neither make a question self-contained
# nor are worth carrying into the next query.
FILLER = frozenset("""many much long often get gets got tell know need needs please give
happen happens happened mean means like want wants say says said make makes exactly else
kind sort way thing things anything something""".split())
TIME_WORDS = frozenset("year month week day morning afternoon evening night time "
                       "quarter term season".split())
CONJUNCTION_THAT = frozenset("so such now given provided except assuming".split())
ONE_AFTER = frozenset("which other this that same each every the another latter former "
                      "first second last new".split())
DUMMY_IT = re.compile(r"\bit(?:'s|’s|\s+is|\s+was)?\s+(?:\w+\s+)?(?:possible|necessary|"
                      r"mandatory|required|allowed|ok|okay|true|legal|permitted|compulsory|"
                      r"acceptable|safe|worth|take|takes|cost|costs|illegal|important)\s+"
                      r"(?:to|that|for|if)\b", re.I)
TOKENS = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
CITATIONS = re.compile(r"\s*\[\d{1,2}(?:\s*[,–-]\s*\d{1,2})*\]")
LOOK_BACK = 3          # earlier turns a chain of follow-ups may reach back through
ANSWER_WORDS = 60      # the previous answer, as the model sees it, is cut to this many words


@dataclass(frozen=True)
class Turn:
    """An earlier turn of the conversation; `answer` is "" where it is unknown."""

    question: str
    answer: str = ""


def _words(text: str) -> list[str]:
    return [w.lower().strip("'’-") for w in TOKENS.findall(text)]


def _own_words(question: str) -> set[str]:
    """The question's content words, less the words that only ask."""
    return {w for w in content_words(question) if w not in FILLER}


def _named(question: str) -> bool:
    """Does the question name something: a capitalised word past the first, or an acronym?"""
    tokens = TOKENS.findall(question)
    return any(t.isupper() and len(t) > 1 or (i and t[:1].isupper() and t.lower() not in STOP)
               for i, t in enumerate(tokens))


def _subject_before(text: str, index: int) -> bool:
    """Is there a noun phrase before word `index` ("the bronx" in "where does the bronx get
    its name from?", or a name) that a possessive may point back to?"""
    tokens = TOKENS.findall(text)[:index]
    lowered = [t.lower() for t in tokens]
    return any(w in ("the", "a", "an") and i + 1 < len(lowered) and lowered[i + 1] not in STOP
               for i, w in enumerate(lowered)) or _named(" ".join(tokens))


def _anaphor(question: str) -> bool:
    """Does the question hold a pronoun standing in for something said earlier?"""
    text = DUMMY_IT.sub(" ", question)
    words = _words(text)
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if word in ("this", "these", "those"):
            if after not in TIME_WORDS:
                return True
        elif word in PRONOUNS:
            return True
        elif word in POSSESSIVES:
            if len(_own_words(question)) < SHORT and not _subject_before(text, i):
                return True
        elif word == "that":
            if before in CONJUNCTION_THAT:
                continue
            if not before or not after or before in STOP:
                return True
        elif word == "there":
            if before not in ("is", "are", "was", "were", "will") and \
                    after not in ("is", "are", "was", "were", "be", "any"):
                return True
        elif word == "one":
            if before in ONE_AFTER and after not in TIME_WORDS or not after:
                return True
    return False


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    """True when `question` needs the earlier turns to be understood (rules in the module
    docstring); always False without history."""
    if not history:
        return False
    lowered = " ".join(_words(question))
    if any(lowered == o or lowered.startswith(o + " ") for o in OPENERS):
        return True
    if _anaphor(question):
        return True
    own = _own_words(question)
    if not own:
        return True
    first_two = content_words(" ".join(TOKENS.findall(question)[:2]))
    return len(own) == 1 and own <= first_two and not _named(question)


def _topic(history: Sequence[Turn], depth: int) -> str:
    """The previous question as resolved: a follow-up in its turn is rewritten with the turns
    before it, so a chain of follow-ups keeps the topic it started from."""
    previous = history[-1].question
    if depth > 1 and is_followup(previous, history[:-1]):
        return _rewrite(previous, history[:-1], depth - 1)
    return previous


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """The retrieval query for `question` given earlier turns (oldest first).

    A follow-up gets the previous question's content words appended, in their order and
    without the ones it already has; any other question comes back unchanged. The previous
    answer is not used: it may be wrong, and the previous question says what was meant."""
    return _rewrite(question, history, LOOK_BACK)


def _rewrite(question: str, history: Sequence[Turn], depth: int) -> str:
    if not question.strip() or not is_followup(question, history):
        return question
    have = content_words(question)
    added: list[str] = []
    kept = False  # was the word before kept? A figure goes with it ("severity 1")
    for token in TOKENS.findall(_topic(history, depth)):
        word = token.strip("'’-")
        key = word.lower()
        # A month is a figure to the support check but a topic here ("28 days in february").
        stems = content_words(word) or ({key} if key in MONTHS else set())
        if word.isdigit():
            if kept and key not in added:
                added.append(key)
        elif stems and not stems <= have and key not in FILLER and key not in added:
            added.append(key)
            have |= stems
            kept = True
            continue
        kept = False
    return f"{question.strip()} {' '.join(added)}" if added else question


def message_text(content: Any) -> str | None:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text"
                 and isinstance(p.get("text"), str)]
        return "\n".join(parts) if parts else None
    return None


def history_from_messages(messages: list[dict]) -> tuple[list[Turn], str | None]:
    """Earlier turns and the caller's system text from an OpenAI-style `messages` list.

    Each user message before the last one is paired with the assistant reply that follows it
    ("" when none does), oldest first; system (and "developer") messages are joined. Messages
    of a shape the API would reject are skipped here, not raised on."""
    system: list[str] = []
    said: list[tuple[str, str]] = []  # (role, text) of the conversation proper
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        role, text = message.get("role"), message_text(message.get("content"))
        if text is None or not text.strip():
            continue
        if role in ("system", "developer"):
            system.append(text.strip())
        elif role in ("user", "assistant"):
            said.append((role, text.strip()))
    last_user = max((i for i, (role, _) in enumerate(said) if role == "user"), default=-1)
    turns: list[Turn] = []
    for role, text in said[:max(last_user, 0)]:
        if role == "user":
            turns.append(Turn(text, ""))
        elif turns:  # a reply joins the turn it answers; a leading greeting has none
            last = turns[-1]
            turns[-1] = Turn(last.question, f"{last.answer} {text}".strip())
    return turns, ("\n".join(system) if system else None)


def _clip(text: str, words: int) -> str:
    parts = text.split()
    return " ".join(parts) if len(parts) <= words else " ".join(parts[:words]) + " …"


def history_prompt(history: Sequence[Turn], limit: int = 1) -> str:
    """The last `limit` turns as the model's prompt shows them; "" without history.

    Citation markers are stripped from the answer (they number the old turn's sources, not
    this one's) and a long answer is cut to its first words."""
    if not history or limit < 1:
        return ""
    lines = []
    for turn in history[-limit:]:
        lines.append(f"Previous question: {_clip(turn.question, ANSWER_WORDS)}")
        answer = _clip(MARKERS.sub("", CITATIONS.sub("", turn.answer)), ANSWER_WORDS)
        if answer:
            lines.append(f"Previous answer: {answer}")
    return "\n".join(lines) + "\n"
