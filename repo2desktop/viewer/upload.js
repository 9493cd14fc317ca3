// Files into the desktop: "Upload files" or a drop onto the page sends each file to the Jupyter
// server the page came from (<base>/desktop/upload, behind the Jupyter login, XSRF-checked),
// which writes it into ~/Desktop and nowhere else. A progress line says how far it is; a name
// that exists already is replaced only when the user says so.
function put(url, file, xsrf, progress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.setRequestHeader("X-XSRFToken", xsrf);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (e) => { if (e.lengthComputable) progress(e.loaded / e.total); };
    request.onload = () => {
      let message = "";
      try { message = JSON.parse(request.responseText).message || ""; } catch (e) { /* not JSON */ }
      resolve({ status: request.status, message });
    };
    request.onerror = () => resolve({ status: 0, message: "the connection to the server failed" });
    request.send(file);
  });
}

// JupyterHub takes its login cookie on a script's request only with the _xsrf cookie's value
// in X-XSRFToken (as the page's session.json request does).
function xsrfHeaders() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("_xsrf="));
  return cookie ? { "X-XSRFToken": decodeURIComponent(cookie.slice("_xsrf=".length)) } : {};
}

export function enableUpload(toolbar, endpoint) {
  let info = null;
  const ready = async () => {
    if (!info) {
      const response = await fetch(endpoint, { cache: "no-store", headers: xsrfHeaders() });
      if (!response.ok) throw new Error(`upload is not available (HTTP ${response.status})`);
      info = await response.json();
    }
    return info;
  };

  async function uploadAll(files) {
    let done = 0;
    const failed = [];
    for (const file of files) {
      let where;
      try { where = await ready(); } catch (e) { toolbar.uploadStatus(`Upload failed: ${e.message}`); return; }
      const url = `${endpoint}?name=${encodeURIComponent(file.name)}`;
      const show = (part) => toolbar.uploadStatus(`Uploading ${file.name} (${done + 1} of ${files.length}): ${Math.round(part * 100)}%`);
      show(0);
      let result = await put(url, file, where.xsrf, show);
      if (result.status === 409 && window.confirm(`${result.message}\nReplace it?`)) {
        result = await put(`${url}&overwrite=1`, file, where.xsrf, show);
      }
      if (result.status === 201 || result.status === 200) done += 1;
      else failed.push(`${file.name}: ${result.message || `HTTP ${result.status}`}`);
    }
    const folder = info ? info.folder : "~/Desktop";
    toolbar.uploadStatus(failed.length
      ? `Uploaded ${done} of ${files.length} to ${folder}. Not uploaded: ${failed.join("; ")}`
      : `Uploaded ${done} file${done === 1 ? "" : "s"} to ${folder}.`);
  }

  toolbar.filesInput.addEventListener("change", () => {
    const files = [...toolbar.filesInput.files];
    toolbar.filesInput.value = "";
    if (files.length) uploadAll(files);
  });
  // Drops anywhere on the page; the canvas would otherwise let the browser open the file.
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  window.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth += 1; toolbar.dropZone.hidden = false; } });
  window.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) toolbar.dropZone.hidden = true; });
  window.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    toolbar.dropZone.hidden = true;
    uploadAll([...e.dataTransfer.files]);
  });
}
