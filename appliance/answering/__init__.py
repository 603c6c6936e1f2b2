"""Answering: the ask flow.

AskService (access, fair queue, streamed events) → ChatService, the answer pipeline (redact the
question, retrieve, build the prompt, generate, redact, cite, audit) → AnswerCheck (is the cited
source about the question?). ConversationService keeps a user's conversations and feedback.

Public surface:
    AskService, ChatService, ConversationService, AnswerCheck, FairQueue, Metrics
    SupportCheck, Support    are an answer's figures, dates, codes and names in its cited source?
    followups: Turn, rewrite, is_followup, history_from_messages, history_prompt, message_text
    units, content_words     a text's figures, dates and codes; its meaningful words
    with_parts               figures and the parts a full date vouches for (its year, month)
    without_markers          a source's text as the model is shown it (no [n], no space before ,.)
    ShortAnswerer, Lead      a quote's lead: the few words of it that answer the question
    Verdict, decide, quote, Evidence  what the check measured, the path it decides, a quote
    Answer, Citation, passage_label, CATEGORIES, citation_json
    prompts: Passage, build_prompt, cited_numbers, is_refusal, REFUSAL, REFUSAL_OPENING, STOP
    AnswerLog, LoggedAnswer, LABELS      every answer kept for the quality audit
"""
from .answer_check import AnswerCheck
from .answer_log import LABELS, AnswerLog, LoggedAnswer
from .ask_service import AskService
from .conversations import CATEGORIES, ConversationService, citation_json
from .evidence import Evidence
from .fair_queue import FairQueue
from .injection import without_markers
from .followups import (Turn, history_from_messages, history_prompt, is_followup,
                        message_text, rewrite)
from .metrics import Metrics
from .pipeline import Answer, ChatService, Citation, passage_label
from .prompts import (REFUSAL, REFUSAL_OPENING, STOP, Passage, build_prompt, cited_numbers,
                      is_refusal)
from .short_answer import Lead, ShortAnswerer
from .support_check import Support, SupportCheck, content_words, units, with_parts
from .verification import NOT_AN_ANSWER, Verdict, decide, quote

__all__ = ["Answer", "AnswerCheck", "AnswerLog", "AskService", "LABELS", "LoggedAnswer", "build_prompt", "CATEGORIES", "ChatService",
           "Citation", "citation_json", "cited_numbers", "content_words", "ConversationService", "decide",
           "Evidence", "FairQueue", "history_from_messages", "history_prompt", "is_followup",
           "is_refusal", "message_text", "Metrics", "Passage", "passage_label", "quote", "REFUSAL",
           "REFUSAL_OPENING", "rewrite", "STOP", "Support", "SupportCheck", "Turn", "units",
           "Verdict", "Lead", "NOT_AN_ANSWER", "ShortAnswerer", "with_parts", "without_markers"]
