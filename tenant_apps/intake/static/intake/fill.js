// Filling in a form: conditional questions, autosave, file uploads and the signature pad.
//
// Answers are saved to the server as the client types, when the page is hidden (a phone
// switching apps) and before it unloads, so a timeout or a reload loses nothing. Nothing is
// kept in the browser's storage: a shared computer must not keep health information.
(() => {
  const form = document.querySelector("form[data-intake-fill]");
  if (!form) return;
  const isPreview = form.hasAttribute("data-preview");
  const status = form.querySelector("[data-autosave-status]");
  const csrf = () => form.querySelector("[name=csrfmiddlewaretoken]")?.value || "";

  // Conditional display ---------------------------------------------------------------
  const answerOf = (key) => {
    const inputs = form.querySelectorAll(`[name="q_${CSS.escape(key)}"]`);
    const values = [];
    inputs.forEach((input) => {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) values.push(input.value);
      } else if (input.value) {
        values.push(input.value);
      }
    });
    return values;
  };
  const applyConditions = () => {
    const shown = new Set();
    form.querySelectorAll(".intake-q[data-key]").forEach((box) => {
      const rule = box.dataset.showIf ? JSON.parse(box.dataset.showIf) : null;
      const visible = !rule || (shown.has(rule.question) && answerOf(rule.question).includes(rule.value));
      box.hidden = !visible;
      if (visible) shown.add(box.dataset.key);
    });
  };
  form.addEventListener("change", applyConditions);
  form.addEventListener("input", applyConditions);

  // Autosave ----------------------------------------------------------------------------
  let dirty = false;
  let timer;
  const say = (text) => { if (status) status.textContent = text; };
  const showErrors = (errors) => {
    form.querySelectorAll("[data-error-for]").forEach((node) => {
      const message = errors[node.dataset.errorFor] || "";
      node.textContent = message;
      node.closest(".intake-q")?.classList.toggle("has-error", Boolean(message));
    });
  };
  const draftBody = () => {
    const body = new FormData(form);
    for (const name of [...body.keys()]) {
      if (name.startsWith("upload_") || name.startsWith("sig_")) body.delete(name);
    }
    return body;
  };
  const save = async ({ keepalive = false } = {}) => {
    if (isPreview || !dirty) return;
    dirty = false;
    clearTimeout(timer);
    try {
      const response = await fetch(form.dataset.draftUrl, {
        method: "POST", body: draftBody(), credentials: "same-origin", keepalive,
        headers: { "X-CSRFToken": csrf(), "Accept": "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      if (response.redirected || (response.ok && !data.saved_at)) {
        // The idle sign-out answered with the sign-in page: this change is not saved.
        dirty = true;
        say("You were signed out after a while without activity. Answers saved before then are kept; sign in again to carry on.");
      } else if (response.ok) {
        const time = new Date(data.saved_at || Date.now());
        say(`Saved at ${time.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })}.`);
        showErrors(data.errors || {});
      } else {
        dirty = response.status !== 409;
        say(data.error || "Not saved yet. We'll try again.");
      }
    } catch (error) {
      dirty = true;
      say("Not saved — check your connection. We'll try again.");
    }
  };
  const changed = (event) => {
    const name = event.target.name || "";
    if (!name.startsWith("q_")) return;
    dirty = true;
    say("Saving…");
    clearTimeout(timer);
    timer = setTimeout(save, 700);
  };
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save({ keepalive: true });
  });
  window.addEventListener("pagehide", () => save({ keepalive: true }));
  window.addEventListener("online", () => save());

  // File uploads: sent as soon as a file is chosen ----------------------------------------
  form.querySelectorAll("input[data-upload-question]").forEach((input) => {
    input.addEventListener("change", async () => {
      if (isPreview || !input.files.length) return;
      const key = input.dataset.uploadQuestion;
      const error = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
      const current = input.closest(".intake-q").querySelector("[data-file-current]");
      const body = new FormData();
      body.append("question", key);
      body.append("file", input.files[0]);
      say("Uploading…");
      try {
        const response = await fetch(form.dataset.uploadUrl, {
          method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrf() },
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(data.error || "The file could not be attached.");
        current.hidden = false;
        current.textContent = "Attached: ";
        const link = document.createElement("a");
        link.href = data.url;
        link.textContent = data.name;
        current.append(link);
        if (error) error.textContent = "";
        input.value = "";
        say("File attached.");
      } catch (failure) {
        if (error) error.textContent = failure.message;
        say("");
      }
    });
  });

  form.addEventListener("submit", () => {
    clearTimeout(timer);
    form.querySelector("[data-submit]")?.setAttribute("aria-busy", "true");
  });
  applyConditions();
})();

// The signature pad: pointer events cover mouse, pen and touch.
document.querySelectorAll("[data-signature-block]").forEach((block) => {
  const canvas = block.querySelector("[data-sig-canvas]");
  const output = block.querySelector("[data-sig-image]");
  const pad = block.querySelector("[data-sig-pad]");
  const typed = block.querySelector("[data-sig-typed]");
  const preview = block.querySelector("[data-sig-typed-preview]");
  const nameInput = block.querySelector("[data-sig-name]");
  const relationship = block.querySelector("[data-sig-relationship]");
  const detail = block.querySelector("[data-sig-detail]");
  const context = canvas.getContext("2d");
  context.lineWidth = 3;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = "#111";
  let drawing = false;
  let last = null;

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  };
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = point(event);
    context.beginPath();
    context.arc(last.x, last.y, 1.5, 0, Math.PI * 2);
    context.fillStyle = "#111";
    context.fill();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const next = point(event);
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(next.x, next.y);
    context.stroke();
    last = next;
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    output.value = canvas.toDataURL("image/png");
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("pointerleave", finish);
  block.querySelector("[data-sig-clear]")?.addEventListener("click", () => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    output.value = "";
  });
  if (output.value.startsWith("data:image/png;base64,")) {
    const image = new Image();
    image.onload = () => context.drawImage(image, 0, 0, canvas.width, canvas.height);
    image.src = output.value;
  }

  const showMethod = () => {
    const method = block.querySelector("[data-sig-method]:checked")?.value || "drawn";
    pad.hidden = method !== "drawn";
    typed.hidden = method !== "typed";
  };
  block.querySelectorAll("[data-sig-method]").forEach((radio) => radio.addEventListener("change", showMethod));
  nameInput?.addEventListener("input", () => { if (preview) preview.textContent = nameInput.value; });
  relationship?.addEventListener("change", () => { if (detail) detail.hidden = relationship.value !== "other"; });
  showMethod();
});
