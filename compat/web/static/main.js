// The page: pick or drop files, arrange them, then convert or merge through the public API.

import { Api, ApiError } from "./api.js";
import { browserCanDraw, FileList, formatBytes, KIND_LABELS } from "./files.js";
import { jobRequest } from "./jobparams.js";
import { clearRecent, loadRecent, rememberJob } from "./recent.js";

const $ = (id) => document.getElementById(id);
const THUMB_SIZE = 160; // pixels of the longer side; shown at half that on the page
const UPLOADS_AT_ONCE = 2;
const UPLOAD_FRESH_MS = 50 * 60 * 1000; // the server keeps uploads for an hour
const POLL_MS = 1000;
const FINAL_STATES = new Set(["success", "failed", "aborted", "unknown"]);

const files = new FileList();
const rows = new Map(); // file id -> <li>
let capabilities = { officeDocuments: false, maxFileBytes: Infinity };
let running = false;
let uploadsRunning = 0;
const uploadQueue = [];

// ---- API key dialog ---------------------------------------------------------------------

function askForKey(message, rejectedBefore) {
  const dialog = $("key-dialog");
  const input = $("key-input");
  $("key-reason").textContent = rejectedBefore
    ? `That key was not accepted. ${message}`
    : `${message} The key is kept in this tab only, until you close it.`;
  input.value = "";
  return new Promise((resolve) => {
    const finish = (key) => {
      $("key-form").removeEventListener("submit", onSubmit);
      $("key-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(key);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) finish(key);
    };
    const onCancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    $("key-form").addEventListener("submit", onSubmit);
    $("key-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  });
}

const api = new Api(askForKey);

// ---- announcements ----------------------------------------------------------------------

let pendingAnnouncement = 0;

function announce(text) {
  const announcer = $("announcer");
  announcer.textContent = "";
  // A fresh node each time, so the same sentence twice is still read out. A newer
  // announcement replaces one still waiting: two quick moves are read out as where the
  // file ended up, never with the first one's position after the second's.
  window.clearTimeout(pendingAnnouncement);
  pendingAnnouncement = window.setTimeout(() => {
    announcer.textContent = text;
  }, 30);
}

// ---- adding files -----------------------------------------------------------------------

function refusal(item) {
  if (item.kind === "unknown") {
    return "This kind of file cannot go into a PDF here. Use images, PDFs or ZIP archives.";
  }
  if (item.kind === "office" && !capabilities.officeDocuments) {
    return "This server cannot convert Office documents (LibreOffice is not installed on it).";
  }
  if (item.size === 0) return "This file is empty.";
  if (item.size > capabilities.maxFileBytes) {
    return `This file is ${formatBytes(item.size)}; the server takes up to ${formatBytes(
      capabilities.maxFileBytes,
    )}.`;
  }
  return "";
}

function addFiles(picked) {
  const added = [];
  for (const file of picked) {
    const item = files.add(file);
    item.problem = refusal(item);
    if (item.problem) item.state = "refused";
    else queueUpload(item);
    if (item.kind === "image" && browserCanDraw(item.name)) drawInBrowser(item);
    added.push(item);
  }
  render();
  if (added.length) {
    announce(`${added.length} ${added.length === 1 ? "file" : "files"} added.`);
  }
}

async function drawInBrowser(item) {
  try {
    const bitmap = await createImageBitmap(item.file, {
      resizeHeight: THUMB_SIZE,
      resizeQuality: "medium",
    });
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve));
    if (!blob) throw new Error("no thumbnail");
    setThumbnail(item, blob);
    item.pageCount = item.pageCount || 1;
  } catch {
    item.browserFailed = true; // the server previews it once uploaded
    if (item.url) previewOnServer(item);
  }
  renderRow(item);
}

function setThumbnail(item, blob) {
  if (item.thumbnail) URL.revokeObjectURL(item.thumbnail);
  item.thumbnail = URL.createObjectURL(blob);
}

// ---- uploads ----------------------------------------------------------------------------

function queueUpload(item) {
  if (item.upload) return item.upload;
  item.state = "waiting";
  item.upload = new Promise((resolve) => uploadQueue.push({ item, resolve }));
  pumpUploads();
  return item.upload;
}

function pumpUploads() {
  while (uploadsRunning < UPLOADS_AT_ONCE && uploadQueue.length) {
    const { item, resolve } = uploadQueue.shift();
    if (!files.get(item.id)) {
      resolve(false);
      continue;
    }
    uploadsRunning += 1;
    upload(item)
      .then(resolve)
      .finally(() => {
        uploadsRunning -= 1;
        pumpUploads();
      });
  }
}

async function upload(item) {
  item.state = "uploading";
  item.progress = 0;
  item.problem = "";
  renderRow(item);
  try {
    item.url = await api.upload(item.file, item.name, (fraction) => {
      item.progress = fraction;
      updateProgress(item);
    });
    item.uploadedAt = Date.now();
    item.state = "uploaded";
  } catch (error) {
    item.state = "failed";
    item.problem = error.message;
    item.url = null;
  }
  item.upload = null;
  if (!files.get(item.id)) {
    forgetUpload(item);
    return false;
  }
  renderRow(item);
  updateSummary();
  const drawnHere = item.kind === "image" && browserCanDraw(item.name) && !item.browserFailed;
  if (item.url && (item.kind === "pdf" || (item.kind === "image" && !drawnHere))) {
    await previewOnServer(item);
  }
  return Boolean(item.url);
}

async function previewOnServer(item) {
  if (!item.url || (item.kind === "image" && item.thumbnail)) return;
  item.busy = true;
  renderRow(item);
  try {
    const preview = await api.thumbnail(item.url, item.password || "", THUMB_SIZE);
    setThumbnail(item, preview.blob);
    item.pageCount = preview.pageCount;
    item.problem = "";
    item.needsPassword = false;
  } catch (error) {
    item.problem = error.message;
    item.needsPassword = error.status === 441;
  }
  item.busy = false;
  if (files.get(item.id)) {
    renderRow(item);
    updateSummary();
  }
}

function forgetUpload(item) {
  if (item.url) api.deleteFile(item.url).catch(() => {});
  item.url = null;
}

// ---- the list ---------------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const HANDLE_SVG =
  '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">' +
  '<circle cx="5" cy="3" r="1.5"/><circle cx="11" cy="3" r="1.5"/>' +
  '<circle cx="5" cy="8" r="1.5"/><circle cx="11" cy="8" r="1.5"/>' +
  '<circle cx="5" cy="13" r="1.5"/><circle cx="11" cy="13" r="1.5"/></svg>';
const REMOVE_SVG =
  '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">' +
  '<path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" stroke-width="1.8" ' +
  'stroke-linecap="round"/></svg>';

function createRow(item) {
  const row = element("li", "file");
  row.dataset.id = item.id;

  const handle = element("button", "handle");
  handle.type = "button";
  handle.innerHTML = HANDLE_SVG;
  handle.setAttribute("aria-describedby", "reorder-help");
  handle.addEventListener("keydown", (event) => onHandleKey(event, item.id));
  handle.addEventListener("pointerdown", (event) => onHandlePointer(event, item.id));

  const thumb = element("div", "thumb");
  const info = element("div", "info");
  const name = element("p", "name", item.name);
  name.title = item.name;
  const meta = element("p", "meta");
  const progress = element("progress", "progress");
  progress.max = 1;
  progress.setAttribute("aria-label", `Uploading ${item.name}`);
  const problem = element("p", "problem");
  info.append(name, meta, progress, problem);

  let extra = null;
  if (item.kind === "pdf") {
    const fields = element("div", "pdf-fields");
    const pages = pdfField(item, "pages", "Pages", "text", "all (or e.g. 1-3,7,z)");
    const password = pdfField(item, "password", "Password", "password", "if it has one");
    fields.append(pages, password);
    extra = fields;
  }

  const remove = element("button", "remove");
  remove.type = "button";
  remove.innerHTML = REMOVE_SVG;
  remove.setAttribute("aria-label", `Remove ${item.name}`);
  remove.addEventListener("click", () => removeFile(item.id));

  row.append(handle, thumb, info, remove);
  if (extra) row.append(extra);
  rows.set(item.id, row);
  return row;
}

function pdfField(item, key, labelText, type, placeholder) {
  const wrap = element("div", "mini-field");
  const input = document.createElement("input");
  input.id = `${item.id}-${key}`;
  input.type = type;
  input.className = key;
  input.placeholder = placeholder;
  input.autocomplete = "off";
  input.spellcheck = false;
  input.addEventListener("input", () => {
    item[key] = input.value.trim();
  });
  if (key === "password") {
    input.addEventListener("change", () => {
      if (item.needsPassword || item.password) previewOnServer(item);
    });
  }
  const label = element("label", "", labelText);
  label.htmlFor = input.id;
  wrap.append(label, input);
  return wrap;
}

function describe(item) {
  const parts = [KIND_LABELS[item.kind], formatBytes(item.size)];
  if (item.pageCount !== null && item.kind !== "image") {
    parts.push(item.pageCount === 1 ? "1 page" : `${item.pageCount} pages`);
  } else if (item.kind === "image" && item.pageCount > 1) {
    parts.push(`${item.pageCount} pages`);
  }
  if (item.state === "waiting") parts.push("waiting to upload");
  if (item.state === "uploading") parts.push("uploading");
  return parts.join(" · ");
}

function renderRow(item) {
  const row = rows.get(item.id);
  if (!row) return;
  const position = files.indexOf(item.id) + 1;
  row.querySelector(".handle").setAttribute(
    "aria-label",
    `Move ${item.name}, position ${position} of ${files.items.length}`,
  );
  row.querySelector(".meta").textContent = describe(item);
  const thumb = row.querySelector(".thumb");
  const shown = thumb.querySelector("img");
  if (item.thumbnail && (!shown || shown.src !== item.thumbnail)) {
    const img = document.createElement("img");
    img.src = item.thumbnail;
    img.alt = "";
    thumb.replaceChildren(img);
  } else if (!item.thumbnail && !thumb.firstChild) {
    thumb.replaceChildren(element("span", "badge", badgeText(item)));
  }
  const problem = row.querySelector(".problem");
  problem.textContent = item.problem;
  problem.hidden = !item.problem;
  row.classList.toggle("has-problem", Boolean(item.problem));
  row.dataset.busy = String(item.busy || ["waiting", "uploading"].includes(item.state));
  const password = row.querySelector("input.password");
  if (password) password.setAttribute("aria-invalid", item.needsPassword ? "true" : "false");
  updateProgress(item);
}

function badgeText(item) {
  const dot = item.name.lastIndexOf(".");
  return dot > 0 ? item.name.slice(dot + 1, dot + 5).toUpperCase() : "FILE";
}

function updateProgress(item) {
  const progress = rows.get(item.id)?.querySelector(".progress");
  if (!progress) return;
  progress.hidden = item.state !== "uploading";
  progress.value = item.progress;
}

function render() {
  const list = $("file-list");
  const focused = document.activeElement;
  const focusedRow = focused && list.contains(focused) ? focused.closest(".file") : null;
  const focusedClass = focused ? focused.className : "";
  for (const [id, row] of rows) {
    if (!files.get(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  const order = files.items.map((item) => rows.get(item.id) || createRow(item));
  const current = Array.from(list.children);
  if (order.length !== current.length || order.some((row, index) => row !== current[index])) {
    list.replaceChildren(...order);
  }
  files.items.forEach(renderRow);
  if (focusedRow && focusedRow.isConnected && document.activeElement !== focused) {
    const again = focusedRow.querySelector(`.${focusedClass.split(" ")[0]}`);
    (again || focusedRow.querySelector(".handle")).focus();
  }
  updateSummary();
}

function updateSummary() {
  const count = files.items.length;
  $("list-bar").hidden = count === 0;
  $("empty-note").hidden = count > 0;
  const total = files.items.reduce((sum, item) => sum + item.size, 0);
  $("list-summary").textContent = `${count} ${count === 1 ? "file" : "files"} · ${formatBytes(
    total,
  )}`;
  const usable = files.items.filter((item) => item.state !== "refused");
  const allImages = usable.length > 0 && usable.every((item) => item.kind === "image");
  $("image-options").hidden = !allImages;
  $("merge-options").hidden = usable.length === 0 || allImages;
  $("run").textContent = allImages ? "Convert to PDF" : "Merge into one PDF";
  $("run").disabled = running || usable.length === 0;
  const left = files.items.filter((item) => item.state === "refused").length;
  $("run-note").textContent = left
    ? `${left} ${left === 1 ? "file is" : "files are"} left out (see the problem shown).`
    : "";
}

function removeFile(id) {
  const index = files.indexOf(id);
  const item = files.remove(id);
  if (!item) return;
  if (!item.upload) forgetUpload(item);
  if (item.thumbnail) URL.revokeObjectURL(item.thumbnail);
  render();
  announce(`${item.name} removed.`);
  const next = files.items[Math.min(index, files.items.length - 1)];
  if (next) rows.get(next.id).querySelector(".remove").focus();
  else $("pick").focus();
}

// ---- reordering: keyboard ---------------------------------------------------------------

function moveTo(id, target) {
  if (!files.move(id, target)) return;
  render();
  const item = files.get(id);
  rows.get(id).querySelector(".handle").focus();
  announce(`${item.name} moved to position ${files.indexOf(id) + 1} of ${files.items.length}.`);
}

function onHandleKey(event, id) {
  const index = files.indexOf(id);
  const targets = {
    ArrowUp: index - 1,
    ArrowDown: index + 1,
    Home: 0,
    End: files.items.length - 1,
  };
  if (!(event.key in targets)) return;
  event.preventDefault();
  moveTo(id, targets[event.key]);
}

// ---- reordering: dragging the handle (mouse, pen or touch) ------------------------------

function onHandlePointer(event, id) {
  if (event.button !== 0 || running) return;
  event.preventDefault();
  const handle = event.currentTarget;
  const row = rows.get(id);
  const startY = event.clientY;
  handle.setPointerCapture(event.pointerId);
  handle.focus();
  row.classList.add("dragging");
  let target = files.indexOf(id);

  const others = () => Array.from($("file-list").children).filter((other) => other !== row);
  const onMove = (move) => {
    row.style.transform = `translateY(${move.clientY - startY}px)`;
    const rest = others();
    target = rest.filter((other) => {
      const box = other.getBoundingClientRect();
      return move.clientY > box.top + box.height / 2;
    }).length;
    rest.forEach((other, index) => {
      other.classList.toggle("drop-before", index === target);
      other.classList.toggle("drop-after", index === rest.length - 1 && target === rest.length);
    });
  };
  const onEnd = () => {
    handle.removeEventListener("pointermove", onMove);
    handle.removeEventListener("pointerup", onEnd);
    handle.removeEventListener("pointercancel", onEnd);
    row.classList.remove("dragging");
    row.style.transform = "";
    for (const other of others()) other.classList.remove("drop-before", "drop-after");
    moveTo(id, target);
  };
  handle.addEventListener("pointermove", onMove);
  handle.addEventListener("pointerup", onEnd);
  handle.addEventListener("pointercancel", onEnd);
}

// ---- running a job ----------------------------------------------------------------------

function showState(text, { busy = false } = {}) {
  const job = $("job");
  const line = element("p", "job-state", text);
  const nodes = [line];
  if (busy) {
    const bar = element("progress", "job-progress");
    bar.setAttribute("aria-label", text);
    nodes.push(bar);
  }
  job.replaceChildren(...nodes);
}

function showError(message) {
  const box = $("job-error");
  const title = element("p", "error-title", "The PDF could not be made");
  const text = element("p", "error-message", message);
  text.id = "job-error-message";
  box.replaceChildren(title, text);
  box.hidden = false;
}

function clearError() {
  $("job-error").hidden = true;
  $("job-error").replaceChildren();
}

function resultCard(job) {
  const card = element("div", "result");
  card.append(element("p", "job-state", "Done. Your PDF is ready."));
  const link = element("a", "button primary download", `Download ${job.name}`);
  link.href = job.url;
  link.download = job.name;
  link.id = "download";
  card.append(link);
  card.append(element("p", "result-facts", facts(job)));
  // e.g. options this server does not know, which it reports instead of refusing
  if (job.notice) card.append(element("p", "result-note", job.notice));
  return card;
}

function facts(job) {
  const parts = [];
  if (job.pageCount != null) parts.push(job.pageCount === 1 ? "1 page" : `${job.pageCount} pages`);
  if (job.size != null) parts.push(formatBytes(job.size));
  if (job.validTill) parts.push(validity(job.validTill));
  return parts.join(" · ");
}

function validity(validTill) {
  const until = new Date(validTill);
  if (Number.isNaN(until.getTime())) return "";
  const minutes = Math.round((until.getTime() - Date.now()) / 60000);
  const clock = until.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  if (minutes <= 0) return `link expired ${clock}`;
  return `link valid until ${clock} (${minutes} min)`;
}

function markFailedInputs(message) {
  for (const item of files.items) {
    if (message.includes(`(${item.name})`) || message.includes(`${item.name}:`)) {
      item.problem = message;
      renderRow(item);
    }
  }
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

async function run() {
  if (running) return;
  running = true;
  clearError();
  updateSummary();
  try {
    const chosen = files.items.filter((item) => item.state !== "refused");
    const stale = chosen.filter(
      (item) => !item.url || Date.now() - item.uploadedAt > UPLOAD_FRESH_MS,
    );
    if (stale.length || chosen.some((item) => item.upload)) {
      showState(`Uploading ${chosen.length === 1 ? "1 file" : `${chosen.length} files`}…`, {
        busy: true,
      });
      for (const item of stale) {
        if (!item.upload) {
          item.url = null;
          queueUpload(item);
        }
      }
      await Promise.all(chosen.map((item) => item.upload));
    }
    const failed = chosen.filter((item) => !item.url);
    if (failed.length) {
      showState("");
      showError(`${failed[0].name}: ${failed[0].problem || "the upload did not finish."}`);
      return;
    }
    const request = jobRequest(chosen, options());
    showState("Starting the job…", { busy: true });
    const started = await api.startJob(request.route, request.params);
    const job = {
      jobId: started.jobId,
      name: started.name || request.params.name,
      url: started.url,
      kind: request.kind,
      created: new Date().toISOString(),
      state: "working",
      notice: started.message || "",
    };
    rememberJob(job);
    renderRecent();
    showState(`Working on ${job.name}…`, { busy: true });
    const outcome = await pollJob(job.jobId);
    await finishJob(job, outcome);
  } catch (error) {
    showState("");
    showError(error instanceof ApiError ? error.message : String(error.message || error));
  } finally {
    running = false;
    updateSummary();
  }
}

async function pollJob(jobId) {
  let wait = POLL_MS / 4;
  for (;;) {
    await sleep(wait);
    const answer = await api.checkJob(jobId);
    if (FINAL_STATES.has(answer.status)) return answer;
    wait = Math.min(POLL_MS, wait * 2);
  }
}

async function finishJob(job, outcome) {
  const done = {
    jobId: job.jobId,
    state: outcome.status,
    pageCount: outcome.pageCount ?? null,
    validTill: outcome.outputLinkValidTill || null,
    message: outcome.message || "",
    url: outcome.url || job.url,
  };
  if (outcome.status === "success") {
    done.size = await api.fileSize(done.url);
    rememberJob(done);
    $("job").replaceChildren(resultCard({ ...job, ...done }));
    $("download").focus();
  } else {
    rememberJob(done);
    showState(`The job ended: ${outcome.status}.`);
    showError(outcome.message || `The job ended with the state “${outcome.status}”.`);
    markFailedInputs(outcome.message || "");
  }
  renderRecent();
}

function options() {
  return {
    name: $("output-name").value.trim(),
    pageSize: $("page-size").value,
    fit: $("fit").value,
    margin: $("margin").value.trim(),
    autoOrient: $("auto-orient").checked,
    bookmarks: document.querySelector("input[name=bookmarks]:checked").value,
  };
}

// ---- recent jobs ------------------------------------------------------------------------

const STATE_LABELS = {
  working: "Working",
  success: "Ready",
  failed: "Failed",
  aborted: "Stopped",
  unknown: "Unknown to the server",
};

function renderRecent() {
  const jobs = loadRecent();
  const list = $("recent-list");
  list.replaceChildren(
    ...jobs.map((job) => {
      const item = element("li", `recent state-${job.state}`);
      const expired = job.validTill && new Date(job.validTill).getTime() < Date.now();
      const head = element("p", "recent-name");
      if (job.state === "success" && !expired) {
        const link = element("a", "", job.name);
        link.href = job.url;
        link.download = job.name;
        head.append(link);
      } else {
        head.append(element("span", "", job.name));
      }
      const state = element("span", "state", expired ? "Expired" : STATE_LABELS[job.state] || job.state);
      head.append(" ", state);
      const when = new Date(job.created);
      const detail = [when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" })];
      const more = facts(job);
      if (more) detail.push(more);
      item.append(head, element("p", "recent-facts", detail.join(" · ")));
      if (job.state !== "success" && job.message) {
        item.append(element("p", "recent-message", job.message));
      }
      return item;
    }),
  );
  $("recent-empty").hidden = jobs.length > 0;
  $("clear-recent").hidden = jobs.length === 0;
}

async function recheckRecent() {
  for (const job of loadRecent()) {
    if (job.state === "success" && job.validTill && new Date(job.validTill) < new Date()) continue;
    try {
      const answer = await api.checkJob(job.jobId, { quiet: true });
      rememberJob({
        jobId: job.jobId,
        state: answer.status,
        pageCount: answer.pageCount ?? job.pageCount ?? null,
        validTill: answer.outputLinkValidTill || job.validTill || null,
        message: answer.message || job.message || "",
      });
    } catch {
      break; // the server is away or wants a key: keep what we knew
    }
  }
  renderRecent();
}

// ---- wiring -----------------------------------------------------------------------------

function acceptDrops() {
  const zone = $("drop-zone");
  let depth = 0;
  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    zone.classList.add("active");
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove("active");
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    zone.classList.remove("active");
    addFiles(Array.from(event.dataTransfer.files));
  });
}

async function start() {
  try {
    capabilities = { ...capabilities, ...(await api.capabilities()) };
  } catch {
    // an older server: the defaults above hold
  }
  const kinds = ["images", "PDFs", "ZIP archives"];
  if (capabilities.officeDocuments) kinds.push("Office and text documents");
  const listed = `${kinds.slice(0, -1).join(", ")} and ${kinds.at(-1)}.`;
  $("accepted-kinds").textContent = listed[0].toUpperCase() + listed.slice(1);

  $("pick").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", (event) => {
    addFiles(Array.from(event.target.files));
    event.target.value = "";
  });
  acceptDrops();
  $("sort-name").addEventListener("click", () => {
    files.sortByName();
    render();
    announce("Sorted by name.");
  });
  $("sort-date").addEventListener("click", () => {
    files.sortByDate();
    render();
    announce("Sorted by date, oldest first.");
  });
  $("remove-all").addEventListener("click", () => {
    for (const item of files.clear()) {
      if (!item.upload) forgetUpload(item);
      if (item.thumbnail) URL.revokeObjectURL(item.thumbnail);
    }
    render();
    announce("All files removed.");
    $("pick").focus();
  });
  $("run").addEventListener("click", run);
  $("clear-recent").addEventListener("click", () => {
    clearRecent();
    renderRecent();
    announce("Recent jobs cleared.");
  });
  render();
  renderRecent();
  document.body.dataset.ready = "true";
  recheckRecent();
}

start();
