// The pages' few actions, through the same API scripts use. The session cookie goes with
// each request on its own; the CSRF token of this session goes in a header.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function call(method, url, body) {
  const headers = { "X-CSRF-Token": csrf() };
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : response.statusText;
    throw new Error(detail);
  }
  return data;
}

function say(id, text) {
  const element = document.getElementById(id);
  if (element) element.textContent = text;
}

function uploadForm() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("job-message", "Uploading…");
    const body = new FormData();
    for (const file of form.querySelector('input[type="file"]').files) body.append("files", file, file.name);
    try {
      const job = await call("POST", "/api/jobs", body);
      window.location.assign(`/jobs/${job.id}`);
    } catch (error) { say("job-message", `Refused: ${error.message}`); }
  });
}

function folderForm() {
  const form = document.getElementById("folder-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const job = await call("POST", "/api/jobs/folder", { folder: form.elements.folder.value });
      window.location.assign(`/jobs/${job.id}`);
    } catch (error) { say("job-message", `Refused: ${error.message}`); }
  });
}

function liveProgress() {
  const section = document.getElementById("progress");
  if (!section) return;
  const id = section.dataset.job;
  const cancel = document.getElementById("cancel-job");
  const download = document.getElementById("download");
  const running = (status) => status === "queued" || status === "running";
  let sawRunning = false;
  async function refresh() {
    let job;
    try { job = await call("GET", `/api/jobs/${id}`); } catch (error) { return; }
    for (const element of section.querySelectorAll("[data-field]")) {
      const field = element.dataset.field;
      if (field === "bar") { element.max = job.total; element.value = job.total - job.pending; }
      else if (field in job) element.textContent = job[field];
    }
    if (cancel) cancel.hidden = !running(job.status);
    if (download) download.hidden = running(job.status);
    if (running(job.status)) { sawRunning = true; setTimeout(refresh, 1000); }
    else if (sawRunning) window.location.reload();  // the finished page lists what was held
  }
  if (cancel) cancel.addEventListener("click", async () => {
    try { await call("POST", `/api/jobs/${id}/cancel`); } catch (error) { return; }
    refresh();
  });
  refresh();
}

function decisionForm() {
  const form = document.getElementById("decision-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decisions = {};
    for (const row of form.querySelectorAll("tr[data-box]")) {
      const chosen = row.querySelector("input:checked");
      if (chosen) decisions[row.dataset.box] = chosen.value;
    }
    if (Object.keys(decisions).length === 0) { say("decision-message", "Choose redact or keep for a box first."); return; }
    try {
      const outcome = await call("POST", `/api/review/${form.dataset.item}/decisions`, { decisions });
      say("decision-message", outcome.released
        ? `Released: ${outcome.redacted} box(es) redacted, ${outcome.kept} kept.`
        : "Recorded. Boxes are still undecided.");
      if (outcome.released) form.hidden = true;
    } catch (error) { say("decision-message", `Refused: ${error.message}`); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  uploadForm();
  folderForm();
  liveProgress();
  decisionForm();
});
