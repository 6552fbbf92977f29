// Jobs started from this browser, kept in localStorage (never the API key).

const STORAGE = "pdfbinder.recentJobs";
const KEEP = 20;

export function loadRecent() {
  try {
    const jobs = JSON.parse(localStorage.getItem(STORAGE) || "[]");
    return Array.isArray(jobs) ? jobs.filter((job) => job && typeof job.jobId === "string") : [];
  } catch {
    return [];
  }
}

function save(jobs) {
  localStorage.setItem(STORAGE, JSON.stringify(jobs.slice(0, KEEP)));
}

// Add a job at the top, or update the one with the same id where it is.
export function rememberJob(job) {
  const jobs = loadRecent();
  const index = jobs.findIndex((known) => known.jobId === job.jobId);
  if (index >= 0) jobs[index] = { ...jobs[index], ...job };
  else jobs.unshift(job);
  save(jobs);
}

export function clearRecent() {
  localStorage.removeItem(STORAGE);
}
