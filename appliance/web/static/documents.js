// Upload with a progress bar; the size limit and type allow-list are checked here first
// (and again on the server, which is what counts).
"use strict";
(() => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("file");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const button = document.getElementById("upload");
  const maxBytes = Number(form.dataset.maxBytes);
  const allowed = form.dataset.allowed.split(",");

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    const dot = file.name.lastIndexOf(".");
    const suffix = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
    if (!allowed.includes(suffix)) {
      status.textContent = `${file.name}: type ${suffix || "(none)"} is not accepted.`;
      return;
    }
    if (file.size > maxBytes) {
      status.textContent = `${file.name} is larger than the limit of ${maxBytes} bytes.`;
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", window.appliance.csrf());
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener("load", () => {
      status.textContent = "Uploaded; reading, redacting and indexing…";
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        status.textContent = `${body.name}: ${body.status}` +
          (body.chunks ? `, ${body.chunks} chunks` : "") + (body.error ? ` (${body.error})` : "");
        setTimeout(() => window.location.reload(), 800);
      } else {
        bar.hidden = true;
        status.textContent = body.error || `Upload failed (${xhr.status}).`;
      }
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      status.textContent = "The upload failed: connection lost.";
    });
    bar.value = 0;
    bar.hidden = false;
    button.disabled = true;
    status.textContent = "Uploading…";
    xhr.send(new FormData(form));
  });
})();
