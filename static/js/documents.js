// Document uploads: drag and drop onto the file field, and a progress bar while sending.
// Without JavaScript the forms post normally and the server answers with a page.
(() => {
  for (const zone of document.querySelectorAll("[data-drop-zone]")) {
    const input = zone.querySelector("input[type=file]");
    const list = zone.querySelector("[data-drop-list]");
    const show = () => {
      list.replaceChildren(...Array.from(input.files).map((file) => {
        const item = document.createElement("li");
        item.textContent = `${file.name} (${Math.max(1, Math.round(file.size / 1024))} KB)`;
        return item;
      }));
    };
    input.addEventListener("change", show);
    // Files picked before this script ran (a slow load, or the browser restoring the form).
    show();
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("is-dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("is-dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("is-dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
      }
    });
  }

  for (const form of document.querySelectorAll("form[data-upload-form]")) {
    const box = form.querySelector("[data-upload-progress]");
    const bar = box.querySelector("progress");
    const percent = box.querySelector("[data-upload-percent]");
    const errors = form.querySelector("[data-upload-errors]");
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (progress) => {
        if (!progress.lengthComputable) return;
        const value = Math.round((100 * progress.loaded) / progress.total);
        bar.value = value;
        percent.textContent = `${value}%`;
      });
      request.addEventListener("load", () => {
        button.disabled = false;
        let answer = {};
        try { answer = JSON.parse(request.responseText); } catch (error) { answer = {}; }
        if (answer.ok) {
          bar.value = 100;
          percent.textContent = "100% — done";
          form.dataset.uploaded = "true";
          window.location.assign(answer.redirect);
          return;
        }
        box.hidden = true;
        const messages = Object.values(answer.errors || {}).flat().map((error) => error.message);
        errors.replaceChildren(...(messages.length ? messages : ["The upload failed. Please try again."]).map((text) => {
          const line = document.createElement("p");
          line.textContent = text;
          return line;
        }));
        errors.hidden = false;
      });
      request.addEventListener("error", () => {
        button.disabled = false;
        box.hidden = true;
        errors.textContent = "The upload was interrupted. Check your connection and try again.";
        errors.hidden = false;
      });
      errors.hidden = true;
      box.hidden = false;
      bar.value = 0;
      percent.textContent = "0%";
      button.disabled = true;
      request.send(new FormData(form));
    });
  }
})();
