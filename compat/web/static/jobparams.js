// Which route a set of files goes to, and the parameters it takes: the one place that
// knows the names of the `profiles` keys the page uses.

export const CONVERT_ROUTE = "/pdf/convert/from/image";
export const MERGE_ROUTE = "/pdf/merge2";

function imageProfiles(options) {
  const profiles = {};
  if (options.pageSize) profiles.PageSize = options.pageSize;
  if (options.pageSize && options.fit) profiles.Fit = options.fit;
  if (options.margin) profiles.Margin = options.margin;
  if (options.autoOrient) profiles.AutoOrient = true;
  return profiles;
}

function mergeProfiles(items, options) {
  const profiles = {};
  if (options.bookmarks === "nest") profiles.GenerateBookmarks = true;
  if (options.bookmarks === "drop") profiles.DropBookmarks = true;
  const inputs = items.map((item) => {
    const own = {};
    if (item.kind === "pdf" && item.pages) own.Pages = item.pages;
    if (item.kind === "pdf" && item.password) own.Password = item.password;
    return own;
  });
  if (inputs.some((own) => Object.keys(own).length)) profiles.Inputs = inputs;
  return profiles;
}

// items: the files in order (each uploaded, with .url); options: the form's values.
export function jobRequest(items, options) {
  const allImages = items.every((item) => item.kind === "image");
  const profiles = allImages ? imageProfiles(options) : mergeProfiles(items, options);
  const params = { url: items.map((item) => item.url).join(","), name: options.name || "result.pdf" };
  if (Object.keys(profiles).length) params.profiles = profiles;
  return { route: allImages ? CONVERT_ROUTE : MERGE_ROUTE, kind: allImages ? "convert" : "merge", params };
}
