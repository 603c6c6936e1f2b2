"""Evaluation: retrieval metrics (BEIR format), grounded-answer data, adapter evaluation and
refusal calibration, the four-way RAG / LoRA comparison, general-capability benchmarks, the
failure audit over the answer log and the RAG-or-fine-tune advisor.

Public surface (loaded on first use):
    evaluate_retrieval                    BEIR-format retrieval quality (retrieval_eval.py)
    evaluate_answers, format_answer_report  grounded answers against gold (answer_eval.py)
    evaluate_adapter, format_report       an adapter against the base (adapter_eval.py)
    feedback_formatter                    reviewed feedback as grounded training examples
    evaluate_general, format_general      HellaSwag and MMLU by log-likelihood (general.py)
    headline, plot_report                 the adapter quality report's rows and plot
                                          (quality_report.py)
    retrieval_history                     eval retrieval results per index build (module)
    QualityService, parse_since           the failure audit, advice, review queue (quality.py)
    format_advice, failure_mix            the advice as text; the mix of labelled failures
    prelabel, Rules                       automatic pre-labels (prelabels.py)
    synthesize                            grounded question/answer pairs for review
                                          (synthesis.py)
"""
from importlib import import_module

_EXPORTS = {
    "evaluate_retrieval": "retrieval_eval", "evaluate_answers": "answer_eval",
    "format_answer_report": "answer_eval", "evaluate_adapter": "adapter_eval",
    "format_report": "adapter_eval", "feedback_formatter": "grounded_data",
    "evaluate_general": "general", "format_general": "general",
    "headline": "quality_report", "plot_report": "quality_report",
    "QualityService": "quality", "parse_since": "quality", "format_advice": "advisor",
    "failure_mix": "advisor", "prelabel": "prelabels", "Rules": "prelabels",
    "synthesize": "synthesis",
}
__all__ = sorted([*_EXPORTS, "retrieval_history"])


def __getattr__(name: str):
    if name == "retrieval_history":
        return import_module(".retrieval_history", __name__)
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
