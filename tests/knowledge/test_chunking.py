import re

from appliance.knowledge.chunking import chunk_blocks, index_text
from appliance.knowledge.extraction import Block


def word_offsets(texts):
    """A stand-in tokenizer: one token per word."""
    return [[m.span() for m in re.finditer(r"\S+", t)] for t in texts]


def test_chunks_respect_size_and_never_cross_sections():
    blocks = [Block(" ".join(f"a{i}" for i in range(30)), None, "A"),
              Block(" ".join(f"b{i}" for i in range(30)), None, "A"),
              Block("short", None, "B")]
    chunks = chunk_blocks(blocks, word_offsets, size=40, overlap=5)
    assert all(c.token_count <= 40 for c in chunks)
    assert [c.section for c in chunks][-1] == "B" and chunks[-1].text == "short"
    assert not any("short" in c.text for c in chunks[:-1])


def test_long_paragraph_is_windowed_with_overlap():
    text = " ".join(f"w{i}" for i in range(100))
    chunks = chunk_blocks([Block(text, 3, None)], word_offsets, size=30, overlap=10)
    assert len(chunks) >= 4
    assert all(c.page == 3 and c.token_count <= 30 for c in chunks)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    assert first[-10:] == second[:10]  # the overlap carries the tail forward
    covered = set(w for c in chunks for w in c.text.split())
    assert covered == set(text.split())  # nothing lost


def test_pages_are_not_mixed():
    blocks = [Block("one two", 1, None), Block("three four", 2, None)]
    chunks = chunk_blocks(blocks, word_offsets, size=50, overlap=5)
    assert [(c.page, c.text) for c in chunks] == [(1, "one two"), (2, "three four")]


def test_index_text_prefixes_section():
    assert index_text("body", "Policy > Leave") == "Policy > Leave\nbody"
    assert index_text("body", None) == "body"


def test_long_paragraphs_are_cut_between_sentences():
    """A window ends at a sentence's end and the next starts at a sentence's start, so a
    quoted last sentence is whole ("a further 26 weeks.", not "a further 26"); the overlap
    is whole sentences and nothing is lost."""
    sentences = [f"Sentence {i} says that item {i} lasts for {i + 20} weeks in total."
                 for i in range(20)]
    text = " ".join(sentences)
    chunks = chunk_blocks([Block(text, None, "S")], word_offsets, size=40, overlap=10)
    assert len(chunks) >= 4 and all(c.token_count <= 40 for c in chunks)
    for chunk in chunks:
        assert chunk.text.startswith("Sentence ") and chunk.text.endswith("weeks in total.")
    for a, b in zip(chunks, chunks[1:]):
        assert a.text.split(". ")[-1] in b.text  # the overlap carries a whole sentence
    assert {s for c in chunks for s in c.text.split(". ")} >= {s.rstrip(".") for s in
                                                              sentences[:-1]}


def test_a_paragraph_without_sentence_ends_is_still_cut_at_words():
    text = "w1 w2. w3 " + " ".join(f"x{i}" for i in range(60))  # one early, short sentence
    chunks = chunk_blocks([Block(text, None, None)], word_offsets, size=30, overlap=5)
    assert all(c.token_count <= 30 for c in chunks)
    assert set(w for c in chunks for w in c.text.split()) == set(text.split())
