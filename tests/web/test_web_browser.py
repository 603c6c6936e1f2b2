"""A real browser (Debian's headless Chromium): log in, ask, watch the answer stream in with
a citation that opens its passage, upload with progress, log out; hostile text stays inert;
the stop button cancels. Screenshots go to test-artifacts/."""
import threading
import time

import pytest

from livetools import ARTIFACTS, chromium, free_port, shot

PASSWORD = "correct horse battery staple"
# Counts answer text shown while the model is still answering (before the final "done"
# event), to prove the answer streams in rather than arriving whole.
WATCH = """
window.__pieces = 0;
new MutationObserver(() => {
  const pending = document.querySelector('li.msg.assistant.pending .text');
  const answering = document.getElementById('status').textContent.startsWith('Answering');
  if (pending && answering && pending.textContent.trim()) window.__pieces += 1;
}).observe(document.getElementById('messages'), {subtree: true, childList: true,
                                                  characterData: true});
"""


@pytest.fixture
def browser():
    driver = chromium()
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, condition, seconds=60):
    from selenium.common.exceptions import (NoSuchElementException,
                                            StaleElementReferenceException, TimeoutException)
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)  # pages reload
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.05,
                             ignored_exceptions=ignored).until(condition)
    except TimeoutException:
        shot(driver, "timeout")  # what the page showed when the wait gave up
        raise


def _login(driver, url, username):
    from selenium.webdriver.common.by import By

    driver.get(url + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    _wait(driver, lambda d: d.current_url.endswith("/chat"))


def _ask(driver, question):
    from selenium.webdriver.common.by import By

    driver.execute_script(WATCH)
    box = driver.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ask").click()


def _no_csp_violations(driver):
    problems = [e["message"] for e in driver.get_log("browser")
                if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]
    assert not problems, problems


def _only_same_origin_requests(driver, url):
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith(url) for name in names), names


@pytest.mark.slow
def test_login_ask_cite_upload_logout_with_the_real_model(live, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(live.url + "/login")
    shot(browser, "01-login")
    _login(browser, live.url, "admin")
    cookie = browser.get_cookie("__Host-appliance_session")
    assert cookie and cookie["secure"] and cookie["httpOnly"]  # Secure works on 127.0.0.1
    assert cookie["sameSite"] == "Strict"

    _ask(browser, "What is the minimum length for my hospital password?")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "li.msg.assistant .citations"),
          180)
    shot(browser, "02-answer")
    answer = browser.find_element(By.CSS_SELECTOR, "li.msg.assistant .text").text
    assert "14" in answer
    assert browser.execute_script("return window.__pieces") >= 1  # shown before it ended
    citation = browser.find_element(By.CSS_SELECTOR, ".citations li summary")
    assert "it-security-policy.md" in citation.text
    citation.click()
    passage = browser.find_element(By.CSS_SELECTOR, ".citations .passage")
    assert "14 characters" in passage.text
    browser.find_element(By.CSS_SELECTOR, ".citations a.source").click()
    _wait(browser, lambda d: "#chunk-" in d.current_url)
    target = browser.find_element(By.ID, browser.current_url.split("#")[1])
    assert "14 characters" in target.text
    shot(browser, "03-citation")

    browser.get(live.url + "/documents")
    note = tmp_path / "parking-rules.md"
    note.write_text("# Parking\n\nStaff parking permits cost 12 pounds a month.\n")
    browser.find_element(By.ID, "file").send_keys(str(note))
    Select(browser.find_element(By.ID, "collection")).select_by_value("default")
    browser.find_element(By.ID, "upload").click()
    _wait(browser, lambda d: "added" in d.find_element(By.ID, "upload-status").text, 120)
    shot(browser, "04-upload")
    _wait(browser, lambda d: "parking-rules.md" in d.find_element(By.ID, "documents").text)

    browser.get(live.url + "/admin")
    assert "reader" in browser.find_element(By.ID, "users").text
    shot(browser, "05-admin")
    browser.get(live.url + "/audit")
    assert "auth.login.success" in browser.find_element(By.ID, "audit-events").text
    browser.find_element(By.CSS_SELECTOR, "#audit-verify button").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "verify-result"))
    assert "OK" in browser.find_element(By.ID, "verify-result").text
    shot(browser, "06-audit")

    _no_csp_violations(browser)
    _only_same_origin_requests(browser, live.url)
    browser.find_element(By.ID, "logout").click()
    _wait(browser, lambda d: "/login" in d.current_url)
    browser.get(live.url + "/chat")
    assert "/login" in browser.current_url  # the session ended on the server
    shot(browser, "07-logged-out")
    assert all((ARTIFACTS / f"0{i}-{n}.png").is_file() for i, n in
               ((1, "login"), (2, "answer"), (3, "citation"), (4, "upload")))


@pytest.fixture
def dev_server(web_world):
    """The web world (fake generator) behind werkzeug's threaded server on loopback."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), web_world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    web_world.fake.reset()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    web_world.fake.reset()


def test_hostile_text_stays_inert_and_stop_cancels(web_world, dev_server, browser):
    from selenium.webdriver.common.by import By

    _login(browser, dev_server, "carol")
    _ask(browser, "When does the canteen open?")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "li.msg.assistant .citations"))
    text = browser.find_element(By.CSS_SELECTOR, "li.msg.assistant .text").text
    # HTML stays inert text; the outside image is not even shown as text (links.py)
    assert "<script>" in text and "tracker.example" not in text
    assert browser.execute_script("return window.__pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#messages img, #messages script")
    browser.find_element(By.CSS_SELECTOR, ".citations li summary").click()
    shot(browser, "08-inert-answer")
    browser.refresh()  # the stored conversation renders inert too
    assert browser.execute_script("return window.__pwned === undefined")
    assert "<script>" in browser.find_element(By.CSS_SELECTOR, "li.msg.assistant .text").text
    _only_same_origin_requests(browser, dev_server)

    web_world.fake.reset()
    web_world.fake.delay = 0.3
    _ask(browser, "What is the minimum length for my hospital password?")
    _wait(browser, lambda d: d.execute_script("return window.__pieces") >= 1)
    browser.find_element(By.ID, "stop").click()
    _wait(browser, lambda d: "Stopped" in d.find_element(By.ID, "status").text)
    deadline = time.time() + 10
    while web_world.fake.closed_early == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert web_world.fake.closed_early == 1 and web_world.fake.finished == 0
    shot(browser, "09-stopped")
    _no_csp_violations(browser)



def _answer_after(driver, count, seconds=180):
    """The text of the assistant message number `count` (1-based) once it is complete."""
    from selenium.webdriver.common.by import By

    done = "li.msg.assistant:not(.pending)"
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, done)) >= count
          and not d.find_elements(By.CSS_SELECTOR, "li.msg.assistant.pending"), seconds)
    return driver.find_elements(By.CSS_SELECTOR, done)[count - 1]


@pytest.mark.slow
def test_checked_answers_follow_ups_and_access_in_the_browser(live, browser):
    """The issue's cases as a user sees them: the right figure (or a marked quote of it), a
    follow-up read with the earlier question, and "not in the documents" for a figure the
    user may not read."""
    from selenium.webdriver.common.by import By

    _login(browser, live.url, "reader")
    _ask(browser, "How many days of annual leave do full-time staff get?")
    first = _answer_after(browser, 1)
    text = first.find_element(By.CSS_SELECTOR, ".text").text
    assert "27 days" in text and "12.5" not in text, text
    if first.get_attribute("data-path") == "quoted":
        assert "Quoted from the source" in first.text
    _ask(browser, "And who approves it?")
    second = _answer_after(browser, 2)
    shot(browser, "08-follow-up")
    assert "line manager" in second.find_element(By.CSS_SELECTOR, ".text").text.lower()
    assert "hr-leave-policy.pdf" in second.find_element(By.CSS_SELECTOR, ".citations").text

    browser.get(live.url + "/chat")  # a new conversation
    _ask(browser, "What is the salary band of the chief financial officer?")
    denied = _answer_after(browser, 1)
    shot(browser, "09-not-in-the-documents")
    assert "Not in the documents" in denied.text
    assert "210,000" not in denied.text and "240,000" not in denied.text


@pytest.mark.slow
def test_a_reviewer_labels_and_corrects_in_the_queue_and_sees_the_quality_plot(live, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _login(browser, live.url, "reader")  # an ordinary user: no Quality menu, no queue
    assert not browser.find_elements(By.LINK_TEXT, "Quality")
    browser.get(live.url + "/quality/review")
    assert "may not open this page" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.ID, "logout").click()
    _wait(browser, lambda d: "/login" in d.current_url)

    _login(browser, live.url, "rita")
    _ask(browser, "Who approves annual leave requests?")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "li.msg.assistant:not(.pending)"),
          180)
    browser.find_element(By.LINK_TEXT, "Quality").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "open-review"))
    browser.find_element(By.ID, "open-review").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "review-form"))
    while "Who approves annual leave" not in browser.find_element(By.ID, "review-question").text:
        shown = browser.find_element(By.ID, "review-entry").get_attribute("data-id")
        browser.find_element(By.ID, "review-accept").click()  # earlier answers: as suggested
        _wait(browser, lambda d: d.find_element(By.ID, "review-entry")
              .get_attribute("data-id") != shown)  # the next one (never the page just left)
    assert browser.find_element(By.CSS_SELECTOR, "ol.sources li").text
    shot(browser, "10-review")
    Select(browser.find_element(By.ID, "review-label")).select_by_value("wrong_tone")
    browser.find_element(By.ID, "review-correction").send_keys(
        "Annual leave requests are approved by your line manager [1].")
    browser.find_element(By.ID, "review-edit").click()
    _wait(browser, lambda d: "wrong_tone (edited)" in d.find_element(By.ID, "review-done").text)

    browser.get(live.url + "/quality")
    _wait(browser, lambda d: d.execute_script(
        "const i = document.getElementById('mix-plot'); return i.complete && i.naturalWidth"))
    assert "wrong tone" in browser.find_element(By.ID, "mix").text
    assert "knowledge update frequency" in browser.find_element(By.ID, "decision-table").text
    shot(browser, "11-quality")
    _no_csp_violations(browser)
    _only_same_origin_requests(browser, live.url)
