// The server's public API, as any client uses it: JSON answers in the
// {"error": true, "status": N, "message": "..."} shape, the x-api-key header,
// presigned uploads by PUT, async jobs polled at /job/check.

const KEY_STORAGE = "pdfbinder.apiKey";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function answerOf(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const failed = body && body.error === true && typeof body.status === "number";
  if (!response.ok || failed) {
    const status = body && typeof body.status === "number" ? body.status : response.status;
    const message = body && body.message ? body.message : `The server answered ${response.status}.`;
    throw new ApiError(status, message);
  }
  return body;
}

export class Api {
  // askForKey(message, rejectedBefore) resolves to a key, or null when the person cancels.
  constructor(askForKey) {
    this.askForKey = askForKey;
    this.pendingKey = null;
  }

  headers(extra = {}) {
    const key = storedKey();
    return key ? { ...extra, "x-api-key": key } : extra;
  }

  // One prompt however many requests met the 401 at the same time.
  async newKey(message, rejectedKey) {
    if (storedKey() && storedKey() !== rejectedKey) return storedKey();
    if (!this.pendingKey) {
      this.pendingKey = this.askForKey(message, Boolean(rejectedKey)).finally(() => {
        this.pendingKey = null;
      });
    }
    const key = await this.pendingKey;
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    return key;
  }

  // fetch() with the key; a 401 asks for a key (unless quiet) and tries again with it.
  async send(path, init = {}, { quiet = false } = {}) {
    for (;;) {
      const sentKey = storedKey();
      const response = await fetch(path, { ...init, headers: this.headers(init.headers) });
      if (response.status !== 401) return response;
      let message = "This server needs an API key.";
      try {
        message = (await response.json()).message || message;
      } catch {
        // not JSON: keep the plain sentence
      }
      const key = quiet ? null : await this.newKey(message, sentKey);
      if (!key) throw new ApiError(401, message);
    }
  }

  async post(path, params) {
    const response = await this.send(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(params),
    });
    return answerOf(response);
  }

  async capabilities() {
    return answerOf(await fetch("/capabilities"));
  }

  // Presigned upload: ask for a URL, then PUT the bytes there, reporting progress (0..1).
  async upload(file, name, onProgress) {
    const query = new URLSearchParams({ name, contenttype: file.type || "application/octet-stream" });
    const target = await answerOf(await this.send(`/file/upload/get-presigned-url?${query}`));
    await new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", target.presignedUrl);
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      request.addEventListener("load", () => {
        if (request.status === 200) {
          onProgress(1);
          resolve();
          return;
        }
        let message = `The upload was refused (${request.status}).`;
        try {
          message = JSON.parse(request.responseText).message || message;
        } catch {
          // keep the plain sentence
        }
        reject(new ApiError(request.status, message));
      });
      request.addEventListener("error", () => reject(new ApiError(0, "The upload was interrupted.")));
      request.send(file);
    });
    return target.url;
  }

  // The server's preview of an uploaded PDF or image: a PNG blob and the page count.
  async thumbnail(url, password, size) {
    const response = password
      ? await this.send("/file/thumbnail", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ url, size, password }),
        })
      : await this.send(`/file/thumbnail?${new URLSearchParams({ url, size })}`);
    if (!response.ok) await answerOf(response);
    const pages = Number(response.headers.get("X-Page-Count"));
    return { blob: await response.blob(), pageCount: Number.isFinite(pages) ? pages : null };
  }

  async startJob(route, params) {
    return this.post(route, { ...params, async: true });
  }

  // A job's state: working, success, failed, aborted or unknown (never "working" for an id
  // the server does not know, thanks to force).
  async checkJob(jobId, { quiet = false } = {}) {
    const response = await this.send(
      "/job/check",
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jobid: jobId, force: true }),
      },
      { quiet },
    );
    const body = await response.json();
    if (typeof body.status === "number" && body.status !== 200) {
      throw new ApiError(body.status, body.message || `The server answered ${body.status}.`);
    }
    return body;
  }

  // Size of a result file (a bare HEAD: downloads need no key); null when it cannot be told.
  async fileSize(url) {
    try {
      const response = await fetch(url, { method: "HEAD" });
      const length = Number(response.headers.get("Content-Length"));
      return response.ok && Number.isFinite(length) ? length : null;
    } catch {
      return null;
    }
  }

  async deleteFile(url) {
    return this.post("/file/delete", { url });
  }
}
