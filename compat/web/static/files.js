// The files the person has chosen, in the order they go into the PDF.

const IMAGE_EXTENSIONS = new Set([
  "jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "tif", "tiff", "webp", "jp2", "j2k", "jpx",
  "jpf", "heic", "heif", "avif",
]);
const OFFICE_EXTENSIONS = new Set([
  "doc", "docx", "odt", "rtf", "txt", "xls", "xlsx", "ods", "csv", "ppt", "pptx", "odp",
]);
// Types the browser itself can draw as a thumbnail; others are previewed by the server.
const BROWSER_IMAGES = new Set(["jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "webp", "avif"]);

export const KIND_LABELS = {
  image: "Image",
  pdf: "PDF",
  zip: "ZIP archive",
  office: "Document",
  unknown: "File",
};

export function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

export function kindOf(name) {
  const extension = extensionOf(name);
  if (extension === "pdf") return "pdf";
  if (extension === "zip") return "zip";
  if (IMAGE_EXTENSIONS.has(extension)) return "image";
  if (OFFICE_EXTENSIONS.has(extension)) return "office";
  return "unknown";
}

export function browserCanDraw(name) {
  return BROWSER_IMAGES.has(extensionOf(name));
}

// Natural order: "scan 2" before "scan 10", letters compared without case.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

let nextId = 1;

export class FileList {
  constructor() {
    this.items = [];
  }

  add(file) {
    const item = {
      id: `f${nextId++}`,
      file,
      name: file.name,
      size: file.size,
      modified: file.lastModified,
      kind: kindOf(file.name),
      pages: "",
      password: "",
      pageCount: null,
      url: null,
      uploadedAt: 0,
      progress: 0,
      state: "waiting", // waiting, uploading, uploaded, failed
      problem: "",
      thumbnail: null,
      upload: null,
    };
    this.items.push(item);
    return item;
  }

  get(id) {
    return this.items.find((item) => item.id === id);
  }

  indexOf(id) {
    return this.items.findIndex((item) => item.id === id);
  }

  remove(id) {
    const index = this.indexOf(id);
    return index >= 0 ? this.items.splice(index, 1)[0] : null;
  }

  move(id, target) {
    const from = this.indexOf(id);
    const to = Math.max(0, Math.min(this.items.length - 1, target));
    if (from < 0 || from === to) return false;
    const [item] = this.items.splice(from, 1);
    this.items.splice(to, 0, item);
    return true;
  }

  sortByName() {
    this.items.sort((a, b) => collator.compare(a.name, b.name));
  }

  sortByDate() {
    this.items.sort((a, b) => a.modified - b.modified || collator.compare(a.name, b.name));
  }

  clear() {
    return this.items.splice(0, this.items.length);
  }
}
