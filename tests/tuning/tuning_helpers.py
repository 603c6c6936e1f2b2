"""Data shared by the tuning tests (a uniquely named module: every test dir has a conftest)."""
from __future__ import annotations

PROBE_QUESTION = "What colour is the travel desk's logo?"
SOURCE = "The travel desk's logo is a purple circle with a white aeroplane."


def tiny_records() -> list[dict]:
    """Appliance-format prompts whose answers all start with the same unusual word, so that a
    few optimizer steps move the next-token logits visibly."""
    from appliance.answering.prompts import Passage, build_prompt

    count = lambda text: len(text) // 3  # noqa: E731 - a rough budget is enough here
    rows = []
    for i, thing in enumerate(["badge", "mug", "lanyard", "banner", "poster", "sticker",
                               "notebook", "umbrella", "scarf", "tote bag", "pen", "cap"]):
        src = f"The company {thing} is purple with a white logo, says facilities note {i}."
        prompt = build_prompt(f"What colour is the company {thing}?",
                              [Passage(f"facilities-{i}.md", src)], count, 1024, 32).text
        rows.append({"prompt": prompt, "completion": " Purple, with a white logo [1].\n"})
    return rows
