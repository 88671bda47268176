// Copy Link: copy the portal URL and say so to screen readers too.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const status = button.parentElement.querySelector(".copy-status");
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    if (status) status.textContent = "Link copied.";
  } catch (error) {
    if (status) status.textContent = "Couldn't copy; select the address above and copy it.";
  }
});

// Forms that ask before a destructive action (revoke, delete).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Idle sign-out warning, two minutes before the practice's limit.
(() => {
  const seconds = Number(document.body.dataset.idleSeconds || 0);
  if (!seconds) return;
  const banner = document.querySelector(".idle-warning");
  const warnAfter = Math.max(seconds - 120, seconds / 2) * 1000;
  let timer = setTimeout(() => { banner.hidden = false; }, warnAfter);
  document.querySelector("[data-stay-signed-in]")?.addEventListener("click", async () => {
    await fetch(window.location.href, { credentials: "same-origin" });
    banner.hidden = true;
    clearTimeout(timer);
    timer = setTimeout(() => { banner.hidden = false; }, warnAfter);
  });
})();

// Autosave: post the form's fields shortly after the client stops typing.
(() => {
  const form = document.querySelector("form[data-autosave]");
  if (!form) return;
  const status = form.querySelector(".autosave-status");
  let pending;
  const save = async () => {
    try {
      const response = await fetch(form.dataset.autosave, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value },
      });
      if (status) status.textContent = response.ok ? "Saved." : "Not saved — please sign in again; what you typed on the server is kept.";
    } catch (error) {
      if (status) status.textContent = "Not saved — check your connection.";
    }
  };
  form.addEventListener("input", () => {
    clearTimeout(pending);
    if (status) status.textContent = "Saving…";
    pending = setTimeout(save, 800);
  });
})();

// Password strength meter: length matters most (NIST SP 800-63B), variety a little.
(() => {
  const input = document.querySelector("[data-strength-meter]");
  const meter = document.getElementById("strength-meter");
  const label = document.getElementById("strength-label");
  if (!input || !meter) return;
  const words = ["Too short", "Weak", "Fair", "Good", "Strong"];
  input.addEventListener("input", () => {
    const value = input.value;
    let score = value.length >= 12 ? 2 : value.length >= 8 ? 1 : 0;
    if (value.length >= 16) score += 1;
    if (/[^a-zA-Z]/.test(value) && /[a-z]/i.test(value) && value.length >= 12) score += 1;
    score = Math.min(score, 4);
    meter.value = score;
    label.textContent = value ? words[score] : "";
  });
})();
