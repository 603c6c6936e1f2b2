// The chat page: ask, read the server-sent events, render the answer and its citations as
// text (never as HTML), stop, and send feedback. No markup from answers or documents is
// ever parsed: text goes in through textContent only.
"use strict";
(() => {
  const form = document.getElementById("ask-form");
  if (!form) return;
  const box = document.getElementById("conversation");
  const list = document.getElementById("messages");
  const status = document.getElementById("status");
  const question = document.getElementById("question");
  const askButton = document.getElementById("ask");
  const stopButton = document.getElementById("stop");
  const template = document.getElementById("feedback-template");
  let controller = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // "[2]" markers become links to the numbered citation; everything else stays text.
  function renderAnswer(target, text, messageId, numbers) {
    target.textContent = "";
    const marker = /\[(\d{1,2})\]/g;
    let last = 0;
    let match;
    while ((match = marker.exec(text)) !== null) {
      const n = Number(match[1]);
      if (!numbers.has(n)) continue;
      target.append(document.createTextNode(text.slice(last, match.index)));
      const link = el("a", "cite", `[${n}]`);
      link.href = `#cite-${messageId}-${n}`;
      target.append(link);
      last = match.index + match[0].length;
    }
    target.append(document.createTextNode(text.slice(last)));
  }

  function renderCitations(item, messageId, citations) {
    if (!citations.length) return;
    const ol = el("ol", "citations");
    for (const c of citations) {
      const li = el("li");
      li.id = `cite-${messageId}-${c.n}`;
      li.dataset.n = String(c.n);
      const details = el("details");
      const summary = el("summary");
      const where = `[${c.n}] ${c.doc_name}` + (c.page ? `, page ${c.page}` : "");
      summary.append(el("span", "source-label", where));
      if (c.section) summary.append(el("span", "section", ` — ${c.section}`));
      if (c.version) summary.append(el("span", "version", ` (version ${c.version}` +
        (c.ingested_at ? `, ${c.ingested_at.slice(0, 16).replace("T", " ")} UTC)` : ")")));
      details.append(summary);
      if (c.text) details.append(el("div", "passage", c.text));
      const open = el("a", "source", "Open in the document" + (c.page ? ` (page ${c.page})` : ""));
      open.href = `/documents/${encodeURIComponent(c.doc_id)}#chunk-${encodeURIComponent(c.chunk_id)}`;
      details.append(open);
      li.append(details);
      ol.append(li);
    }
    item.append(ol);
  }

  function addToSidebar(id, title) {
    const sidebar = document.getElementById("conversation-list");
    if (!sidebar) return;
    for (const hint of sidebar.querySelectorAll("li.hint")) hint.remove();
    const link = el("a", "", title.slice(0, 80));
    link.href = `/chat/${encodeURIComponent(id)}`;
    link.setAttribute("aria-current", "page");
    const li = el("li");
    li.append(link);
    sidebar.prepend(li);
  }

  function addFeedback(item, messageId) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.action = `/chat/messages/${encodeURIComponent(messageId)}/feedback`;
    item.append(node);
  }

  // A click on a citation marker opens that citation's passage.
  list.addEventListener("click", (event) => {
    const link = event.target.closest("a.cite");
    if (!link) return;
    const target = document.getElementById(link.hash.slice(1));
    if (!target) return;
    const details = target.querySelector("details");
    if (details) details.open = true;
    target.classList.add("flash");
    setTimeout(() => target.classList.remove("flash"), 1500);
  });

  // Feedback forms post in the background.
  list.addEventListener("submit", async (event) => {
    const fb = event.target.closest("form.feedback");
    if (!fb || event.defaultPrevented) return;
    event.preventDefault();
    const data = new FormData(fb);
    const submitter = event.submitter;
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    const state = fb.querySelector(".feedback-state");
    const resp = await fetch(fb.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": window.appliance.csrf(), "X-Requested-With": "fetch", "Accept": "application/json" },
    });
    if (resp.ok) {
      for (const b of fb.querySelectorAll(".vote")) b.classList.toggle("chosen", b.value === data.get("rating"));
      state.textContent = "Thanks, recorded.";
    } else {
      const body = await resp.json().catch(() => ({}));
      state.textContent = body.error || "Could not record the feedback.";
    }
  });

  // Answers loaded with the page get their markers linked too.
  for (const item of list.querySelectorAll("li.msg.assistant")) {
    const numbers = new Set([...item.querySelectorAll(".citations li")].map((li) => Number(li.dataset.n)));
    const text = item.querySelector(".text");
    renderAnswer(text, text.textContent, item.dataset.messageId, numbers);
  }

  function parseEvent(raw) {
    let name = "message";
    const data = [];
    for (const line of raw.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    return { name, data: data.length ? JSON.parse(data.join("\n")) : null };
  }

  function setBusy(busy) {
    askButton.disabled = busy;
    stopButton.hidden = !busy;
    question.readOnly = busy;
  }

  async function ask(text) {
    const selected = [...form.querySelectorAll('input[name="collection"]:checked')].map((i) => i.value);
    const asked = el("li", "msg user");
    asked.append(el("div", "text", text));
    list.append(asked);
    const item = el("li", "msg assistant pending");
    const body = el("div", "text");
    item.append(body);
    list.append(item);
    status.textContent = "Sending…";
    setBusy(true);
    controller = new AbortController();
    let answered = false;
    try {
      const resp = await fetch("/chat/ask", {
        method: "POST", credentials: "same-origin", signal: controller.signal,
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream",
                   "X-CSRF-Token": window.appliance.csrf() },
        body: JSON.stringify({ question: text, collections: selected,
                               conversation_id: box.dataset.conversationId || null }),
      });
      if (!resp.ok) {
        const err = await resp.json().catch(() => ({ error: resp.statusText }));
        item.classList.add("failed");
        body.textContent = "";
        status.textContent = err.error || `Error ${resp.status}`;
        return;
      }
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const raw = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (raw.trim()) answered = handle(parseEvent(raw), item, body) || answered;
        }
      }
      if (!answered) status.textContent = "The answer stopped early.";
    } catch (error) {
      if (error.name === "AbortError") {
        item.classList.add("cancelled");
        item.append(el("p", "hint", "(stopped)"));
        status.textContent = "Stopped.";
      } else {
        status.textContent = "The connection failed: " + error.message;
      }
    } finally {
      controller = null;
      setBusy(false);
      item.classList.remove("pending");
    }
  }

  function handle(event, item, body) {
    const d = event.data || {};
    switch (event.name) {
      case "meta":
        if (!box.dataset.conversationId) {
          box.dataset.conversationId = String(d.conversation_id);
          history.replaceState(null, "", `/chat/${d.conversation_id}`);
          addToSidebar(d.conversation_id, item.previousElementSibling.textContent);
        }
        return false;
      case "queue":
        status.textContent = d.position > 0
          ? `Waiting for the model: you are number ${d.position} in line.`
          : "Waiting for the model…";
        return false;
      case "start":
        status.textContent = "Answering…";
        return false;
      case "token":
        body.textContent += d.text;
        return false;
      case "done": {
        status.textContent = "";
        item.dataset.messageId = String(d.message_id);
        const numbers = new Set(d.citations.map((c) => c.n));
        item.dataset.path = d.path || "generated";
        if (d.refused) {
          item.classList.add("refused");
          item.prepend(el("p", "not-found", "Not in the documents"));
        } else if (d.path === "quoted") {
          // The streamed text failed its check: the quote below replaces it, visibly.
          item.classList.add("quoted");
          const note = el("p", "quoted-note",
                          "Quoted from the source, word for word: the model's own answer did not pass the check");
          note.title = d.reason || "";
          item.prepend(note);
        }
        renderAnswer(body, d.answer, d.message_id, numbers);
        renderCitations(item, d.message_id, d.citations);
        addFeedback(item, d.message_id);
        return true;
      }
      case "error":
        status.textContent = d.message || "The answer failed.";
        item.classList.add("failed");
        return true;
      default:
        return false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text || controller) return;
    question.value = "";
    ask(text);
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stopButton.addEventListener("click", () => {
    if (controller) controller.abort();
  });
})();
